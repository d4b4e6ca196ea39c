package proactive_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/proactive"
)

func TestPreviewSentences(t *testing.T) {
	en := proactive.LocalizedAttribute{"locale": "en-US"}
	tests := []struct {
		name, schema, payload string
		attrs                 proactive.LocalizedAttribute
		want                  string
	}{
		{"one message, no optional words", "AMAZON.MessageAlert.Activated",
			`{"state": {"status": "UNREAD"}, "messageGroup": {"creator": {"name": "Andy"}, "count": 1}}`, en,
			"You have 1 unread message from Andy."},
		{"two new messages", "AMAZON.MessageAlert.Activated",
			`{"state": {"status": "UNREAD", "freshness": "NEW"}, "messageGroup": {"creator": {"name": "Andy"}, "count": 2}}`, en,
			"You have 2 new unread messages from Andy."},
		{"overdue flagged urgent", "AMAZON.MessageAlert.Activated",
			`{"state": {"status": "FLAGGED", "freshness": "OVERDUE"}, "messageGroup": {"creator": {"name": "Bea"}, "count": 3, "urgency": "URGENT"}}`, en,
			"You have 3 overdue flagged urgent messages from Bea."},
		{"no messages", "AMAZON.MessageAlert.Activated",
			`{"state": {"status": "UNREAD"}, "messageGroup": {"creator": {"name": "Andy"}, "count": 0}}`, en,
			"You have 0 unread messages from Andy."},
		{"weather without source", "AMAZON.WeatherAlert.Activated",
			`{"weatherAlert": {"alertType": "THUNDER_STORM"}}`, en,
			"There is a thunder storm alert for your area."},
		{"weather with a literal source", "AMAZON.WeatherAlert.Activated",
			`{"weatherAlert": {"alertType": "HURRICANE", "source": "NOAA"}}`, en,
			"There is a hurricane alert for your area. Provided by NOAA."},
		{"sports without update", "AMAZON.SportsEvent.Updated",
			`{"sportsEvent": {"eventLeague": {"name": "localizedattribute:eventLeagueName"},
				"homeTeamStatistic": {"team": {"name": "Oranges"}, "score": 0},
				"awayTeamStatistic": {"team": {"name": "Apples"}, "score": 3}}}`,
			proactive.LocalizedAttribute{"locale": "en-US", "eventLeagueName": "Fruit League"},
			"Update on Fruit League: Oranges 0, Apples 3."},
		{"preorder", "AMAZON.OrderStatus.Updated",
			`{"state": {"status": "PREORDER_RECEIVED"}, "order": {"seller": {"name": "Fabrikam"}}}`, en,
			"Your preorder from Fabrikam has been received."},
		{"order received", "AMAZON.OrderStatus.Updated",
			`{"state": {"status": "ORDER_RECEIVED"}, "order": {"seller": {"name": "Fabrikam"}}}`, en,
			"Your order from Fabrikam has been received."},
		{"order preparing", "AMAZON.OrderStatus.Updated",
			`{"state": {"status": "ORDER_PREPARING"}, "order": {"seller": {"name": "Fabrikam"}}}`, en,
			"Your order from Fabrikam is being prepared."},
		{"out for delivery, arrival in an offset", "AMAZON.OrderStatus.Updated",
			`{"state": {"status": "ORDER_OUT_FOR_DELIVERY", "deliveryDetails": {"expectedArrival": "2026-11-25T14:05:00-05:00"}}, "order": {"seller": {"name": "Fabrikam"}}}`, en,
			"Your order from Fabrikam is out for delivery. It should arrive on Wednesday, November 25 at 7:05 PM UTC."},
		{"delivered says no arrival", "AMAZON.OrderStatus.Updated",
			`{"state": {"status": "ORDER_DELIVERED", "deliveryDetails": {"expectedArrival": "2026-11-25T14:05:00Z"}}, "order": {"seller": {"name": "Fabrikam"}}}`, en,
			"Your order from Fabrikam has been delivered."},
		{"reservation request rescheduled, naive time", "AMAZON.Occasion.Updated",
			`{"state": {"confirmationStatus": "RESCHEDULED"}, "occasion": {"occasionType": "RESERVATION_REQUEST",
				"subject": "dinner for two", "provider": {"name": "Chez Nous"}, "bookingTime": "2026-12-24T19:00:00"}}`, en,
			"Your reservation request at Chez Nous for dinner for two on Thursday, December 24 at 7:00 PM UTC has been rescheduled."},
		{"one garbage type", "AMAZON.TrashCollectionAlert.Activated",
			`{"alert": {"garbageTypes": ["GLASS"], "collectionDayOfWeek": "FRIDAY"}}`, en,
			"The coming Friday is glass garbage collection day."},
		{"three garbage types", "AMAZON.TrashCollectionAlert.Activated",
			`{"alert": {"garbageTypes": ["BOTTLES", "CANS", "WASTE_PAPER"], "collectionDayOfWeek": "MONDAY"}}`, en,
			"The coming Monday is bottles, cans and waste paper garbage collection day."},
		{"media without provider", "AMAZON.MediaContent.Available",
			`{"availability": {"startTime": "2026-12-01T00:00:00Z", "method": "STREAM"}, "content": {"name": "Sky Songs", "contentType": "ALBUM"}}`, en,
			"Sky Songs will stream on Tuesday, December 1 at 12:00 AM UTC."},
		{"invite to a rematch, relationship under inviter", "AMAZON.SocialGameInvite.Available",
			`{"invite": {"inviter": {"name": "Sam", "relationshipToInvitee": "CONTACT"}, "inviteType": "INVITE"},
				"game": {"offer": "REMATCH", "name": "Word Duel"}}`, en,
			"Your contact Sam invited you to a rematch of Word Duel."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proactive.Preview(request(tt.schema, decodeJSON(t, tt.payload), tt.attrs))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]proactive.Spoken{{Locale: "en-US", Text: tt.want}}, got); d != "" {
				t.Errorf("Preview (-want +got):\n%s", d)
			}
		})
	}
}

