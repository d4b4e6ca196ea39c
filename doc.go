// Package alexa holds what every Alexa out-of-session API client shares:
// configuration ([Config]), regions and endpoints, credentials that never
// print their secrets, the [HTTPClient] contract and its hardened default,
// the [Codec], the typed errors ([Error], [TransportError],
// [ValidationError]) with their sentinels, the [RetryPolicy] and the
// [TokenProvider] contract.
//
// The API clients live in their own packages:
//
//   - [github.com/alexa-oos/alexa/lwa]: Login-with-Amazon access tokens
//   - [github.com/alexa-oos/alexa/proactive]: the Proactive Events API
//   - [github.com/alexa-oos/alexa/messaging]: the Skill Messaging API
//   - [github.com/alexa-oos/alexa/datastore]: the DataStore API
//   - [github.com/alexa-oos/alexa/skill]: the receiving side, in the skill
//   - [github.com/alexa-oos/alexa/alexatest]: an in-process emulator of them all
//
// The shortest working use sends a skill message:
//
//	cfg := alexa.Config{
//		Credentials: alexa.Credentials{ClientID: id, ClientSecret: secret},
//		Endpoint:    alexa.EndpointEU,
//	}
//	_, err := messaging.NewClient(cfg).Send(ctx, userID, &messaging.Message{
//		Data: map[string]string{"reminderId": "42"},
//	})
//
// The zero Config (apart from its credentials) targets North America with
// the default HTTP client, JSON and three attempts per call.
//
// Each client caches its access tokens in its token provider. Clients
// built from one Config share tokens only when they share the provider:
//
//	cfg.Tokens = lwa.NewProvider(cfg)
//	events, messages := proactive.NewClient(cfg), messaging.NewClient(cfg)
//
// Errors are short and stable, one line each; an *Error or *lwa.Error
// also says what usually causes it with a Hint method.
package alexa
