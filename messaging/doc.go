// Package messaging is the client of the Alexa Skill Messaging API. A
// message wakes the skill with a Messaging.MessageReceived request for one
// customer, so it can act for them outside a voice session (update a
// reminder, a list, …).
//
// Shortest use:
//
//	c := messaging.NewClient(alexa.Config{Credentials: creds})
//	_, err := c.Send(ctx, userID, &messaging.Message{Data: map[string]string{"reminderId": "42"}})
//
// Build the client once and keep it: it caches its access token. Clients
// built per request (as serverless handlers often are) share one token
// when they share a token provider: set cfg.Tokens = lwa.NewProvider(cfg)
// once, and build the clients from that cfg.
//
// # Delivery: at least once by default
//
// A skill message has no idempotency key: Alexa cannot tell a message sent
// twice from two messages. When the connection fails after the request was
// written in full, nobody knows whether the API accepted it. By default
// Send retries such failures (with the other transient ones), so a
// message is delivered at least once and, rarely, twice; Result's
// MaybeDuplicated then says so. Skills that must not act twice should
// carry an id of their own in Data and ignore repeats.
//
// With the AtMostOnce option, Send does not retry once the request was
// written: it returns an error matching alexa.ErrOutcomeUnknown, and the
// message was delivered once or not at all.
//
//	c := messaging.NewClient(cfg, messaging.AtMostOnce())
//	if _, err := c.Send(ctx, userID, msg); errors.Is(err, alexa.ErrOutcomeUnknown) {
//		// perhaps delivered: do not resend blindly
//	}
package messaging
