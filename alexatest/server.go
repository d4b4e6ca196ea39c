package alexatest

import (
	"net/http/httptest"

	"github.com/alexa-oos/alexa"
)

// Server is an Emulator listening on a loopback port, like
// httptest.Server.
type Server struct {
	*Emulator
	// URL is the API endpoint, such as http://127.0.0.1:54321.
	URL string
	// TokenURL is the LWA token endpoint.
	TokenURL string

	srv *httptest.Server
}

// NewServer starts an Emulator with opts on a loopback port. Close it
// when done.
func NewServer(opts Options) *Server {
	e := New(opts)
	srv := httptest.NewServer(e)
	return &Server{Emulator: e, URL: srv.URL, TokenURL: srv.URL + TokenPath, srv: srv}
}

// Config returns a client configuration pointed at the server, with
// credentials it accepts. Retries keep the default policy.
func (s *Server) Config() alexa.Config {
	return alexa.Config{Credentials: s.Credentials(), Endpoint: s.URL, TokenURL: s.TokenURL}
}

// Close shuts the server down and waits for its calls to finish.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}
