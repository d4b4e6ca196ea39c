package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/google/go-cmp/cmp"
)

func TestCheckUserID(t *testing.T) {
	t.Parallel()
	ok := []string{"", "amzn1.ask.account.AFX3", "a.b", "...", "a/b", "a/.b", "a/..b/c", "é ü", strings.Repeat("x", validate.MaxUserIDBytes)}
	for _, id := range ok {
		if rule := validate.CheckUserID(id); rule != "" {
			t.Errorf("CheckUserID(%q) = %q, want it accepted", id, rule)
		}
	}
	bad := map[string]string{
		".":        `"."`,
		"..":       `"."`,
		"a/../b":   "segment",
		"a/./b":    "segment",
		"../x":     "segment",
		"x/..":     "segment",
		"a\x00b":   "control",
		"a\nb":     "control",
		"a\x7fb":   "control",
		"a\u0085b": "control",
		"a\xffb":   "UTF-8",
		strings.Repeat("x", validate.MaxUserIDBytes+1): "at most 512 bytes",
	}
	for id, want := range bad {
		if rule := validate.CheckUserID(id); !strings.Contains(rule, want) {
			t.Errorf("CheckUserID(%q) = %q, want a rule mentioning %q", id, rule, want)
		}
	}
	var vs validate.Violations
	vs.AddUserID("userId", "a/../b")
	vs.AddUserID("userId", "fine")
	if len(vs) != 1 || vs[0].Field != "userId" || vs[0].Value != `"a/../b"` {
		t.Errorf("AddUserID recorded %+v", vs)
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	var vs validate.Violations
	if err := vs.Err("op"); err != nil {
		t.Fatalf("empty Violations.Err = %v, want nil", err)
	}
	vs.Add("clientId", "is required", nil)
	vs.Add("event.name", "must be a known schema", "AMAZON.Nope")
	vs.Add("expiryTime", "must be in the future", strings.Repeat("y", 200))
	err := vs.Err("lwa.Token")
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Err returned %T, want *alexa.ValidationError", err)
	}
	if ve.Op != "lwa.Token" || len(ve.Violations) != 3 {
		t.Fatalf("got %+v", ve)
	}
	want := []alexa.Violation{
		{Field: "clientId", Rule: "is required"},
		{Field: "event.name", Rule: "must be a known schema", Value: `"AMAZON.Nope"`},
	}
	if diff := cmp.Diff(want, ve.Violations[:2]); diff != "" {
		t.Errorf("Violations (-want +got):\n%s", diff)
	}
	if v := ve.Violations[2].Value; len(v) > 100 || !strings.Contains(v, "…") {
		t.Errorf("a long value is not shortened: %q", v)
	}
	msg := err.Error()
	for _, w := range []string{"lwa.Token", "clientId: is required", `event.name: must be a known schema (got "AMAZON.Nope")`, "expiryTime"} {
		if !strings.Contains(msg, w) {
			t.Errorf("Error() = %q, want it to contain %q", msg, w)
		}
	}
}

func TestViolationsHas(t *testing.T) {
	t.Parallel()
	vs := validate.Violations{{Field: "userId", Rule: "must be a string"}}
	if !vs.Has("userId") || vs.Has("data") {
		t.Errorf("Has: %+v", vs)
	}
}
