// Package alexa holds what every Alexa out-of-session API client shares:
// configuration ([Config]), regions and endpoints, credentials that never
// print their secrets, the [HTTPClient] contract and its hardened default,
// the [Codec], the typed [Error] and [ValidationError], the [RetryPolicy],
// and the one call path ([Caller]) that the API packages build on.
//
// The API clients live in their own packages:
//
//   - [github.com/alexa-oos/alexa/lwa]: Login-with-Amazon access tokens
//   - [github.com/alexa-oos/alexa/proactive]: the Proactive Events API
//   - [github.com/alexa-oos/alexa/messaging]: the Skill Messaging API
//   - [github.com/alexa-oos/alexa/alexatest]: an in-process emulator of all three
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
package alexa
