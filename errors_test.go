package alexa_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/google/go-cmp/cmp"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{"120", 2 * time.Minute},
		{" 3 ", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0.25", 250 * time.Millisecond},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{now.Add(2 * time.Second).Format(time.ANSIC), 2 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0}, // past
		{now.Format(http.TimeFormat), 0},                   // now
		{"0", 0},
		{"-1", 0},
		{"-0.5", 0},
		{"junk", 0},
		{"1s", 0},
		{"Wed, 99 Nov 2026 12:00:00 GMT", 0},
		{"NaN", 0},
		{"nan", 0},
		{"Inf", alexa.MaxRetryAfter},
		{"-Inf", 0},
		// Large values are honoured, up to the clamp, never dropped.
		{"1e7", 1e7 * time.Second},
		{"10000000", 1e7 * time.Second},
		{"1e12", alexa.MaxRetryAfter},
		{"1e400", alexa.MaxRetryAfter},
		{"99999999999999999999999", alexa.MaxRetryAfter},
		{"0.000000001", time.Nanosecond},
		{"1e-30", time.Nanosecond},
		{now.Add(200 * 24 * time.Hour).Format(http.TimeFormat), 200 * 24 * time.Hour},
		{"Fri, 31 Dec 9999 23:59:59 GMT", alexa.MaxRetryAfter},
	}
	for _, tt := range tests {
		if got := alexa.ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// errFields is what callers read off an *alexa.Error.
type errFields struct {
	Op         string
	StatusCode int
	Code       string
	Message    string
	Body       string
	RetryAfter time.Duration
}

func fieldsOf(e *alexa.Error) errFields {
	return errFields{e.Op, e.StatusCode, e.Code, e.Message, string(e.Body), e.RetryAfter}
}

func TestDecodeError(t *testing.T) {
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   errFields
	}{
		{
			name: "numeric code", status: 400, body: `{"code": 400, "message":"x"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "400", Message: "x", Body: `{"code": 400, "message":"x"}`},
		},
		{
			name: "string code", status: 400, body: `{"code":"INVALID","message":"x"}`,
			want: errFields{Op: "op", StatusCode: 400, Code: "INVALID", Message: "x", Body: `{"code":"INVALID","message":"x"}`},
		},
		{
			name: "leading whitespace and extra fields", status: 409, body: "\n  {\"code\":\"DUPLICATE\",\"message\":\"dup\",\"extra\":[1,2]}\n",
			want: errFields{Op: "op", StatusCode: 409, Code: "DUPLICATE", Message: "dup", Body: "\n  {\"code\":\"DUPLICATE\",\"message\":\"dup\",\"extra\":[1,2]}\n"},
		},
		{
			name: "null code", status: 500, body: `{"code":null,"message":"boom"}`,
			want: errFields{Op: "op", StatusCode: 500, Message: "boom", Body: `{"code":null,"message":"boom"}`},
		},
		{
			name: "code as object is dropped", status: 500, body: `{"code":{"a":1},"message":"m"}`,
			want: errFields{Op: "op", StatusCode: 500, Message: "m", Body: `{"code":{"a":1},"message":"m"}`},
		},
		{
			name: "html page", status: 403, header: header("Content-Type", "text/html"), body: `<html><body>Forbidden</body></html>`,
			want: errFields{Op: "op", StatusCode: 403, Body: `<html><body>Forbidden</body></html>`},
		},
		{
			name: "truncated json", status: 502, body: `{"code":"X","mess`,
			want: errFields{Op: "op", StatusCode: 502, Body: `{"code":"X","mess`},
		},
		{
			name: "json array", status: 400, body: `[{"code":"X"}]`,
			want: errFields{Op: "op", StatusCode: 400, Body: `[{"code":"X"}]`},
		},
		{
			name: "empty body", status: 404,
			want: errFields{Op: "op", StatusCode: 404},
		},
		{
			name: "retry-after seconds", status: 429, header: header("Retry-After", "7"), body: `{"message":"slow down"}`,
			want: errFields{Op: "op", StatusCode: 429, Message: "slow down", Body: `{"message":"slow down"}`, RetryAfter: 7 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := alexa.DecodeError("op", tt.status, tt.header, []byte(tt.body))
			if diff := cmp.Diff(tt.want, fieldsOf(e)); diff != "" {
				t.Errorf("DecodeError fields (-want +got):\n%s", diff)
			}
			if e.Error() == "" {
				t.Error("Error() is empty")
			}
		})
	}
}

func TestDecodeErrorBoundsBody(t *testing.T) {
	body := bytes.Repeat([]byte("x"), alexa.MaxErrorBody+1000)
	e := alexa.DecodeError("op", 500, nil, body)
	if len(e.Body) != alexa.MaxErrorBody {
		t.Errorf("len(Body) = %d, want %d", len(e.Body), alexa.MaxErrorBody)
	}
	msg := e.Error()
	if len(msg) > 1000 {
		t.Errorf("Error() is %d bytes long: a huge body must be shortened in the message", len(msg))
	}
	if !strings.Contains(msg, "xxxx") {
		t.Errorf("Error() = %q, want the start of the body", msg)
	}
}

func TestErrorMessage(t *testing.T) {
	h := http.Header{"Retry-After": {"5"}}
	e := alexa.DecodeError("messaging.Send", 429, h, []byte(`{"code":"THROTTLED","message":"Too many requests"}`))
	msg := e.Error()
	for _, want := range []string{"messaging.Send", "429", "Too many requests", "THROTTLED", "5s", "hint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, want)
		}
	}

	html := alexa.DecodeError("proactive.Create", 403, nil, []byte("<html>\n<body>\tForbidden  by CDN</body></html>"))
	if msg := html.Error(); !strings.Contains(msg, "<html> <body> Forbidden by CDN</body></html>") || strings.ContainsAny(msg, "\n\t") {
		t.Errorf("Error() = %q, want the body on one line", msg)
	}
}

