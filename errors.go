package alexa

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxErrorBody bounds how much of an error response body is kept.
const MaxErrorBody = 64 << 10

// Sentinels for the failure kinds callers act on. An *Error matches them
// with errors.Is:
//
//	if errors.Is(err, alexa.ErrThrottled) { ... }
var (
	ErrThrottled         = errors.New("throttled (HTTP 429)")
	ErrDuplicate         = errors.New("duplicate referenceId (HTTP 409)")
	ErrNotificationLimit = errors.New("notification limit reached (HTTP 432)")
	ErrUnauthorized      = errors.New("access token refused (HTTP 401/403)")
	ErrNotFound          = errors.New("not found (HTTP 404)")
	// ErrOutcomeUnknown is matched by a *TransportError whose request was
	// written in full before the failure (Sent is true): the server may
	// have acted on it, so sending it again may deliver it twice.
	ErrOutcomeUnknown = errors.New("outcome unknown: the request was sent but no answer arrived")
	// ErrRedirected is matched by an *Error with a 3xx status, and by a
	// *TransportError when a configured HTTPClient followed a redirect:
	// this module never follows redirects (see HTTPClient).
	ErrRedirected = errors.New("redirected (HTTP 3xx): redirects are never followed")
)

// Error is an Alexa API call that got an HTTP response other than success.
// Match it with errors.As, and its kind with errors.Is and the sentinels
// above. A failure without an HTTP response is a *TransportError instead.
type Error struct {
	// Op names the call, such as "proactive.Create" or "messaging.Send".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code and Message are Alexa's {"code","message"} body fields, empty
	// when the body had none. Code is kept as text: it arrives as a number
	// or a string.
	Code    string
	Message string
	// Body is the raw response body, at most MaxErrorBody bytes, kept
	// whatever its format (a CDN's HTML page, for instance).
	Body []byte
	// Header holds the response headers.
	Header http.Header
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	// Attempts is how many HTTP attempts the call made.
	Attempts int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Message != "" && e.Code != "":
		fmt.Fprintf(&b, ": %s (code %s)", snippet([]byte(e.Message)), snippet([]byte(e.Code)))
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", snippet([]byte(e.Message)))
	case len(e.Body) > 0:
		fmt.Fprintf(&b, ": %s", snippet(e.Body))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if h := e.Hint(); h != "" {
		b.WriteString("; hint: ")
		b.WriteString(h)
	}
	return b.String()
}

// Is matches the sentinel errors by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrDuplicate:
		return e.StatusCode == http.StatusConflict
	case ErrNotificationLimit:
		return e.StatusCode == 432
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRedirected:
		return e.StatusCode >= 300 && e.StatusCode < 400
	}
	return false
}

// Hint says what usually causes the failure, or "".
func (e *Error) Hint() string {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the access token was refused even after a fresh one was fetched: check that the skill has this API's permission and that the credentials are the skill's Alexa client id and secret"
	case http.StatusConflict:
		return "an event with this referenceId was already sent to this audience; use a new referenceId for a new event"
	case http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("throttled: send again after %s, and send less often", e.RetryAfter)
		}
		return "throttled: send less often, or with a rate limit"
	case 432:
		return "the notification limit for this customer was reached (live skills only)"
	case http.StatusNotFound:
		return "the userId does not exist for this skill"
	}
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		h := "the API answered with a redirect, which is never followed: check Config.Endpoint (the region's https://api…amazonalexa.com URL)"
		if loc := e.Header.Get("Location"); loc != "" {
			h += "; Location: " + snippet([]byte(loc))
		}
		return h
	}
	return ""
}

