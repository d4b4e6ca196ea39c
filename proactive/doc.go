// Package proactive is the client of the Alexa Proactive Events API. It
// sends events (weather alerts, order updates, messages, …) that Alexa
// turns into notifications for the customers who subscribed to them.
//
// A [Request] is validated before anything is sent, and every problem is
// reported at once in an *alexa.ValidationError. Times go out as RFC 3339
// in UTC, a Multicast audience always carries "payload": {}, and a 409 on
// a retried call (the first attempt landed) is reported as success.
//
// The eight schemas Amazon documents are typed payloads, such as
// [WeatherAlertActivated]; [NewEvent] names the event after its type. A
// payload may also be a map or raw JSON: it is checked against the same
// declaration, the one [Preview] fills to say what Alexa will speak and
// [Skeleton] uses to write an example request.
//
// Shortest use:
//
//	c := proactive.NewClient(alexa.Config{Credentials: creds})
//	now := time.Now()
//	_, err := c.Create(ctx, &proactive.Request{
//		Timestamp:   now,
//		ReferenceID: "order-1234-shipped",
//		ExpiryTime:  now.Add(time.Hour),
//		Event: proactive.Event{Name: "AMAZON.WeatherAlert.Activated", Payload: map[string]any{
//			"weatherAlert": map[string]any{"alertType": "SNOW_STORM", "source": "localizedattribute:source"},
//		}},
//		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}},
//		RelevantAudience:    proactive.ToAllSubscribers(),
//	}, proactive.Development)
//
// Build the client once and keep it: it caches its access token. To share
// the token with other clients, set cfg.Tokens = lwa.NewProvider(cfg)
// before building them.
package proactive
