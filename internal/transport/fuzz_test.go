package transport_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
)

// FuzzDecodeError feeds arbitrary statuses, Retry-After values and bodies
// to DecodeError: it must never panic, must keep the body (bounded), and
// must always describe itself.
func FuzzDecodeError(f *testing.F) {
	huge := `{"code":"X","message":"` + strings.Repeat("m", alexa.MaxErrorBody) + `"}`
	for _, seed := range []struct {
		status     int
		retryAfter string
		body       string
	}{
		{400, "", `{"code": 400, "message":"x"}`},
		{400, "", `{"code":"INVALID","message":"x"}`},
		{403, "", `<html><body>Forbidden</body></html>`},
		{500, "", `<!doctype html><html><head><title>500</title></head><body>Internal Server Error</body></html>`},
		{409, "", `{"code":"DUPLICATE_REFERENCE_ID","message":"The referenceId is a duplicate"}`},
		{429, "2", `{"message":"Rate exceeded"}`},
		{429, "Wed, 25 Nov 2026 12:00:00 GMT", ""},
		{429, "NaN", ""},
		{503, "-1", "Service Unavailable"},
		{404, "", ""},
		{432, "", `{"code":null,"message":null}`},
		{400, "", `{"code":1e999,"message":"big"}`},
		{400, "", `{"code":true,"message":["a"]}`},
		{400, "", " \n\t{\"code\":\"X\"} trailing"},
		{400, "", `{"code":"\ud800","message":"\xff\xfe"}`},
		{500, "", "\xff\xfe\x00binary"},
		{502, "", huge},
		{502, "", strings.Repeat("é", alexa.MaxErrorBody)},
		{0, "", ""},
		{-1, "", "{"},
		{999, "1e6", "[]"},
	} {
		f.Add(seed.status, seed.retryAfter, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := transport.DecodeError("test.Op", status, h, body)
		if e.StatusCode != status || e.Op != "test.Op" {
			t.Fatalf("StatusCode/Op = %d/%q", e.StatusCode, e.Op)
		}
		n := min(len(body), alexa.MaxErrorBody)
		if !bytes.Equal(e.Body, body[:n]) {
			t.Fatalf("Body not kept: got %d bytes, want the first %d of the body", len(e.Body), n)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("RetryAfter = %v for %q", e.RetryAfter, retryAfter)
		}
		msg := e.Error()
		if msg == "" || !strings.Contains(msg, fmt.Sprintf("HTTP %d", status)) {
			t.Fatalf("Error() = %q", msg)
		}
		if len(msg) > len(body)+1000 {
			t.Fatalf("Error() is %d bytes long for a %d-byte body", len(msg), len(body))
		}
		// Alexa's own {"code","message"} is read whatever the code's type.
		if want, ok := jsonField(body, "code"); ok && e.Code != want {
			t.Fatalf("Code = %q, want %q (body %q)", e.Code, want, body)
		}
		if want, ok := jsonField(body, "message"); ok && e.Message != want {
			t.Fatalf("Message = %q, want %q (body %q)", e.Message, want, body)
		}
		_ = e.Is(alexa.ErrThrottled)
		_ = e.Hint()
		_ = e.Retryable()
	})
}

// jsonField returns the text of a string or number field of a JSON
// object body; ok is false when the body is no such object or the field
// is spelled in more than one letter case.
func jsonField(body []byte, name string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "", false
	}
	raw, found := m[name]
	for k := range m {
		if k != name && strings.EqualFold(k, name) {
			return "", false
		}
	}
	if !found {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}
