package transport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
)

// The HTTP client's Timeout bounds a call made with a context that never
// ends (the Caller shares one deadline between calls starting about the
// same time), and one made with a context of the caller's own: neither
// waits for a server that never answers.
func TestCallerClientTimeout(t *testing.T) {
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
	cfg := alexa.Config{
		Endpoint:   srv.URL,
		Tokens:     &stubTokens{},
		Retry:      alexa.NoRetry(),
		HTTPClient: alexa.NewHTTPClient(alexa.HTTPOptions{Timeout: 50 * time.Millisecond, ResponseHeaderTimeout: time.Hour}),
	}
	c := transport.New(cfg)
	cancelable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ctx := range []context.Context{context.Background(), cancelable} {
		_, err := c.Do(ctx, &transport.Request{Op: "test", Method: http.MethodPost, Path: "/hang", Scope: "s", Body: []byte("{}")})
		var te *alexa.TransportError
		if !errors.As(err, &te) || !te.Sent || !errors.Is(err, alexa.ErrOutcomeUnknown) {
			t.Errorf("err = %v, want a *TransportError of unknown outcome", err)
		}
		if ctx.Err() != nil {
			t.Errorf("the call ended its caller's context: %v", ctx.Err())
		}
	}
}