func TestPreviewLocales(t *testing.T) {
	payload := proactive.WeatherAlertActivated{WeatherAlert: proactive.WeatherAlert{
		Source: proactive.WeatherSourcePlaceholder, AlertType: proactive.AlertTornado,
	}}
	r := request(proactive.SchemaWeatherAlert, payload,
		proactive.LocalizedAttribute{"locale": "en-US", "source": "the National Weather Service"},
		proactive.LocalizedAttribute{"locale": "en-GB", "source": "the Met Office"})
	got, err := proactive.Preview(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []proactive.Spoken{
		{"en-US", "There is a tornado alert for your area. Provided by the National Weather Service."},
		{"en-GB", "There is a tornado alert for your area. Provided by the Met Office."},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Preview (-want +got):\n%s", d)
	}
}

func TestPreviewWithoutLocalizedAttributes(t *testing.T) {
	r := request(proactive.SchemaTrashCollection, proactive.TrashCollectionAlertActivated{Alert: proactive.TrashCollectionAlert{
		GarbageTypes: []proactive.GarbageType{proactive.GarbageBulky}, CollectionDayOfWeek: proactive.Sunday,
	}})
	got, err := proactive.Preview(r)
	want := []proactive.Spoken{{"", "The coming Sunday is bulky garbage collection day."}}
	if d := cmp.Diff(want, got); err != nil || d != "" {
		t.Errorf("Preview = %v (-want +got):\n%s", err, d)
	}
}

// TestPreviewIgnoresSendTimeFields previews a file as written: the CLI
// fills timestamp, expiryTime and referenceId only when sending.
func TestPreviewIgnoresSendTimeFields(t *testing.T) {
	r, err := proactive.Skeleton(proactive.SchemaOccasion, nil, proactive.Audience{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proactive.Preview(r); err != nil {
		t.Error(err)
	}
}

func TestPreviewInvalid(t *testing.T) {
	r := request(proactive.SchemaWeatherAlert, map[string]any{"weatherAlert": map[string]any{"alertType": "BLIZZARD"}})
	_, err := proactive.Preview(r)
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v; want a *alexa.ValidationError", err)
	}
	if len(ve.Violations) != 1 || ve.Violations[0].Field != "event.payload.weatherAlert.alertType" || ve.Op != "proactive.Preview" {
		t.Errorf("err = %v", err)
	}

	r = request(proactive.SchemaOrderStatus, map[string]any{
		"state": map[string]any{"status": "ORDER_SHIPPED"}, "order": map[string]any{"seller": map[string]any{"name": "localizedattribute:sellerName"}},
	}, proactive.LocalizedAttribute{"locale": "en-US"})
	if _, err := proactive.Preview(r); !errors.As(err, &ve) || ve.Violations[0].Field != "localizedAttributes[0].sellerName" {
		t.Errorf("unresolved placeholder: err = %v", err)
	}
}

func TestPreviewUnknownSchema(t *testing.T) {
	_, err := proactive.Preview(request("AMAZON.Foo.Bar", map[string]any{}))
	if err == nil || !strings.Contains(err.Error(), `"AMAZON.Foo.Bar"`) {
		t.Errorf("err = %v; want an unknown schema error", err)
	}
}
