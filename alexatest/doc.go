// Package alexatest is an in-process emulator of Login with Amazon, the
// Proactive Events API and the Skill Messaging API, shaped like
// net/http/httptest: start it, point clients at it, assert on what
// arrived, close it.
//
//	srv := alexatest.NewServer(alexatest.Options{})
//	defer srv.Close()
//	c := messaging.NewClient(srv.Config())
//	c.Send(ctx, "amzn1.ask.account.X", &messaging.Message{Data: map[string]string{"k": "v"}})
//	msgs := srv.Messages() // what the emulator accepted
//
// It behaves as the real services do: tokens are bound to a scope and
// expire; the APIs require a valid bearer token of their scope (403
// otherwise), validate bodies with the same rules as the clients (400 with
// {"code","message"}), refuse a repeated referenceId for the same audience
// (409), and answer 202. Faults can be injected: a forced status with
// Retry-After, latency, dropped connections, answers lost after the call
// was served, for the next N calls or a share of calls. Options.RateLimit
// makes it throttle (429 with Retry-After) as Alexa does, and
// Options.DiscardRecords keeps its memory flat under millions of calls.
//
// The Emulator is an http.Handler, so it can be served anywhere; the
// alexa-oos command serves it with "alexa-oos emulator". Besides the APIs
// it answers, for tooling:
//
//	GET  /_emulator/events    accepted events, by audience
//	GET  /_emulator/messages  accepted messages, by user
//	GET  /_emulator/tokens    token requests (no secrets)
//	POST /_emulator/reset     forget everything accepted and issued
package alexatest
