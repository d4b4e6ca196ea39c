package skill_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/skill"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Bodies shaped as Amazon documents them.
const (
	messageBody = `{
  "version": "1.0",
  "context": {
    "System": {
      "application": {"applicationId": "amzn1.ask.skill.1"},
      "user": {"userId": "amzn1.ask.account.1"},
      "apiEndpoint": "https://api.amazonalexa.com",
      "apiAccessToken": "eyJ0eXAiOiJKV1Q.secret"
    }
  },
  "request": {
    "type": "Messaging.MessageReceived",
    "requestId": "amzn1.echo-api.request.1",
    "timestamp": "2022-10-03T16:20:50.52Z",
    "message": {"reminderId": "42", "nested": {"a": [1, 2]}}
  }
}`
	subscriptionBody = `{
  "version": "1.0",
  "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"}, "user": {"userId": "amzn1.ask.account.1"}, "apiEndpoint": "https://api.amazonalexa.com"}},
  "request": {
    "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
    "requestId": "amzn1.echo-api.request.2",
    "timestamp": "2026-01-02T03:04:05Z",
    "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}, {"eventName": "AMAZON.MessageAlert.Activated"}]}
  }
}`
	unsubscribedBody = `{"version":"1.0","context":{"System":{"user":{"userId":"u"}}},"request":{"type":"AlexaSkillEvent.ProactiveSubscriptionChanged","requestId":"r","timestamp":"2026-01-02T03:04:05Z","body":{}}}`
	permissionBody   = `{
  "version": "1.0",
  "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"}, "user": {"userId": "amzn1.ask.account.1"}}},
  "request": {
    "type": "AlexaSkillEvent.SkillPermissionAccepted",
    "requestId": "r3",
    "timestamp": "2026-01-02T03:04:05+01:00",
    "eventCreationTime": "2026-01-02T02:04:00Z",
    "eventPublishingTime": "2026-01-02T02:04:01Z",
    "body": {
      "acceptedPermissions": [{"scope": "alexa::alerts:reminders:skill:readwrite"}],
      "acceptedPersonPermissions": [{"scope": "alexa::profile:given_name:read"}]
    }
  }
}`
	grantBody = `{
  "version": "1.0",
  "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"}, "user": {"userId": "amzn1.ask.account.1"}}},
  "request": {
    "type": "Alexa.Authorization.Grant",
    "requestId": "r4",
    "timestamp": "2026-01-02T03:04:05.123456789Z",
    "body": {"grant": {"type": "OAuth2.AuthorizationCode", "code": "ANUbUKCJqlBOpMhwYWxU"}}
  }
}`
	dataStoreBody = `{
  "version": "1.0",
  "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"}, "user": {"userId": "amzn1.ask.account.1"}}},
  "request": {
    "type": "Alexa.DataStore.Error",
    "requestId": "r5",
    "timestamp": "2026-01-02T03:04:05Z",
    "locale": "en-US",
    "error": {
      "type": "DEVICE_UNAVAILABLE",
      "content": {"deviceId": "amzn1.ask.device.1", "commands": [{"type": "PUT_OBJECT", "namespace": "n", "key": "k", "content": {}}]}
    }
  }
}`
	disabledBody = `{"version":"1.0","context":{"System":{"application":{"applicationId":"a"},"user":{"userId":"u"}}},"request":{"type":"AlexaSkillEvent.SkillDisabled","requestId":"r6","timestamp":"2026-01-02T03:04:05Z","eventCreationTime":"2026-01-02T03:04:00Z","body":{"userInformationPersistenceStatus":"NOT_PERSISTED"}}}`
	launchBody   = `{"version":"1.0","session":{"new":true,"sessionId":"s","application":{"applicationId":"a"},"user":{"userId":"u"}},"context":{"System":{"application":{"applicationId":"a"},"user":{"userId":"u"},"device":{"deviceId":"d"}}},"request":{"type":"LaunchRequest","requestId":"r7","timestamp":"2026-01-02T03:04:05Z","locale":"de-DE"}}`
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func decode(t *testing.T, body string) skill.Request {
	t.Helper()
	r, err := skill.Decode([]byte(body))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return r
}

func TestDecodeMessageReceived(t *testing.T) {
	t.Parallel()
	r, ok := decode(t, messageBody).(*skill.MessageReceived)
	if !ok {
		t.Fatalf("Decode returned %T, want *skill.MessageReceived", r)
	}
	if r.Type != skill.TypeMessageReceived || r.RequestID != "amzn1.echo-api.request.1" || !r.Timestamp.Equal(mustTime("2022-10-03T16:20:50.52Z")) {
		t.Errorf("common fields: %+v", r.Common)
	}
	if r.UserID() != "amzn1.ask.account.1" || r.ApplicationID() != "amzn1.ask.skill.1" ||
		r.APIEndpoint() != "https://api.amazonalexa.com" || r.APIAccessToken() != "eyJ0eXAiOiJKV1Q.secret" {
		t.Errorf("context: user %q app %q endpoint %q", r.UserID(), r.ApplicationID(), r.APIEndpoint())
	}
	var data struct {
		ReminderID string `json:"reminderId"`
		Nested     struct{ A []int }
	}
	if err := r.DecodeMessage(&data); err != nil {
		t.Fatal(err)
	}
	if data.ReminderID != "42" || len(data.Nested.A) != 2 {
		t.Errorf("message data = %+v", data)
	}
	if r.Envelope == nil || r.Envelope.Session != nil || r.Envelope.Version != "1.0" {
		t.Errorf("envelope = %+v", r.Envelope)
	}
}

func TestDecodeSubscriptionChanged(t *testing.T) {
	t.Parallel()
	r := decode(t, subscriptionBody).(*skill.ProactiveSubscriptionChanged)
	if diff := cmp.Diff([]string{"AMAZON.WeatherAlert.Activated", "AMAZON.MessageAlert.Activated"}, r.EventNames()); diff != "" {
		t.Errorf("EventNames (-want +got):\n%s", diff)
	}
	u := decode(t, unsubscribedBody).(*skill.ProactiveSubscriptionChanged)
	if names := u.EventNames(); names == nil || len(names) != 0 {
		t.Errorf("unsubscribed from all: EventNames = %#v, want empty, non-nil", names)
	}
}

func TestDecodePermissionAccepted(t *testing.T) {
	t.Parallel()
	r := decode(t, permissionBody).(*skill.SkillPermissionAccepted)
	if diff := cmp.Diff([]string{"alexa::alerts:reminders:skill:readwrite", "alexa::profile:given_name:read"}, r.Body.Scopes()); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
	if !r.EventCreationTime.Equal(mustTime("2026-01-02T02:04:00Z")) || !r.Timestamp.Equal(mustTime("2026-01-02T02:04:05Z")) {
		t.Errorf("times: created %v, timestamp %v", r.EventCreationTime, r.Timestamp)
	}
}

func TestDecodeGrantHidesCode(t *testing.T) {
	t.Parallel()
	r := decode(t, grantBody).(*skill.AuthorizationGrant)
	if r.Body.Grant.Type != skill.GrantTypeAuthorizationCode || r.Body.Grant.Code != "ANUbUKCJqlBOpMhwYWxU" {
		t.Fatalf("grant = %#v", r.Body.Grant)
	}
	if r.Timestamp.Nanosecond() != 123456789 {
		t.Errorf("nanoseconds lost: %v", r.Timestamp)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("grant", "code", r.Body.Grant.Code, "system", r.Envelope.Context.System.APIAccessToken)
	for _, out := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r.Body), fmt.Sprintf("%v", *r), logged.String()} {
		if strings.Contains(out, "ANUbUKCJqlBOpMhwYWxU") {
			t.Errorf("printed grant shows the code: %s", out)
		}
	}
	m := decode(t, messageBody).(*skill.MessageReceived)
	if out := fmt.Sprintf("%+v", m.Envelope.Context); strings.Contains(out, "secret") {
		t.Errorf("printed context shows the API access token: %s", out)
	}
}

