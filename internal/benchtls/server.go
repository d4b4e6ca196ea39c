// Package benchtls is the test bed of alexa-oos's performance benchmarks:
// a loopback TLS server offering h2 and http/1.1 by ALPN (the shape of
// Alexa's HTTPS API), in this process or in a child process, a bare
// handler that answers the way the API does at the least cost, and the
// hand-written net/http sender every figure is compared with.
//
// It imports nothing of alexa-oos, so that any package's tests, the
// emulator's included, can use it.
package benchtls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
)

// Paths the bare handler serves, as Alexa does.
const (
	TokenPath    = "/auth/o2/token"
	MessagesPath = "/v1/skillmessages/users/"
	EventsPath   = "/v1/proactiveEvents"
)

// Token is the access token the bare handler hands out.
const Token = "Atza|benchtls-token"

// tokenBody is the bare handler's token response: one hour, as LWA's.
const tokenBody = `{"access_token":"` + Token + `","expires_in":3600,"token_type":"bearer","scope":"alexa:skill_messaging"}`

// Bare returns the least a server can do and still answer like Alexa: a
// token to any POST on TokenPath, 202 to any POST under MessagesPath or
// EventsPath carrying the bearer token (401 without it), 404 elsewhere.
// Every request body is read in full, as a real server must.
func Bare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case r.URL.Path == TokenPath:
			h := w.Header()
			h["Content-Type"] = []string{"application/json;charset=UTF-8"}
			_, _ = io.WriteString(w, tokenBody)
		case !strings.HasPrefix(r.URL.Path, MessagesPath) && !strings.HasPrefix(r.URL.Path, EventsPath):
			w.WriteHeader(http.StatusNotFound)
		case r.Header.Get("Authorization") != "Bearer "+Token:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
}

// Server is a TLS server on a loopback port offering h2 and http/1.1.
type Server struct {
	// URL is the server's base URL, https://127.0.0.1:port.
	URL string
	// Roots trusts the server's certificate.
	Roots *x509.CertPool

	srv   *httptest.Server
	conns atomic.Int64
}

// Start serves h over TLS on a loopback port, offering h2 and http/1.1
// by ALPN, with httptest's certificate for 127.0.0.1. Close it when done.
func Start(h http.Handler) *Server {
	s := &Server{srv: httptest.NewUnstartedServer(h)}
	s.srv.EnableHTTP2 = true
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.StartTLS()
	s.URL = s.srv.URL
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(s.srv.Certificate())
	return s
}

// Conns returns how many connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// TLSConfig returns a client TLS configuration trusting the server.
func (s *Server) TLSConfig() *tls.Config { return &tls.Config{RootCAs: s.Roots} }

// WriteCert writes the server's certificate as PEM to path, for a child
// process to trust (SSL_CERT_FILE).
func (s *Server) WriteCert(path string) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o600)
}

// Close shuts the server down.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}
