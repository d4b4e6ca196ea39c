package alexa

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/alexa-oos/alexa/internal/httpx"
)

// HTTPClient sends one HTTP request. *http.Client satisfies it, so any
// configured client, a recording wrapper in a test or an instrumented
// transport can be plugged in.
//
// Redirects are never followed, neither for API calls nor for token
// requests: a redirect would turn a POST into a GET (301, 302, 303) or
// carry the client secret to another host (307, 308). A 3xx answer to an
// API call is an *Error matching ErrRedirected, never a success and never
// retried; a 3xx from the token URL is an *lwa.Error. An *http.Client
// given here is used through a copy whose CheckRedirect refuses every
// redirect; another implementation must not follow redirects itself, and
// if it does (the response's Request differs from the one sent) the call
// fails with a *TransportError matching ErrRedirected.
//
// API calls through an *http.Client without a cookie jar go to its
// Transport directly, with the client's Timeout applied by alexa-oos:
// what http.Client adds per request is redirect following, refused here
// anyway, and a copy of the headers for it, which cost a measurable share
// of a call's CPU time at thousands of calls a second. A client with a
// Jar is called through its Do.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// HTTPOptions tunes the default HTTP client. Zero fields take the defaults
// named on each field.
type HTTPOptions struct {
	// DialTimeout bounds connecting. Default 10s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake. Default 10s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written. Default: none of its own, as Timeout bounds the
	// whole call already; a separate bound costs a timer per request.
	ResponseHeaderTimeout time.Duration
	// Timeout bounds each whole call, body included. Default 30s.
	Timeout time.Duration
	// MaxConnsPerHost caps connections to one host; 0 means no cap.
	MaxConnsPerHost int
	// AllowInsecureHTTP lets plain http reach any host. Off by default:
	// plain http is refused except to loopback hosts, where the emulator runs.
	AllowInsecureHTTP bool
	// HTTP2 speaks HTTP/2 to servers that offer it (every request a
	// stream of one connection per host) instead of HTTP/1.1. Off by
	// default: against a TLS server offering both, Go's HTTP/2 costs
	// more CPU per request than HTTP/1.1 on a pool of keep-alive
	// connections, on both sides, and sends fewer requests per second at
	// the concurrency of a bulk job (see docs/performance.md).
	HTTP2 bool
	// TLSConfig, when set, configures TLS: such as RootCAs to trust a
	// private certificate authority. Nil uses the system's roots.
	TLSConfig *tls.Config
}

// NewHTTPClient returns the default HTTP client: HTTP/1.1 over a pool of
// keep-alive connections (HTTP/2 with HTTPOptions.HTTP2), timeouts on
// dial, TLS handshake, response headers and the whole call, the proxy from
// the environment (HTTPS_PROXY, NO_PROXY), the system's root certificates
// (SSL_CERT_FILE works), plain http refused except to loopback hosts, and
// no redirects followed (see HTTPClient).
func NewHTTPClient(o HTTPOptions) *http.Client {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	dialer := &net.Dialer{Timeout: or(o.DialTimeout, 10*time.Second), KeepAlive: 30 * time.Second}
	// HTTP/1.1 unless asked: measured, it is the faster of the two (see
	// HTTPOptions.HTTP2). With HTTP/2, HTTP/1.1 stays for servers
	// without it.
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(o.HTTP2)
	var tc *tls.Config
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	proxy := http.ProxyFromEnvironment
	if !o.AllowInsecureHTTP {
		proxy = httpsOnly(proxy)
	}
	t := &http.Transport{
		Proxy:           proxy,
		DialContext:     dialer.DialContext,
		Protocols:       &protos,
		TLSClientConfig: tc,
		// A keep-alive connection per request in flight, up to 128 at
		// once; a request finding none idle takes the next one freed.
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   or(o.TLSHandshakeTimeout, 10*time.Second),
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	// The Transport itself, not a wrapper: http.Client bounds a call to
	// its own Transport with a context deadline, but wraps any other
	// RoundTripper in a goroutine and a timer per request.
	return &http.Client{Transport: t, Timeout: or(o.Timeout, 30*time.Second), CheckRedirect: httpx.RefuseRedirect}
}

var defaultHTTPClient = NewHTTPClient(HTTPOptions{})

// InsecureURLError is returned when plain http would leave the machine.
type InsecureURLError struct {
	URL string
}

func (e *InsecureURLError) Error() string {
	return fmt.Sprintf("alexa: refusing plain http to %s: use https, or http only to a loopback host (localhost, 127.0.0.1, ::1)", e.URL)
}

// httpsOnly wraps a Transport's Proxy function to refuse plain http to
// hosts other than loopback, so that a typo in an endpoint can never send
// a token or secret in clear text. The Transport asks it about every
// request before connecting, and closes the request's body when refused.
func httpsOnly(proxy func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if r.URL.Scheme == "http" && !httpx.IsLoopback(r.URL.Hostname()) {
			return nil, &InsecureURLError{URL: r.URL.Scheme + "://" + r.URL.Host}
		}
		return proxy(r)
	}
}
