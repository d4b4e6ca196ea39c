package proactive_test

import (
	"context"
	"fmt"
	"github.com/alexa-oos/alexa"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
)

// A weather alert multicast to every subscriber of the skill, sent to the
// development stage. Against real Alexa, build the
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

// Validation happens before anything is sent, and lists every problem:
// the envelope's rules and the schema's.
func ExampleRequest_Validate() {
	err := (&proactive.Request{
		ReferenceID: "storm-1",
		Event: proactive.Event{Name: "AMAZON.WeatherAlert.Activated", Payload: map[string]any{
			"weatherAlert": map[string]any{"alertType": "SNOWSTORM", "source": "localizedattribute:source"},
		}},
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US"}},
		RelevantAudience:    proactive.Audience{Type: proactive.Unicast},
	}).Validate()
	for _, v := range err.(*alexa.ValidationError).Violations {
		fmt.Println(v)
	}
	// Output:
	// timestamp: is required
	// expiryTime: is required
	// localizedAttributes[0].source: is required for locale en-US: the payload uses localizedattribute:source
	// relevantAudience.payload.user: is required for a Unicast audience: the userId of the customer
	// event.payload.weatherAlert.alertType: must be one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM (got "SNOWSTORM")
}

// A typed payload cannot misspell the event name or an enum value.
func ExampleNewEvent() {
	ev := proactive.NewEvent(proactive.WeatherAlertActivated{
		WeatherAlert: proactive.WeatherAlert{AlertType: proactive.AlertSnowStorm, Source: proactive.WeatherSourcePlaceholder},
	})
	req := &proactive.Request{Event: ev, LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}}}
	spoken, _ := proactive.Preview(req)
	fmt.Println(ev.Name)
	fmt.Println(spoken[0].Text)
	// Output:
	// AMAZON.WeatherAlert.Activated
	// There is a snow storm alert for your area. Provided by Foo.
}
