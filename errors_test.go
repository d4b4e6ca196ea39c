package alexa_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
)

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	e := &alexa.Error{Op: "messaging.Send", StatusCode: 429, Code: "THROTTLED", Message: "Too many requests", RetryAfter: 5 * time.Second}
	if got, want := e.Error(), "messaging.Send: HTTP 429 Too Many Requests: Too many requests (code THROTTLED); retry after 5s"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if h := e.Hint(); h == "" || strings.Contains(e.Error(), h) {
		t.Errorf("Hint() = %q: want a hint, kept out of Error()", h)
	}

	html := &alexa.Error{Op: "proactive.Create", StatusCode: 403, Body: []byte("<html>\n<body>\tForbidden  by CDN</body></html>")}
	if got, want := html.Error(), "proactive.Create: HTTP 403 Forbidden: <html> <body> Forbidden by CDN</body></html>"; got != want {
		t.Errorf("Error() = %q, want %q: the body on one line, no hint", got, want)
	}
	codeOnly := &alexa.Error{Op: "datastore.Commands", StatusCode: 400, Code: "TOO_MANY_TARGETS"}
	if got, want := codeOnly.Error(), "datastore.Commands: HTTP 400 Bad Request: code TOO_MANY_TARGETS"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	huge := &alexa.Error{Op: "op", StatusCode: 500, Body: bytes.Repeat([]byte("x"), alexa.MaxErrorBody)}
	if msg := huge.Error(); len(msg) > 400 || !strings.Contains(msg, "xxxx") {
		t.Errorf("Error() of a huge body is %d bytes: want the start of the body, shortened", len(msg))
	}
}

func TestErrorSentinels(t *testing.T) {
	t.Parallel()
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
		var err error = &alexa.Error{Op: "op", StatusCode: status}
		wrapped := fmt.Errorf("sending: %w", err)
		for name, sentinel := range sentinels {
			if got := errors.Is(wrapped, sentinel); got != (name == want) {
				t.Errorf("HTTP %d: errors.Is(err, %s) = %v, want %v", status, name, got, name == want)
			}
		}
	}
}

func TestErrorRetryable(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 409: false, 413: false, 432: false,
		429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := (&alexa.Error{StatusCode: status}).Retryable(); got != want {
			t.Errorf("HTTP %d: Retryable() = %v, want %v", status, got, want)
		}
	}
}

func TestErrorHints(t *testing.T) {
	t.Parallel()
	for status, word := range map[int]string{
		401: "permission",
		403: "permission",
		409: "referenceId",
		404: "userId",
		432: "limit",
	} {
		if h := (&alexa.Error{StatusCode: status}).Hint(); !strings.Contains(h, word) {
			t.Errorf("HTTP %d: Hint() = %q, want it to mention %q", status, h, word)
		}
	}
	if h := (&alexa.Error{StatusCode: 400}).Hint(); h != "" {
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
	t.Parallel()
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
	t.Parallel()
	err := &alexa.ValidationError{Op: "lwa.Token", Violations: []alexa.Violation{
		{Field: "clientId", Rule: "is required"},
		{Field: "event.name", Rule: "must be a known schema", Value: `"AMAZON.Nope"`},
	}}
	want := `lwa.Token: invalid request: clientId: is required; event.name: must be a known schema (got "AMAZON.Nope")`
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&alexa.ValidationError{Violations: []alexa.Violation{{Field: "f", Rule: "r"}}}).Error(); got != "invalid request: f: r" {
		t.Errorf("Error() without Op = %q", got)
	}
}