func TestDecodeDataStoreError(t *testing.T) {
	t.Parallel()
	r := decode(t, dataStoreBody).(*skill.DataStoreError)
	if r.Error.Type != "DEVICE_UNAVAILABLE" || r.Error.Content.DeviceID != "amzn1.ask.device.1" || r.Locale != "en-US" {
		t.Errorf("error = %+v", r.Error)
	}
	var cmds []map[string]any
	if err := json.Unmarshal(r.Error.Content.Commands, &cmds); err != nil || len(cmds) != 1 || cmds[0]["type"] != "PUT_OBJECT" {
		t.Errorf("commands = %s (%v)", r.Error.Content.Commands, err)
	}
}

func TestDecodeSkillDisabledAndOthers(t *testing.T) {
	t.Parallel()
	d := decode(t, disabledBody).(*skill.SkillDisabled)
	if d.Body == nil || d.Body.UserInformationPersistenceStatus != "NOT_PERSISTED" {
		t.Errorf("body = %+v", d.Body)
	}
	o, ok := decode(t, launchBody).(*skill.Other)
	if !ok {
		t.Fatalf("LaunchRequest decoded as %T, want *skill.Other", o)
	}
	if o.Type != "LaunchRequest" || o.Locale != "de-DE" || !strings.Contains(string(o.Raw), `"LaunchRequest"`) {
		t.Errorf("other = %+v raw %s", o.Common, o.Raw)
	}
	if o.Envelope.Session == nil || o.Envelope.Session.SessionID != "s" || o.Envelope.Context.System.Device.DeviceID != "d" {
		t.Errorf("session/device lost: %+v", o.Envelope)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, field string }{
		{`not json`, ""},
		{`{"version":"1.0"}`, "request"},
		{`{"version":"1.0","request":null}`, "request"},
		{`{"version":"1.0","request":{"timestamp":"2026-01-02T03:04:05Z"}}`, "request.type"},
		{`{"version":"1.0","request":{"type":"LaunchRequest"}}`, "request.timestamp"},
		{`{"version":"1.0","request":{"type":"LaunchRequest","timestamp":"02/01/2026"}}`, "request.timestamp"},
		{`{"version":"1.0","request":{"type":"LaunchRequest","timestamp":"2026-01-02T03:04:05"}}`, "request.timestamp"},
		{`{"version":"1.0","request":{"type":7,"timestamp":"2026-01-02T03:04:05Z"}}`, "request.type"},
		{`{"version":"1.0","request":{"type":"AlexaSkillEvent.ProactiveSubscriptionChanged","timestamp":"2026-01-02T03:04:05Z","body":{"subscriptions":"all"}}}`, "request.body.subscriptions"},
		{`{"version":"1.0","context":{"System":{"user":"u"}},"request":{"type":"LaunchRequest","timestamp":"2026-01-02T03:04:05Z"}}`, "context.System.user"},
	} {
		_, err := skill.Decode([]byte(c.body))
		var de *skill.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Decode(%s) = %v, want *skill.DecodeError", c.body, err)
			continue
		}
		if de.Field != c.field {
			t.Errorf("Decode(%s): Field %q, want %q (%v)", c.body, de.Field, c.field, err)
		}
	}
}

