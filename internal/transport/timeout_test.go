package transport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
)

// The HTTP client's Timeout bounds a call made with a context that never
// ends (the Caller shares one deadline between calls starting about the
// same time), and one made with a context of the caller's own, with or
// without a later deadline: none waits for a server that never answers,
// although the Caller calls the client's Transport directly.
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
	later, cancelLater := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLater()
	for _, ctx := range []context.Context{context.Background(), cancelable, later} {
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

// An *http.Client with a cookie jar is used through its Do, jar and all:
// the cookie the server set comes back on the next call.
func TestCallerKeepsTheClientsCookieJar(t *testing.T) {
	t.Parallel()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Cookie"))
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1"})
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := transport.New(alexa.Config{Endpoint: srv.URL, Tokens: &stubTokens{}, HTTPClient: &http.Client{Jar: jar}})
	for range 2 {
		if _, err := c.Do(context.Background(), &transport.Request{Op: "test", Method: http.MethodPost, Path: "/x", Scope: "s", Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"", "session=s1"}; !slices.Equal(got, want) {
		t.Errorf("Cookie headers = %q, want %q", got, want)
	}
}

// nilTransport answers neither a response nor an error, as a faulty
// RoundTripper might.
type nilTransport struct{}

func (nilTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, nil }

// A Transport answering nothing is a transport failure, not a panic.
func TestCallerTransportAnsweringNothing(t *testing.T) {
	t.Parallel()
	c := transport.New(alexa.Config{Endpoint: "https://api.example", Tokens: &stubTokens{}, Retry: alexa.NoRetry(), HTTPClient: &http.Client{Transport: nilTransport{}}})
	_, err := c.Do(context.Background(), &transport.Request{Op: "test", Method: http.MethodPost, Path: "/x", Scope: "s", Body: []byte("{}")})
	var te *alexa.TransportError
	if !errors.As(err, &te) {
		t.Errorf("err = %v, want an *alexa.TransportError", err)
	}
}
