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
// otherwise), validate bodies with the same rules as the clients (400),
// refuse a repeated referenceId for the same audience (409), and answer
// 202. Faults can be injected: a forced status with Retry-After, latency,
// dropped connections, answers lost after the call was served, for the
// next N calls or a share of calls. Options.RateLimit makes it throttle
// (429 with Retry-After) as Alexa does.
//
// API errors are {"code": 400, "message": "INVALID_REQUEST: ..."}: code
// is the HTTP status as a number, as Amazon's SDKs (Python, Node, Java)
// decode it, and the symbolic reason leads the message. LWA errors keep
// LWA's {"error","error_description"}.
//
// Its limits are stated, not stumbled on:
//
//   - A proactive event body over proactive.MaxRequestBytes (1 MiB;
//     Options.MaxEventBytes) and a skill message whose data is over
//     messaging.MaxDataBytes (6 KB) as compact JSON are answered 413.
//   - A client gets Options.ReadTimeout (10 s) to send a request's
//     headers, and again its body; a slower one is cut off.
//   - Memory is bounded however long it runs: the emulator keeps the last
//     Options.MaxRecords (10,000) events, messages and token requests
//     each, remembers at most Options.MaxReferenceIDs referenceIds, each
//     until its event expires, and counts calls per route, not per path.
//     Events, Messages and the listings show what is kept.
//     Options.DiscardRecords keeps no event or message at all.
//   - The console keeps the last 1,000 API calls (fewer with a smaller
//     MaxRecords, none with DiscardRecords), each with at most 16 KiB of
//     its request body, and serves at most MaxConsoleStreams browsers.
//
// Unicast events reach only users subscribed to the event's name, as with
// Alexa: others are answered 403 until Subscribe (or the admin endpoint,
// or "alexa-oos emulator subscribe") subscribes them, unless
// Options.AllowUnsubscribed. Multicast events are recorded with the users
// subscribed to their name.
//
// With Options.SkillEndpoint the emulator calls your skill as Alexa does,
// each request signed with a CA and certificate of its own (SkillSigner):
// every accepted skill message as Messaging.MessageReceived, every
// subscription change as AlexaSkillEvent.ProactiveSubscriptionChanged, and
// SendGrant as Alexa.Authorization.Grant, whose code its token endpoint
// exchanges for the user's tokens (grant_type=authorization_code, then
// refresh_token). Requests go in the background, never delaying the API's
// answer, a few at a time and a bounded number waiting (more are skipped);
// the records show each answer's status and latency. With
// SkillOptions.FirstRetry, a skill message the skill did not take is sent
// again on Alexa's schedule until it expires. A skill under test
// trusts the emulator's CA; make the signer first, so that the skill
// trusts it before the emulator, which needs the skill's URL, exists:
//
//	signer, _ := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
//	mySkill := httptest.NewServer(&skill.Handler{Verifier: skill.NewVerifier(signer.VerifierOptions()), ...})
//	srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: mySkill.URL, Skill: alexatest.SkillOptions{Signer: signer}})
//	// in another process: alexatest.RemoteSkillVerifierOptions(ctx, emulatorURL)
//	...
//	srv.WaitSkill(ctx) // then look at what the skill received
//
// The Emulator is an http.Handler, so it can be served anywhere (serve it
// with HTTPServer for its timeouts); the alexa-oos command serves it with
// "alexa-oos emulator". Besides the APIs it answers, for tooling:
//
//	GET  /healthz             200 {"status":"ok"}, to any client
//	GET  /_emulator/events    accepted events (?audience= ?name= ?stage=)
//	GET  /_emulator/messages  accepted messages (?user=)
//	GET  /_emulator/tokens    token requests, no secrets (?scope= ?clientId=)
//	POST /_emulator/reset     forget everything accepted and issued
//
// and the skill side's paths listed at AdminSkill (the CA, subscriptions,
// grants, requests sent to the skill).
//
// It also serves a web console at / (ConsolePath): each user as a device
// card whose light ring shows unread notifications, each notification
// with the sentence Alexa would speak per locale, its stage, expiry and
// audience, skill messages, DataStore devices and their content, every
// API call (refusals with their code and message, and the request body)
// and the tokens issued (scope and expiry, never a token). It updates
// live over Server-Sent Events (ConsoleStreamPath), a slow browser
// skipping states rather than making the emulator hold them, and filters
// by user, event name and status. Its state is JSON at ConsoleStatePath.
//
// The /_emulator/ paths and the console answer clients on a loopback
// address only, unless Options.AllowRemoteAdmin. Listings are pages, oldest first, as Listing:
// {"items":[...],"nextCursor":"..."}, with ?limit= (default 100, at most
// 1000) and ?cursor=; reading one copies that page only. Everything the
// emulator writes, the console's page aside, is JSON with camelCase keys
// (LWA's own fields excepted) and without HTML escaping.
package alexatest
