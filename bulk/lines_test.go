package bulk_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
)

func TestParseMessage(t *testing.T) {
	t.Parallel()
	user, m, err := bulk.ParseMessage([]byte(`{"userId": "u", "data": { "k" : "v" }}`))
	if err != nil || user != "u" || string(m.Data.(json.RawMessage)) != `{"k":"v"}` || m.ExpiresAfterSeconds != 3600 {
		t.Fatalf("%q %+v %v", user, m, err)
	}
	for line, fields := range map[string]string{
		`{"userId": 5, "expiresAfterSeconds": "60"}`:   "userId expiresAfterSeconds",
		`{"userId": "u", "expiresAfterSeconds": 0}`:    "expiresAfterSeconds",
		`{"userId": "u", "data": [1]}`:                 "data",
		`{"data": {}, "expiresAfterSeconds": 86401}`:   "userId expiresAfterSeconds",
		`{"userId": "u", "expiresAfterSeconds": 60.5}`: "expiresAfterSeconds",
		`{"userId": "u"`: "line",
		`"u"`:            "line",
	} {
		_, _, err := bulk.ParseMessage([]byte(line))
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v", line, err)
			continue
		}
		var got []string
		for _, v := range ve.Violations {
			got = append(got, v.Field)
		}
		if strings.Join(got, " ") != fields {
			t.Errorf("%s: violations on %v, want %s: %v", line, got, fields, err)
		}
	}
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second) // an expiryTime in the past is refused
	strict := proactive.DefaultRules()
	strict.StrictReferenceID = true
	line := []byte(eventLine(3))
	req, err := bulk.ParseEvent(line, now, strict)
	if err != nil {
		t.Fatal(err)
	}
	id := bulk.DeriveReferenceID(line)
	if req.ReferenceID != id || len(id) != 32 || id != bulk.LineID(line).String() || !req.Timestamp.Equal(now) || !req.ExpiryTime.Equal(now.Add(proactive.DefaultLifetime)) {
		t.Errorf("filled %+v", req)
	}
	// A given referenceId is kept.
	req, err = bulk.ParseEvent([]byte(strings.Replace(eventLine(3), `{"event"`, `{"referenceId": "mine-1", "event"`, 1)), now, proactive.DefaultRules())
	if err != nil || req.ReferenceID != "mine-1" {
		t.Errorf("%v %v", req, err)
	}
	if _, err := bulk.ParseEvent([]byte(`{"event": {"name": "AMAZON.MessageAlert.Activated"}}`), now, proactive.DefaultRules()); err == nil {
		t.Error("an event without payload or audience passed")
	}
	if _, err := bulk.ParseEvent([]byte(`nope`), now, proactive.DefaultRules()); err == nil {
		t.Error("not JSON passed")
	}
}

// An item's identity is its content: spacing outside strings does not
// change it, anything else does, and its place in the input plays no part.
func TestLineID(t *testing.T) {
	t.Parallel()
	line := `{"userId": "amzn1.ask.account.A", "data": {"k": "a b"}}`
	id := bulk.LineID([]byte(line))
	same := []string{
		"  " + line + " \r",
		`{"userId":"amzn1.ask.account.A","data":{"k":"a b"}}`,
		"{\t\"userId\" : \"amzn1.ask.account.A\",\n \"data\":{ \"k\":\"a b\" } }",
	}
	for _, s := range same {
		if got := bulk.LineID([]byte(s)); got != id {
			t.Errorf("LineID(%q) = %s, want %s as for %q", s, got, id, line)
		}
	}
	other := []string{
		`{"userId": "amzn1.ask.account.A", "data": {"k": "a  b"}}`, // inside a string
		`{"userId": "amzn1.ask.account.B", "data": {"k": "a b"}}`,
		`{"data": {"k": "a b"}, "userId": "amzn1.ask.account.A"}`, // another order is another line
		`not json`,
	}
	for _, s := range other {
		if got := bulk.LineID([]byte(s)); got == id {
			t.Errorf("LineID(%q) = LineID(%q)", s, line)
		}
	}
	if bulk.LineID([]byte(" not json ")) != bulk.LineID([]byte("not json")) {
		t.Error("spaces around a line that is not JSON change its ID")
	}
	if s := id.String(); len(s) != 32 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("ItemID.String() = %q", s)
	}
}
