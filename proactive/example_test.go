package proactive_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
)

// The seed's sample: a weather alert multicast to every subscriber of the
// skill, sent to the development stage. Against real Alexa, build the
// client from alexa.Config{Credentials: ...} instead of the emulator's.
func ExampleClient_Create() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	client := proactive.NewClient(srv.Config())

	now := time.Now()
	res, err := client.Create(context.Background(), &proactive.Request{
		Timestamp:   now,
		ReferenceID: "1234",
		ExpiryTime:  now.Add(time.Hour),
		Event: proactive.Event{
			Name: "AMAZON.WeatherAlert.Activated",
			Payload: map[string]any{
				"weatherAlert": map[string]any{
					"alertType": "SNOW_STORM",
					"source":    "localizedattribute:source",
				},
			},
		},
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}},
		RelevantAudience:    proactive.ToAllSubscribers(),
	}, proactive.Development)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode)
	ev := srv.Events()[0]
	fmt.Println(ev.Stage, ev.Audience, ev.Request.Event.Name)
	// Output:
	// 202
	// DEVELOPMENT Multicast AMAZON.WeatherAlert.Activated
}

// Validation happens before anything is sent, and lists every problem.
func ExampleRequest_Validate() {
	err := (&proactive.Request{
		ReferenceID:      "order-1",
		Event:            proactive.Event{Name: "AMAZON.OrderStatus.Updated", Payload: map[string]any{}},
		RelevantAudience: proactive.Audience{Type: proactive.Unicast},
	}).Validate()
	fmt.Println(err)
	// Output:
	// proactive.Create: invalid request: timestamp: is required; expiryTime: is required; relevantAudience.payload.user: is required for a Unicast audience: the userId of the customer
}