func TestErrorSentinels(t *testing.T) {
	sentinels := map[string]error{
		"ErrThrottled":         alexa.ErrThrottled,
		"ErrDuplicate":         alexa.ErrDuplicate,
		"ErrNotificationLimit": alexa.ErrNotificationLimit,
		"ErrUnauthorized":      alexa.ErrUnauthorized,
		"ErrNotFound":          alexa.ErrNotFound,
	}
	matches := map[int]string{
		429: "ErrThrottled",
		409: "ErrDuplicate",
		432: "ErrNotificationLimit",
		401: "ErrUnauthorized",
		403: "ErrUnauthorized",
		404: "ErrNotFound",
		400: "",
		500: "",
		503: "",
	}
	for status, want := range matches {
		var err error = alexa.DecodeError("op", status, nil, nil)
		wrapped := fmt.Errorf("sending: %w", err)
		for name, sentinel := range sentinels {
			if got := errors.Is(wrapped, sentinel); got != (name == want) {
				t.Errorf("HTTP %d: errors.Is(err, %s) = %v, want %v", status, name, got, name == want)
			}
		}
	}
}

func TestErrorRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 409: false, 413: false, 432: false,
		429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := alexa.DecodeError("op", status, nil, nil).Retryable(); got != want {
			t.Errorf("HTTP %d: Retryable() = %v, want %v", status, got, want)
		}
	}
}

func TestErrorHints(t *testing.T) {
	for status, word := range map[int]string{
		401: "permission",
		403: "permission",
		409: "referenceId",
		404: "userId",
		432: "limit",
	} {
		if h := alexa.DecodeError("op", status, nil, nil).Hint(); !strings.Contains(h, word) {
			t.Errorf("HTTP %d: Hint() = %q, want it to mention %q", status, h, word)
		}
	}
	if h := alexa.DecodeError("op", 400, nil, nil).Hint(); h != "" {
		t.Errorf("HTTP 400: Hint() = %q, want none", h)
	}
}

func TestTransportErrorOutcomeUnknown(t *testing.T) {
	t.Parallel()
	sent := &alexa.TransportError{Op: "messaging.Send", Method: "POST", URL: "https://x", Sent: true, Err: io.ErrUnexpectedEOF}
	if !errors.Is(fmt.Errorf("wrapped: %w", sent), alexa.ErrOutcomeUnknown) {
		t.Error("a TransportError with Sent does not match ErrOutcomeUnknown")
	}
	if !errors.Is(sent, io.ErrUnexpectedEOF) {
		t.Error("a sent TransportError no longer unwraps to its cause")
	}
	unsent := &alexa.TransportError{Op: "messaging.Send", Method: "POST", URL: "https://x", Err: io.ErrUnexpectedEOF}
	if errors.Is(unsent, alexa.ErrOutcomeUnknown) {
		t.Error("a TransportError without Sent matches ErrOutcomeUnknown")
	}
	if errors.Is(&alexa.Error{StatusCode: 500}, alexa.ErrOutcomeUnknown) {
		t.Error("an HTTP error matches ErrOutcomeUnknown")
	}
}

func TestTransportError(t *testing.T) {
	var err error = &alexa.TransportError{Op: "messaging.Send", Method: "POST", URL: "https://api.amazonalexa.com/v1/skillmessages/users/u", Attempts: 2, Err: io.ErrUnexpectedEOF}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("TransportError does not unwrap to its cause")
	}
	var te *alexa.TransportError
	if !errors.As(fmt.Errorf("x: %w", err), &te) || te.Op != "messaging.Send" {
		t.Error("errors.As(*TransportError) failed through wrapping")
	}
	if !te.Retryable() {
		t.Error("TransportError is not retryable")
	}
	for _, want := range []string{"messaging.Send", "POST", "https://api.amazonalexa.com/v1/skillmessages/users/u", "unexpected EOF"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Error() = %q, want it to contain %q", err.Error(), want)
		}
	}
	var ae *alexa.Error
	if errors.As(err, &ae) {
		t.Error("a TransportError must not match *alexa.Error")
	}
	for name, s := range map[string]error{"ErrUnauthorized": alexa.ErrUnauthorized, "ErrThrottled": alexa.ErrThrottled} {
		if errors.Is(err, s) {
			t.Errorf("TransportError matches %s", name)
		}
	}
}

func TestValidationError(t *testing.T) {
	var vs alexa.Violations
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

func TestShowValue(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 5, time.UTC)
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"a b", `"a b"`},
		{"", `""`},
		{42, "42"},
		{at, "2026-11-25T12:00:00.000000005Z"},
	} {
		if got := alexa.ShowValue(tt.in); got != tt.want {
			t.Errorf("ShowValue(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
