package main

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/benchtls"
)

// The command speaks HTTP/1.1 to a TLS server offering h2 and http/1.1,
// as measured faster, and HTTP/2 with --http2: to the API and to LWA.
func TestHTTP2Flag(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	protos := map[string]int{}
	bare := benchtls.Bare()
	srv := benchtls.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.Proto]++
		mu.Unlock()
		bare.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := srv.WriteCert(cert); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SSL_CERT_FILE":       cert,
		"ALEXA_CLIENT_ID":     alexatest.DefaultClientID,
		"ALEXA_CLIENT_SECRET": alexatest.DefaultClientSecret,
		"ALEXA_API_ENDPOINT":  srv.URL,
		"ALEXA_TOKEN_URL":     srv.URL + benchtls.TokenPath,
	}
	for _, tc := range []struct {
		args  []string
		proto string
	}{{nil, "HTTP/1.1"}, {[]string{"--http2"}, "HTTP/2.0"}} {
		mu.Lock()
		clear(protos)
		mu.Unlock()
		r := run(t, env, "", append([]string{"message", "send", "--user", "amzn1.ask.account.P"}, tc.args...)...)
		if r.code != 0 {
			t.Fatalf("%v: %s", tc.args, r)
		}
		mu.Lock()
		if len(protos) != 1 || protos[tc.proto] != 2 {
			t.Errorf("%v: requests by protocol %v, want the token and the message over %s", tc.args, protos, tc.proto)
		}
		mu.Unlock()
	}
}
