package lwa

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
)

// ErrTokenUnavailable is matched, with errors.Is, by every error returned
// because no access token could be obtained: LWA refused (an *Error), the
// token request failed in transit (an *alexa.TransportError), timed out,
// was redirected, or was answered with something other than a token. It
// is matched through the API clients' errors too, so a bulk sender can
// stop at once: every further call would fail the same way.
// Missing credentials are an *alexa.ValidationError instead, found before
// any request.
var ErrTokenUnavailable = errors.New("no access token could be obtained")

// unavailable marks an error that kept a token from being obtained, while
// its own type stays reachable with errors.As.
type unavailable struct{ err error }

func (u *unavailable) Error() string   { return u.err.Error() }
func (u *unavailable) Unwrap() []error { return []error{u.err, ErrTokenUnavailable} }

// tokenUnavailable marks err as ErrTokenUnavailable. An *Error matches it
// by itself and is returned as is; validation errors are left alone.
func tokenUnavailable(err error) error {
	var ve *alexa.ValidationError
	switch err.(type) {
	case nil, *Error, *unavailable:
		return err
	}
	if errors.As(err, &ve) {
		return err
	}
	return &unavailable{err}
}

// Error is a token request that LWA refused or answered with something
// other than a token.
type Error struct {
	// Op names the call and scope, such as "lwa.Token(alexa:skill_messaging)".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is LWA's "error", such as "invalid_scope" or "invalid_client".
	Code string
	// Description is LWA's "error_description".
	Description string
	// Body is the raw response body, at most alexa.MaxErrorBody bytes.
	Body []byte
	// Header holds the response headers.
	Header http.Header
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
}

// Error is one line: the call, the status, LWA's error and description
// (or the start of the body) and the Retry-After. What usually causes the
// error is told apart, by Hint.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		b.WriteString(": " + text.OneLine(e.Code, text.SnippetBytes))
	}
	if e.Description != "" {
		b.WriteString(": " + text.OneLine(e.Description, text.SnippetBytes))
	}
	if e.Code == "" && e.Description == "" && len(e.Body) > 0 {
		b.WriteString(": " + text.OneLine(string(e.Body), text.SnippetBytes))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Hint says what usually causes the error and what to do, or "".
func (e *Error) Hint() string {
	switch e.Code {
	case "invalid_scope":
		return "the skill lacks the permission for this scope: add it in the skill's manifest (for proactive events alexa::devices:all:notifications:write) and check the scope's spelling"
	case "invalid_client", "unauthorized_client":
		return "use the skill's Alexa client id and secret from the developer console's Permissions page, not a security profile's"
	case "invalid_grant":
		if strings.HasPrefix(e.Op, "lwa.Exchange") {
			return "the authorization code was already used, has expired (codes are single-use and live minutes), or was issued to other credentials"
		}
		return "the refresh token is expired or was issued to other credentials"
	}
	if e.StatusCode == http.StatusTooManyRequests {
		return "LWA is throttling token requests"
	}
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		return "the token URL answered with a redirect, which is never followed (the credentials go to the token URL only): check Config.TokenURL"
	}
	return ""
}

// Retryable reports whether the request may succeed later: 429 and 5xx.
func (e *Error) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Is makes an Error match ErrTokenUnavailable, alexa.ErrUnauthorized for
// refused credentials, alexa.ErrThrottled for 429 and alexa.ErrRedirected
// for 3xx.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTokenUnavailable:
		return true
	case alexa.ErrUnauthorized:
		return e.Code == "invalid_client" || e.Code == "unauthorized_client" || e.StatusCode == http.StatusUnauthorized
	case alexa.ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case alexa.ErrRedirected:
		return e.StatusCode >= 300 && e.StatusCode < 400
	}
	return false
}
