package bulk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// scanLines are lines scanMessage reads, and lines it leaves to
// encoding/json.
var scanLines = []struct {
	line string
	ok   bool
}{
	{`{"userId": "amzn1.ask.account.A", "data": {"reminderId": "r-1", "action": "update"}, "expiresAfterSeconds": 600}`, true},
	{`{"userId":"u","data":{"a":[1,-2.5e+3,true,false,null,{"b":"\u00e9\n\"x\""}]}}`, true},
	{` { "data" : { } , "userId" : "u" } `, true},
	{`{"userId": "u", "data": {"k": [ ] , "l" : { "m" : 0.5E-1 } }}`, true},
	{`{"userId": "u", "data": {"k": "é \\ /"}, "expiresAfterSeconds": 86400}`, true},
	{`{"userId": "u"}`, true},
	{`{"userId": "u", "data": null}`, false},
	{`{"userId": "u", "data": []}`, false},
	{`{"userId": "u", "extra": 1}`, false},
	{`{"UserId": "u"}`, false},
	{`{"userId": "u\u0041"}`, false},
	{`{"userId": "u", "userId": "v"}`, false},
	{`{"userId": "u", "expiresAfterSeconds": 60.0}`, false},
	{`{"userId": "u", "expiresAfterSeconds": 1e3}`, false},
	{`{"userId": "u", "expiresAfterSeconds": 0}`, false},
	{`{"userId": "u", "expiresAfterSeconds": 059}`, false},
	{`{"userId": "a/../b"}`, false},
	{`{"userId": ""}`, false},
	{`{}`, false},
	{`{"userId": "u", "data": {"k": 01}}`, false},
	{`{"userId": "u", "data": {"k": "\x"}}`, false},
	{`{"userId": "u", "data": {"k": 1,}}`, false},
	{`{"userId": "u", "data": {"k" 1}}`, false},
	{`{"userId": "u", "data": {"k": tru}}`, false},
	{`{"userId": "u"} x`, false},
	{`{"userId": "u"`, false},
	{`{"userId": "u", "data": {"k": "` + strings.Repeat("x", 7000) + `"}}`, false},
	{`{"userId": "u", "data": ` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`, false},
}

// Where scanMessage reads a line, it reads what encoding/json and
// messaging.Encode read; where it does not, parseMessage still does.
func TestScanMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range scanLines {
		_, _, ok := scanMessage([]byte(tc.line))
		if ok != tc.ok {
			t.Errorf("scanMessage(%.60s) ok = %v, want %v", tc.line, ok, tc.ok)
		}
		checkScan(t, []byte(tc.line))
	}
}

// checkScan fails when scanMessage reads line otherwise than the
// field-by-field path.
func checkScan(t *testing.T, line []byte) {
	user, e, ok := scanMessage(line)
	if !ok {
		return
	}
	wantUser, want, err := parseMessageFields(line)
	if err != nil {
		t.Fatalf("scanMessage read %q, which the field-by-field path refuses: %v", line, err)
	}
	if user != wantUser || !bytes.Equal(e.Data, want.Data) || e.ExpiresAfterSeconds != want.ExpiresAfterSeconds {
		t.Fatalf("line %q: scanMessage read %q %s %d, encoding/json %q %s %d", line, user, e.Data, e.ExpiresAfterSeconds, wantUser, want.Data, want.ExpiresAfterSeconds)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, e.Data) != nil || !bytes.Equal(compact.Bytes(), e.Data) {
		t.Fatalf("line %q: data %s is not compact JSON", line, e.Data)
	}
}

func FuzzScanMessage(f *testing.F) {
	for _, tc := range scanLines {
		f.Add([]byte(tc.line))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkScan(t, line) })
}
