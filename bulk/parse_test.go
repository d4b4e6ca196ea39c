package bulk_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
)

// A line with bytes that are not UTF-8 is Invalid, naming their offset,
// and nothing is sent for it: decoded, they would become U+FFFD, and
// another userId would be sent.
func TestLineNotUTF8(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	input := messageLine(1) + "\n" + `{"userId": "amzn1.ask.account.X` + "\xff" + `", "data": {}}` + "\n"
	var results []bulk.Result
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(input), bulk.Options{OnResult: func(r bulk.Result) { results = append(results, r) }})
	if err != nil || sum.Sent != 1 || sum.Invalid != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	for _, r := range results {
		var ve *alexa.ValidationError
		if r.Line == 2 && (r.Status != bulk.Invalid || !errors.As(r.Err, &ve) || !strings.Contains(r.Err.Error(), "UTF-8 at byte offset 31")) {
			t.Errorf("line 2: %v %v", r.Status, r.Err)
		}
	}
	if got := srv.Calls(alexatest.MessagesPath); got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
}

// A good line is parsed in one pass, and a bad one names every problem,
// both alike to what ParseMessage documents.
func TestParseMessageFastAndSlowAgree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, user, data string }{
		{`{"userId": "u", "data": { "k" : "v" }, "expiresAfterSeconds": 60}`, "u", `{"k":"v"}`},
		{`{"userId": "\u0075", "data": null, "expiresAfterSeconds": null}`, "u", `{}`},
		{`{"userId": "u"}`, "u", `{}`},
	} {
		user, m, err := bulk.ParseMessage([]byte(tc.line))
		if err != nil || user != tc.user || string(m.Data.(json.RawMessage)) != tc.data {
			t.Errorf("%s: %q %+v %v", tc.line, user, m, err)
		}
	}
	// A quoted number is not a number, as the API reads it.
	if _, _, err := bulk.ParseMessage([]byte(`{"userId": "u", "expiresAfterSeconds": "60"}`)); err == nil || !strings.Contains(err.Error(), "expiresAfterSeconds") {
		t.Errorf("quoted expiresAfterSeconds: %v", err)
	}
}

// A misspelt field in a line is refused, with the fields a line has:
// ignored, it would send its default instead, and no one reads a million
// lines' warnings.
func TestUnknownFieldsRefused(t *testing.T) {
	t.Parallel()
	check := func(kind string, err error, field string) {
		t.Helper()
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Violations, func(v alexa.Violation) bool {
			return v.Field == field && strings.HasPrefix(v.Rule, "is not a field of a line; the fields are ")
		}) {
			t.Errorf("%s: %v, want %s refused", kind, err, field)
		}
	}
	_, _, err := bulk.ParseMessage([]byte(`{"userId":"amzn1.ask.account.T","data":{},"expiresAfterSecond":60}`))
	check("message", err, "expiresAfterSecond")
	_, err = bulk.ParseEvent([]byte(`{"event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD","freshness":"NEW"},"messageGroup":{"creator":{"name":"A"},"count":1}}},"localizedAttributes":[{"locale":"en-US"}],"relevantAudience":{"type":"Multicast","payload":{}},"expiryTme":"2030-01-01T00:00:00Z"}`), time.Now(), proactive.DefaultRules())
	check("event", err, "expiryTme")
	_, err = bulk.ParseDataStore([]byte(`{"target":{"type":"USER","id":"u"},"commands":[{"type":"CLEAR"}],"bogus":1}`), bulk.DataStoreOptions{})
	check("datastore", err, "bogus")
	// A field in another case is read, as encoding/json does, and sent as
	// the API spells it.
	if _, err := bulk.ParseEvent([]byte(`{"Event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD","freshness":"NEW"},"messageGroup":{"creator":{"name":"A"},"count":1}}},"localizedAttributes":[{"locale":"en-US"}],"relevantAudience":{"type":"Multicast","payload":{}}}`), time.Now(), proactive.DefaultRules()); err != nil {
		t.Errorf("a field in another case: %v", err)
	}
}
