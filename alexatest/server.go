package alexatest

import (
	"net/http"
	"net/http/httptest"
	"time"

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

// NewServer starts an Emulator with opts on a loopback port, with the
// timeouts of HTTPServer. Close it when done.
func NewServer(opts Options) *Server {
	e := New(opts)
	srv := httptest.NewUnstartedServer(e)
	hs := e.HTTPServer(e)
	srv.Config.ReadHeaderTimeout, srv.Config.IdleTimeout = hs.ReadHeaderTimeout, hs.IdleTimeout
	srv.Start()
	e.sk.setAPIEndpoint(srv.URL)
	return &Server{Emulator: e, URL: srv.URL, TokenURL: srv.URL + TokenPath, srv: srv}
}

// idleTimeout closes a keep-alive connection left unused this long:
// longer than clients keep theirs (90 s for Go's), so that the client,
// not the emulator, closes it in the normal case.
const idleTimeout = 2 * time.Minute

// HTTPServer returns an http.Server serving h (the emulator, or a handler
// wrapping it) that cuts slow and idle clients off: request headers must
// arrive within Options.ReadTimeout (the emulator bounds the body's time
// itself) and an idle connection is closed after two minutes. There is no
// write timeout, so that an injected Fault.Latency is served in full.
func (e *Emulator) HTTPServer(h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: e.readTimeout, IdleTimeout: idleTimeout}
	srv.RegisterOnShutdown(e.console.closeStreams) // console feeds never end by themselves
	return srv
}

// Config returns a client configuration pointed at the server, with
// credentials it accepts. Retries keep the default policy.
func (s *Server) Config() alexa.Config {
	return alexa.Config{Credentials: s.Credentials(), Endpoint: s.URL, TokenURL: s.TokenURL}
}

// Close shuts the server down and waits for its calls to finish, and
// for the requests being sent to the skill (see Emulator.Close).
func (s *Server) Close() {
	s.Emulator.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
}
