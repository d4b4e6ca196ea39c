// Package httpx holds the HTTP helpers shared by the root package, the
// call path, the token provider, the emulator and the command: loopback
// hosts, redirects refused, Retry-After parsed, URL errors unwrapped and
// ids escaped into paths.
package httpx

import (
	"errors"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
)

// Doer sends one HTTP request; alexa.HTTPClient is the same interface.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// IsLoopback reports whether host (a name or an address, without port)
// is a loopback host.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RefuseRedirect is an http.Client CheckRedirect that hands a 3xx
// response back as it is.
func RefuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Direct returns the RoundTripper to call in place of c, or nil. An
// *http.Client adds three things per request to its Transport: redirects
// followed (alexa-oos refuses them, and a 3xx is the answer then too), a
// copy of the headers for them, and a deadline of its own for its
// Timeout. Callers of Direct apply the Timeout themselves, with deadlines
// shared between calls, and save the rest. A client with a cookie jar, or
// any other Doer, gives nil: it is used through its Do.
func Direct(c Doer) http.RoundTripper {
	hc, ok := c.(*http.Client)
	if !ok || hc == nil || hc.Jar != nil {
		return nil
	}
	if hc.Transport == nil {
		return http.DefaultTransport
	}
	return hc.Transport
}

// RoundTrip sends req with rt, a RoundTripper from Direct, holding it to
// what http.Client.Do promises: a response or an error, never both or
// neither, and a response body that is never nil.
func RoundTrip(rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("the HTTP transport returned neither a response nor an error")
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// NoRedirects returns c refusing redirects: an *http.Client is copied with
// RefuseRedirect (its Transport, Jar and Timeout are shared); any other
// Doer is returned as it is, and its callers check the response's Request
// after the fact.
func NoRedirects(c Doer) Doer {
	hc, ok := c.(*http.Client)
	if !ok || hc == nil {
		return c
	}
	cp := *hc
	cp.CheckRedirect = RefuseRedirect
	return &cp
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

// UnwrapURLError returns the cause of a *url.Error, whose text repeats
// the method and URL that the caller's error already names.
func UnwrapURLError(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// unreserved marks the bytes PathEscape keeps: a table, as every userId
// of a bulk job passes through it.
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

// PathEscape escapes everything but unreserved characters, as Amazon's
// SDKs do, so that an id can never change the path it is put in. It
// serves for query values too: "+" and "&" survive.
func PathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}
