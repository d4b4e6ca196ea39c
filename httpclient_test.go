package alexa_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
)

// get sends a GET with client and returns the status and the error.
func get(t *testing.T, client alexa.HTTPClient, url string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func newClient(t *testing.T, o alexa.HTTPOptions) *http.Client {
	c := alexa.NewHTTPClient(o)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestHTTPClientRefusesPlainHTTPToRemoteHosts(t *testing.T) {
	t.Parallel()
	c := newClient(t, alexa.HTTPOptions{})
	for _, url := range []string{"http://example.invalid/v1/skillmessages/users/u", "http://example.invalid:8080/", "HTTP://EXAMPLE.INVALID/"} {
		_, err := get(t, c, url)
		var ie *alexa.InsecureURLError
		if !errors.As(err, &ie) {
			t.Fatalf("GET %s: err = %v, want *alexa.InsecureURLError", url, err)
		}
		if !strings.HasPrefix(ie.URL, "http://") || !strings.Contains(strings.ToLower(ie.URL), "example.invalid") {
			t.Errorf("InsecureURLError.URL = %q", ie.URL)
		}
		// Refused before any dial: a dial would have failed name resolution.
		var dnsErr *net.DNSError
		var opErr *net.OpError
		if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
			t.Errorf("GET %s: refused only after trying the network: %v", url, err)
		}
	}
}

func TestHTTPClientAllowsPlainHTTPToLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("unexpected test server URL %s", srv.URL)
	}
	status, err := get(t, newClient(t, alexa.HTTPOptions{}), srv.URL+"/x")
	if err != nil || status != http.StatusTeapot {
		t.Fatalf("GET %s = %d, %v; want 418", srv.URL, status, err)
	}
}

// nonLoopbackIPv4 returns an address of this machine that is not loopback,
// or "" if it has none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

func TestHTTPClientAllowInsecureHTTP(t *testing.T) {
	t.Parallel()
	// Against an unresolvable host the request gets past the scheme check
	// and fails in name resolution, a local failure.
	_, err := get(t, newClient(t, alexa.HTTPOptions{AllowInsecureHTTP: true}), "http://example.invalid/")
	var ie *alexa.InsecureURLError
	if err == nil || errors.As(err, &ie) {
		t.Fatalf("AllowInsecureHTTP: err = %v, want a network error that is no InsecureURLError", err)
	}

	// Against a server on a non-loopback address of this machine it goes
	// through, where the default client refuses.
	ip := nonLoopbackIPv4()
	if ip == "" {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	if _, err := get(t, newClient(t, alexa.HTTPOptions{}), srv.URL); !errors.As(err, &ie) {
		t.Errorf("default client to %s: err = %v, want *alexa.InsecureURLError", srv.URL, err)
	}
	if status, err := get(t, newClient(t, alexa.HTTPOptions{AllowInsecureHTTP: true}), srv.URL); err != nil || status != 200 {
		t.Errorf("AllowInsecureHTTP client to %s = %d, %v; want 200", srv.URL, status, err)
	}
}

func TestHTTPClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var other atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	defer target.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/stolen", code)
		}))
		status, err := get(t, newClient(t, alexa.HTTPOptions{}), srv.URL)
		srv.Close()
		if err != nil || status != code {
			t.Errorf("redirect %d: got %d, %v; want the %d itself", code, status, err, code)
		}
	}
	if n := other.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
}

func TestHTTPClientHTTPSPassesSchemeCheck(t *testing.T) {
	t.Parallel()
	// The default client verifies certificates with the system roots, so
	// the test server's certificate is refused: by TLS, not by the scheme
	// check.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	_, err := get(t, newClient(t, alexa.HTTPOptions{}), srv.URL)
	var ie *alexa.InsecureURLError
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ie) || !errors.As(err, &ce) {
		t.Fatalf("https to a test server: err = %v, want a certificate verification error", err)
	}
}

func TestHTTPClientTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	_, err := get(t, newClient(t, alexa.HTTPOptions{Timeout: 50 * time.Millisecond}), srv.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestInsecureURLErrorMessage(t *testing.T) {
	t.Parallel()
	msg := (&alexa.InsecureURLError{URL: "http://api.amazonalexa.com"}).Error()
	for _, want := range []string{"http://api.amazonalexa.com", "https", "loopback"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to mention %q", msg, want)
		}
	}
}

func TestRegionEndpoint(t *testing.T) {
	t.Parallel()
	for r, want := range map[alexa.Region]string{
		alexa.RegionNA: "https://api.amazonalexa.com",
		alexa.RegionEU: "https://api.eu.amazonalexa.com",
		alexa.RegionFE: "https://api.fe.amazonalexa.com",
		"eu":           "https://api.eu.amazonalexa.com",
		"Fe":           "https://api.fe.amazonalexa.com",
		"":             "",
		"US":           "",
		"EUROPE":       "",
	} {
		if got := r.Endpoint(); got != want {
			t.Errorf("Region(%q).Endpoint() = %q, want %q", r, got, want)
		}
	}
}
