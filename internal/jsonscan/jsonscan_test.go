package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa/internal/jsonscan"
)

var samples = []string{
	`{}`, ` { } `, `{"a":1}`, "{\n  \"a\": [1, 2.5e-3, -0, true, false, null],\n  \"b\": {\"c\": \"\\u00e9\\n\"}\n}",
	`[]`, `"x"`, `0`, `-1.5E+10`, `true`, `null`,
	`{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1,]`, `01`, `1.`, `-`, `1e`, `"\x"`, `"\u12"`, "\"a\x01\"", `tru`, `{"a":1}x`, `{"a":1} {}`, ``, `   `,
	strings.Repeat("[", jsonscan.MaxDepth+2) + strings.Repeat("]", jsonscan.MaxDepth+2),
}

// What Compact accepts, encoding/json accepts, compacted to the same
// bytes; what it refuses, encoding/json refuses too, unless it nests
// deeper than MaxDepth.
func checkCompact(t *testing.T, in []byte) {
	got, ok := jsonscan.Compact(in)
	var want bytes.Buffer
	err := json.Compact(&want, in)
	switch {
	case ok && err != nil:
		t.Fatalf("Compact(%q) accepted what encoding/json refuses: %v", in, err)
	case ok && !bytes.Equal(got, want.Bytes()):
		t.Fatalf("Compact(%q) = %q, encoding/json gives %q", in, got, want.Bytes())
	case !ok && err == nil && bytes.Count(in, []byte("[")) <= jsonscan.MaxDepth && bytes.Count(in, []byte("{")) <= jsonscan.MaxDepth:
		t.Fatalf("Compact(%q) refused valid JSON", in)
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	for _, s := range samples {
		checkCompact(t, []byte(s))
	}
}

// Text compact already comes back without a copy.
func TestCompactNoCopy(t *testing.T) {
	in := []byte(`{"reminderId":"r1","n":[1,2]}`)
	got, ok := jsonscan.Compact(in)
	if !ok || &got[0] != &in[0] || len(got) != len(in) {
		t.Errorf("Compact copied compact text, or refused it: %q %v", got, ok)
	}
	if n := testing.AllocsPerRun(100, func() { jsonscan.Compact(in) }); n != 0 {
		t.Errorf("Compact of compact text allocates %v times", n)
	}
}

func FuzzCompact(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkCompact(t, in) })
}