// Retryable reports whether the status may succeed when retried:
// throttling and server errors.
func (e *Error) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// snippet returns the start of a body as one printable line.
func snippet(body []byte) string {
	const max = 500
	s := body
	if len(s) > max {
		s = s[:max]
	}
	for !utf8.Valid(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	out := strings.Join(strings.Fields(string(s)), " ")
	if len(body) > max {
		out += "…"
	}
	return out
}

// DecodeError builds the *Error for a response with a failure status and
// its (already bounded) body. It never fails: a body that is not Alexa's
// JSON error leaves Code and Message empty and is kept in Body.
func DecodeError(op string, status int, header http.Header, body []byte) *Error {
	e := &Error{Op: op, StatusCode: status, Header: header, Body: body}
	if len(body) > MaxErrorBody {
		e.Body = body[:MaxErrorBody]
	}
	e.Code, e.Message = decodeCodeMessage(body)
	if header != nil {
		e.RetryAfter = ParseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}

// decodeCodeMessage reads {"code": 123 | "X", "message": "..."} leniently.
func decodeCodeMessage(body []byte) (code, message string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return "", ""
	}
	var v struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	return jsonScalar(v.Code), jsonScalar(v.Message)
}

// jsonScalar renders a JSON string, number or boolean as text.
func jsonScalar(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	return ""
}

// MaxRetryAfter is the longest Retry-After ParseRetryAfter returns: larger
// values (a date years ahead, 1e12 seconds) are clamped to it rather than
// ignored, so a server that asks for a long pause gets one.
const MaxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After value, in seconds (any positive
// number: "120", "0.5", "1e7") or as an HTTP date relative to now.
// Values above MaxRetryAfter are clamped to it. Invalid, zero or past
// values give zero.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if !(secs > 0) { // NaN too
			return 0
		}
		if secs >= MaxRetryAfter.Seconds() {
			return MaxRetryAfter
		}
		return max(time.Duration(secs*float64(time.Second)), 1)
	}
	if t, err := http.ParseTime(v); err == nil {
		// Compare before subtracting: Sub saturates, but a date past
		// the clamp is simply the clamp.
		if t.After(now.Add(MaxRetryAfter)) {
			return MaxRetryAfter
		}
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// TransportError is a call that got no HTTP response: the connection
// failed, was dropped, or timed out. It is never reported as an HTTP status.
//
// When Sent is true the request was written in full before the failure,
// so the server may have acted on it: the error then matches
// ErrOutcomeUnknown.
type TransportError struct {
	// Op names the call, such as "messaging.Send" or "lwa.Token".
	Op string
	// Method and URL of the request (the URL holds no secret).
	Method, URL string
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// Sent is true when the whole request, headers and body, was written
	// before the failure: the server may have received and acted on it.
	// It is known when the HTTPClient is built on net/http's Transport
	// (it reports the write through net/http/httptrace); it stays false
	// for token requests, which have no effect to duplicate.
	Sent bool
	// Err is the underlying error.
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s: %s %s: %v", e.Op, e.Method, e.URL, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown when the request was sent in full.
func (e *TransportError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Sent
}

// Retryable reports whether another attempt may succeed: true, since the
// request may not have arrived or its answer was lost, except for failures
// that would recur: a certificate that does not verify, a refused
// plain-http URL, and a redirect the HTTPClient followed.
func (e *TransportError) Retryable() bool { return !Permanent(e.Err) }

// Permanent reports whether err, a failure without HTTP response, would
// recur on every attempt: TLS certificate verification errors, a TLS
// handshake with something that does not speak TLS, an *InsecureURLError,
// or a followed redirect (ErrRedirected).
func Permanent(err error) bool {
	var (
		insecure  *InsecureURLError
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		roots     x509.SystemRootsError
		record    tls.RecordHeaderError
	)
	return errors.As(err, &insecure) || errors.As(err, &verify) || errors.As(err, &authority) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &roots) ||
		errors.As(err, &record) || errors.Is(err, ErrRedirected)
}

// Violation is one broken validation rule.
type Violation struct {
	// Field is the JSON path of the field, such as "relevantAudience.payload.user".
	Field string `json:"field"`
	// Rule says what the field must be.
	Rule string `json:"rule"`
	// Value is the offending value as text, shortened; empty when missing.
	Value string `json:"value,omitempty"`
}

func (v Violation) String() string {
	if v.Value == "" {
		return v.Field + ": " + v.Rule
	}
	return fmt.Sprintf("%s: %s (got %s)", v.Field, v.Rule, v.Value)
}

// ValidationError lists every rule a request breaks. It is returned before
// any network I/O.
type ValidationError struct {
	// Op names the call that refused the request.
	Op string `json:"op,omitempty"`
	// Violations holds every problem found, in field order.
	Violations []Violation `json:"violations"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	prefix := "invalid request"
	if e.Op != "" {
		prefix = e.Op + ": " + prefix
	}
	return fmt.Sprintf("%s: %s", prefix, strings.Join(parts, "; "))
}

// Violations collects validation problems; its zero value is ready.
type Violations []Violation

// Add records that field breaks rule; value is shown quoted and shortened.
func (vs *Violations) Add(field, rule string, value any) {
	*vs = append(*vs, Violation{Field: field, Rule: rule, Value: ShowValue(value)})
}

// Err returns a *ValidationError for op, or nil when nothing was recorded.
func (vs Violations) Err(op string) error {
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Violations: vs}
}

// ShowValue renders a value for a Violation: strings quoted, long ones
// shortened, nil as "".
func ShowValue(v any) string {
	const max = 80
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if len(x) > max {
			x = x[:max] + "…"
		}
		return strconv.Quote(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	default:
		s := fmt.Sprint(x)
		if len(s) > max {
			s = s[:max] + "…"
		}
		return s
	}
}
