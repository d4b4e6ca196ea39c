package alexa

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/text"
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
	// ErrNotSubscribed is matched by a 403 whose Reason is
	// USER_NOT_SUBSCRIBED: a Unicast proactive event to a user who has
	// not subscribed to its event. Such an *Error does not match
	// ErrUnauthorized. A 403 that gives no reason may be either, and
	// matches ErrUnauthorized.
	ErrNotSubscribed = errors.New("user not subscribed to the event (HTTP 403)")
	ErrNotFound      = errors.New("not found (HTTP 404)")
	// ErrOutcomeUnknown is matched by a *TransportError whose request was
	// written in full before the failure (Sent is true): the server may
	// have acted on it, so sending it again may deliver it twice.
	ErrOutcomeUnknown = errors.New("outcome unknown: the request was sent but no answer arrived")
	// ErrRedirected is matched by an *Error with a 3xx status, and by a
	// *TransportError when a configured HTTPClient followed a redirect:
	// this module never follows redirects (see HTTPClient).
	ErrRedirected = errors.New("redirected (HTTP 3xx): redirects are never followed")
)

// ReasonNotSubscribed is the Reason of a 403 to a Unicast proactive event
// for a user who has not subscribed to its event.
const ReasonNotSubscribed = "USER_NOT_SUBSCRIBED"

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
	// or a string. APIs that answer {"type","message"} instead (DataStore)
	// have their type in Code.
	Code    string
	Message string
	// Reason is the symbolic reason the body gives, if any: Code when it
	// is a word rather than a number (DataStore's type), or else the
	// UPPER_CASE word that starts Message ("USER_NOT_SUBSCRIBED: ..."),
	// as the emulator answers.
	Reason string
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

// Error is one line: the call, the status, Alexa's message and code (or
// the start of the body) and the Retry-After. What usually causes the
// failure is told apart, by Hint.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Message != "" && e.Code != "":
		fmt.Fprintf(&b, ": %s (code %s)", text.OneLine(e.Message, text.SnippetBytes), text.OneLine(e.Code, text.SnippetBytes))
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", text.OneLine(e.Message, text.SnippetBytes))
	case e.Code != "":
		fmt.Fprintf(&b, ": code %s", text.OneLine(e.Code, text.SnippetBytes))
	case len(e.Body) > 0:
		fmt.Fprintf(&b, ": %s", text.OneLine(string(e.Body), text.SnippetBytes))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
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
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden && e.Reason != ReasonNotSubscribed
	case ErrNotSubscribed:
		return e.StatusCode == http.StatusForbidden && e.Reason == ReasonNotSubscribed
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRedirected:
		return e.StatusCode >= 300 && e.StatusCode < 400
	}
	return false
}

// Hint says what usually causes the failure and what to do, or "". It is
// kept out of Error so that the error's text stays short and stable; the
// command prints it on a line of its own.
func (e *Error) Hint() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "the access token was refused even after a fresh one was fetched: check that the skill has this API's permission and that the credentials are the skill's Alexa client id and secret"
	case http.StatusForbidden:
		if e.Reason == ReasonNotSubscribed {
			return "a Unicast proactive event reaches only a user who subscribed to its event in the Alexa app (the skill learns of it from AlexaSkillEvent.ProactiveSubscriptionChanged); a Multicast event goes to every subscriber"
		}
		// Proactive Events answers 403 for both.
		return "for a Unicast proactive event, the user may not have subscribed to its event in the Alexa app; otherwise the access token was refused: check that the skill has this API's permission and that the credentials are the skill's Alexa client id and secret"
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
			h += "; Location: " + text.OneLine(loc, text.SnippetBytes)
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
func (e *TransportError) Retryable() bool { return !permanent(e.Err) }

// permanent reports whether err, a failure without HTTP response, would
// recur on every attempt: TLS certificate verification errors, a TLS
// handshake with something that does not speak TLS, an *InsecureURLError,
// or a followed redirect (ErrRedirected).
func permanent(err error) bool {
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
