package skill_test

import (
	"testing"

	"github.com/alexa-oos/alexa/skill"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode checks that Decode never panics, that what it accepts has a
// type, and that encoding a decoded request and decoding it again gives
// the same request.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		messageBody, subscriptionBody, unsubscribedBody, permissionBody, grantBody, dataStoreBody, disabledBody, launchBody,
		`{"version":"1.0","request":{"type":"AlexaSkillEvent.SkillEnabled","timestamp":"2026-01-02T03:04:05.1+05:30","eventPublishingTime":"2026-01-02T03:04:05Z"}}`,
		`{"version":"1.0","request":{"type":"Messaging.MessageReceived","timestamp":"2026-01-02T03:04:05Z","message":null}}`,
		`{"version":"1.0","request":{"type":"Alexa.DataStore.Error","timestamp":"2026-01-02T03:04:05Z","error":{"type":"STORAGE_LIMIT_EXCEEDED","content":{"failedCommand":{"type":"CLEAR"},"message":"full"}}}}`,
		`{"request":{"type":"x","timestamp":"2026-01-02T03:04:05Z"},"session":null}`,
		`{"request":{"type":"","timestamp":"2026-01-02T03:04:05Z"}}`,
		`{"request":{"type":"LaunchRequest","timestamp":"9999-12-31T23:59:59.999999999-23:59"}}`,
		`[]`, `null`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := skill.Decode(body)
		if err != nil {
			if r != nil {
				t.Fatalf("Decode returned a request and an error: %v", err)
			}
			return
		}
		c := r.Info()
		if c == nil || c.Type == "" || c.Envelope == nil {
			t.Fatalf("accepted request without type or envelope: %#v", c)
		}
		out, err := skill.Encode(c.Envelope.Context, r)
		if err != nil {
			t.Fatalf("Encode of a decoded request: %v", err)
		}
		again, err := skill.Decode(out)
		if err != nil {
			t.Fatalf("Decode of an encoded request: %v\n%s", err, out)
		}
		if diff := cmp.Diff(r, again, cmpopts.IgnoreFields(skill.Common{}, "Envelope"), cmpopts.IgnoreFields(skill.Other{}, "Raw"), compactJSON, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the request (-first +second):\n%s", diff)
		}
	})
}
