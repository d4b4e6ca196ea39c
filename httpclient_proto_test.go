package alexa_test

import (
	"net/http"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

// The default client speaks HTTP/1.1 to a server offering h2 and
// http/1.1 (the faster of the two, measured); HTTPOptions.HTTP2 makes it
// speak HTTP/2.
func TestHTTPClientProtocol(t *testing.T) {
	t.Parallel()
	srv := benchtls.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		opts alexa.HTTPOptions
		want string
	}{
		{alexa.HTTPOptions{TLSConfig: srv.TLSConfig()}, "HTTP/1.1"},
		{alexa.HTTPOptions{TLSConfig: srv.TLSConfig(), HTTP2: true}, "HTTP/2.0"},
	} {
		resp, err := alexa.NewHTTPClient(tc.opts).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Proto"); got != tc.want || resp.Proto != tc.want {
			t.Errorf("HTTP2 %v: server saw %s, client %s; want %s", tc.opts.HTTP2, got, resp.Proto, tc.want)
		}
	}
	// Without TLSConfig the system's roots apply: the test certificate
	// is refused.
	if _, err := alexa.NewHTTPClient(alexa.HTTPOptions{}).Get(srv.URL); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}