// compactJSON compares raw JSON by content, not spacing.
var compactJSON = cmp.FilterValues(func(a, b json.RawMessage) bool { return len(a) > 0 || len(b) > 0 },
	cmp.Transformer("compact", func(m json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Compact(&b, m); err != nil {
			return "invalid: " + string(m)
		}
		return b.String()
	}))

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, body := range []string{messageBody, subscriptionBody, permissionBody, grantBody, dataStoreBody, disabledBody, launchBody} {
		r := decode(t, body)
		out, err := skill.Encode(r.Info().Envelope.Context, r)
		if err != nil {
			t.Fatal(err)
		}
		again := decode(t, string(out))
		if diff := cmp.Diff(r, again, cmpopts.IgnoreFields(skill.Common{}, "Envelope"), cmpopts.IgnoreFields(skill.Other{}, "Raw"), compactJSON); diff != "" {
			t.Errorf("round trip of %s (-first +second):\n%s", r.Info().Type, diff)
		}
	}
}

func TestEncodeSetsType(t *testing.T) {
	t.Parallel()
	out, err := skill.Encode(skill.Context{System: skill.System{User: skill.User{UserID: "u"}}},
		&skill.MessageReceived{Common: skill.Common{RequestID: "r", Timestamp: mustTime("2026-01-02T03:04:05Z")}, Message: json.RawMessage(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := decode(t, string(out)).(*skill.MessageReceived)
	if !ok || r.UserID() != "u" || string(r.Message) != `{"k":"v"}` || r.Envelope.Version != "1.0" {
		t.Errorf("encoded %s decoded to %#v", out, r)
	}
}
