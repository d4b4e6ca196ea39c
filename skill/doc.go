// Package skill is the receiving side of Alexa's out-of-session APIs: it
// verifies that requests come from Alexa, decodes the out-of-session
// requests into Go types, and routes them to your functions.
//
// A skill message sent with the messaging package arrives as a
// Messaging.MessageReceived request; a user subscribing to your proactive
// events arrives as AlexaSkillEvent.ProactiveSubscriptionChanged (until
// then Alexa refuses unicast events to them with 403); a user granting a
// permission you use out of session arrives as Alexa.Authorization.Grant
// with a code for their tokens.
//
// Shortest use, a skill hosted as a web service:
//
//	users := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{})
//	h := &skill.Handler{
//		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error {
//			var data map[string]string
//			return r.DecodeMessage(&data)
//		},
//		OnSubscriptionChanged: func(ctx context.Context, r *skill.ProactiveSubscriptionChanged) error {
//			log.Print(r.UserID(), r.EventNames())
//			return nil
//		},
//		OnGrant: skill.StoreGrant(users),
//	}
//	log.Fatal(http.ListenAndServeTLS(":443", "cert.pem", "key.pem", h))
//
// The Handler verifies every request as Amazon requires (a Verifier with
// the system roots unless you give one) and answers 400, with no detail,
// to any it refuses: the certificate chain URL (https, s3.amazonaws.com,
// port 443, a path under /echo.api/), the chain (valid at the request's
// arrival, trusted, issued to echo-api.amazon.com), the Signature-256
// header (RSA over SHA-256 of the raw body; the SHA-1 Signature header
// alone is refused) and the timestamp (within 150 s; an hour for the skill
// events Alexa may deliver late). It answers every handled request
// {"version":"1.0","response":{}}, which Alexa accepts.
//
// To verify within another router, use Verifier.Middleware, or
// Verifier.Verify with the raw body. In tests, alexatest.SkillSigner signs
// requests with a CA of its own that a Verifier can be told to trust.
package skill
