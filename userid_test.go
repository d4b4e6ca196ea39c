package alexa_test

import (
	"strings"
	"testing"

	"github.com/alexa-oos/alexa"
)

func TestCheckUserID(t *testing.T) {
	t.Parallel()
	ok := []string{"", "amzn1.ask.account.AFX3", "a.b", "...", "a/b", "a/.b", "a/..b/c", "é ü", strings.Repeat("x", alexa.MaxUserIDBytes)}
	for _, id := range ok {
		if rule := alexa.CheckUserID(id); rule != "" {
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
		strings.Repeat("x", alexa.MaxUserIDBytes+1): "at most 512 bytes",
	}
	for id, want := range bad {
		if rule := alexa.CheckUserID(id); !strings.Contains(rule, want) {
			t.Errorf("CheckUserID(%q) = %q, want a rule mentioning %q", id, rule, want)
		}
	}
	var vs alexa.Violations
	vs.AddUserID("userId", "a/../b")
	vs.AddUserID("userId", "fine")
	if len(vs) != 1 || vs[0].Field != "userId" || vs[0].Value != `"a/../b"` {
		t.Errorf("AddUserID recorded %+v", vs)
	}
}
