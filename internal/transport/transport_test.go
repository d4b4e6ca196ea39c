package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/google/go-cmp/cmp"
)

const (
	visibleID    = "amzn1.application-oa2-client.visible-id-7f3a"
	hiddenSecret = "sEcReT-Zq81x-DoNoTlEaK"
)

// setup starts a test server and returns its mux and a Config pointing at
// it: API and token endpoint on the server,
// the default HTTP client, and a retry policy with millisecond backoff.
// Tokens is a stubTokens.
func setup(t *testing.T) (*http.ServeMux, alexa.Config, *stubTokens) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	client := alexa.NewHTTPClient(alexa.HTTPOptions{})
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	tokens := &stubTokens{}
	cfg := alexa.Config{
		Endpoint:    srv.URL,
		TokenURL:    srv.URL + "/auth/o2/token",
		Credentials: alexa.Credentials{ClientID: visibleID, ClientSecret: hiddenSecret + "/" + t.Name()},
		HTTPClient:  client,
		Retry:       fastRetry(3),
		Tokens:      tokens,
	}
	return mux, cfg, tokens
}

// fastRetry is the default policy with millisecond backoff.
func fastRetry(attempts int) *alexa.RetryPolicy {
	return &alexa.RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: time.Minute}
}

// stubTokens is a TokenProvider handing out "Atza|bearer-N", a new N after
// each invalidation of the current token.
type stubTokens struct {
	mu          sync.Mutex
	n           int
	current     string
	calls       int
	invalidated []string
	err         error
}

func (s *stubTokens) Token(ctx context.Context, scope string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return "", s.err
	}
	if s.current == "" {
		s.n++
		s.current = fmt.Sprintf("Atza|bearer-%d", s.n)
	}
	return s.current, nil
}

func (s *stubTokens) Invalidate(scope, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, token)
	if token == s.current {
		s.current = ""
	}
}

func (s *stubTokens) stats() (calls int, invalidated []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]string(nil), s.invalidated...)
}

// seen is one request as the server saw it.
type seen struct {
	Method, Path, Auth, ContentType, UserAgent, Body string
	At                                               time.Time
}

// script answers the n-th request (0-based) with responses[n], repeating
// the last one, and records every request.
type script struct {
	mu        sync.Mutex
	requests  []seen
	responses []func(w http.ResponseWriter)
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, seen{
		Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"),
		UserAgent:   r.Header.Get("User-Agent"), Body: string(body), At: time.Now(),
	})
	respond := s.responses[min(n, len(s.responses)-1)]
	s.mu.Unlock()
	respond(w)
}

func (s *script) seen() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.requests...)
}

// status answers with code, the headers in kv pairs, and body.
func status(code int, body string, kv ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

const testPath = "/v1/skillmessages/users/amzn1.ask.account.X"

func serve(mux *http.ServeMux, responses ...func(w http.ResponseWriter)) *script {
	s := &script{responses: responses}
	mux.Handle(testPath, s)
	return s
}

func request() *transport.Request {
	return &transport.Request{Op: "test.Send", Method: http.MethodPost, Path: testPath, Scope: "alexa:skill_messaging", Body: []byte(`{"data":{"k":"v"}}`)}
}

func TestCallerSuccess(t *testing.T) {
	t.Parallel()
	mux, cfg, tokens := setup(t)
	cfg.UserAgentSuffix = "my-skill/1.2"
	s := serve(mux, status(http.StatusAccepted, `{"ok":true}`, "X-Amzn-RequestId", "req-1"))

	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.StatusCode != 202 || resp.Attempts != 1 || string(resp.Body) != `{"ok":true}` || resp.Header.Get("X-Amzn-RequestId") != "req-1" {
		t.Errorf("Response = %+v", resp)
	}
	got := s.seen()
	if len(got) != 1 {
		t.Fatalf("server got %d requests, want 1", len(got))
	}
	want := seen{
		Method: "POST", Path: testPath, Auth: "Bearer Atza|bearer-1",
		ContentType: "application/json",
		UserAgent:   "alexa-oos-go/" + alexa.Version + " go/" + runtime.Version() + " my-skill/1.2",
		Body:        `{"data":{"k":"v"}}`, At: got[0].At,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if calls, _ := tokens.stats(); calls != 1 {
		t.Errorf("Token called %d times, want 1", calls)
	}
}

func TestCallerWithoutBody(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	s := serve(mux, status(http.StatusOK, ""))
	r := request()
	r.Method, r.Body = http.MethodDelete, nil
	if _, err := transport.New(cfg).Do(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := s.seen()[0]; got.ContentType != "" || got.Body != "" || got.Method != "DELETE" {
		t.Errorf("request without body: %+v", got)
	}
}

func TestCallerEndpointTrailingSlash(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.Endpoint += "/"
	s := serve(mux, status(http.StatusAccepted, ""))
	if _, err := transport.New(cfg).Do(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if got := s.seen()[0].Path; got != testPath {
		t.Errorf("path = %q, want %q", got, testPath)
	}
}

func TestCallerNeedsTokens(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New without Tokens did not panic")
		}
	}()
	transport.New(alexa.Config{})
}

func TestCallerRetriesServerErrors(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	var retries atomic.Int32
	cfg.Retry.OnRetry = func(int, error, time.Duration) { retries.Add(1) }
	s := serve(mux, status(500, ""), status(500, ""), status(202, ""))
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Attempts != 3 || resp.StatusCode != 202 {
		t.Errorf("Response = %+v, want 202 after 3 attempts", resp)
	}
	got := s.seen()
	if len(got) != 3 || retries.Load() != 2 {
		t.Fatalf("server got %d requests and OnRetry %d calls, want 3 and 2", len(got), retries.Load())
	}
	for i, r := range got {
		if r.Body != `{"data":{"k":"v"}}` {
			t.Errorf("attempt %d sent body %q: the body must be resent whole", i+1, r.Body)
		}
	}
}

func TestCallerGivesUp(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	s := serve(mux, status(500, `{"code":"INTERNAL","message":"oops"}`))
	_, err := transport.New(cfg).Do(context.Background(), request())
	var ae *alexa.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *alexa.Error", err, err)
	}
	if ae.StatusCode != 500 || ae.Attempts != 3 || ae.Code != "INTERNAL" || ae.Message != "oops" || ae.Op != "test.Send" {
		t.Errorf("Error = %+v", ae)
	}
	if n := len(s.seen()); n != 3 {
		t.Errorf("server got %d requests, want 3", n)
	}
}

func TestCallerNoRetry(t *testing.T) {
	t.Parallel()
	for _, code := range []int{429, 500, 503} {
		mux, cfg, _ := setup(t)
		cfg.Retry = alexa.NoRetry()
		s := serve(mux, status(code, ""))
		_, err := transport.New(cfg).Do(context.Background(), request())
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != code || ae.Attempts != 1 {
			t.Errorf("HTTP %d with NoRetry: err = %v", code, err)
		}
		if n := len(s.seen()); n != 1 {
			t.Errorf("HTTP %d with NoRetry: server got %d requests, want 1", code, n)
		}
	}
}

func TestCallerPermanentErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 404, 409, 413, 432} {
		mux, cfg, _ := setup(t)
		s := serve(mux, status(code, `{"code":"X","message":"no"}`))
		_, err := transport.New(cfg).Do(context.Background(), request())
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != code || ae.Attempts != 1 {
			t.Errorf("HTTP %d: err = %v", code, err)
		}
		if n := len(s.seen()); n != 1 {
			t.Errorf("HTTP %d: server got %d requests, want 1", code, n)
		}
	}
}

func TestCallerHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	var waits []time.Duration
	cfg.Retry.OnRetry = func(_ int, _ error, wait time.Duration) { waits = append(waits, wait) }
	s := serve(mux, status(429, "", "Retry-After", "1"), status(202, ""))
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2", resp.Attempts)
	}
	got := s.seen()
	if len(got) != 2 {
		t.Fatalf("server got %d requests, want 2", len(got))
	}
	if gap := got[1].At.Sub(got[0].At); gap < time.Second {
		t.Errorf("retry arrived %v after the 429, want at least the Retry-After of 1s", gap)
	}
	if len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("OnRetry waits = %v, want [1s]", waits)
	}
}

func TestCallerRetryAfterBeyondDeadline(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	s := serve(mux, status(429, `{"message":"slow down"}`, "Retry-After", "30"), status(202, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := transport.New(cfg).Do(ctx, request())
	if ctx.Err() != nil {
		t.Fatal("Do waited until the deadline instead of returning at once")
	}
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != 30*time.Second || ae.Attempts != 1 {
		t.Fatalf("err = %v, want the 429 *alexa.Error with RetryAfter 30s", err)
	}
	if !errors.Is(err, alexa.ErrThrottled) {
		t.Error("errors.Is(err, ErrThrottled) = false")
	}
	if n := len(s.seen()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestCallerRetryAfterBeyondMaxRetryAfter(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.Retry.MaxRetryAfter = 5 * time.Second
	s := serve(mux, status(429, "", "Retry-After", "3600"), status(202, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := transport.New(cfg).Do(ctx, request())
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want the 429 *alexa.Error with RetryAfter 1h", err)
	}
	if n := len(s.seen()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestCallerReauthenticatesOnce(t *testing.T) {
	t.Parallel()
	for _, code := range []int{401, 403} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			mux, cfg, tokens := setup(t)
			s := serve(mux, status(code, `{"message":"Invalid token"}`), status(202, ""))
			resp, err := transport.New(cfg).Do(context.Background(), request())
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Attempts != 2 {
				t.Errorf("Attempts = %d, want 2", resp.Attempts)
			}
			got := s.seen()
			if len(got) != 2 || got[0].Auth != "Bearer Atza|bearer-1" || got[1].Auth != "Bearer Atza|bearer-2" {
				t.Fatalf("requests = %+v, want bearer-1 then a fresh bearer-2", got)
			}
			calls, inv := tokens.stats()
			if calls != 2 || len(inv) != 1 || inv[0] != "Atza|bearer-1" {
				t.Errorf("Token called %d times, invalidated %q; want 2 and [Atza|bearer-1]", calls, inv)
			}
		})
	}
}

func TestCallerRefusedTwice(t *testing.T) {
	t.Parallel()
	mux, cfg, tokens := setup(t)
	s := serve(mux, status(403, `{"message":"Request is not authorized."}`))
	// A deadline turns an endless re-authentication loop into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := transport.New(cfg).Do(ctx, request())
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Attempts != 2 {
		t.Fatalf("err = %v, want *alexa.Error 403 after 2 attempts", err)
	}
	if !errors.Is(err, alexa.ErrUnauthorized) {
		t.Error("errors.Is(err, ErrUnauthorized) = false")
	}
	if n := len(s.seen()); n != 2 {
		t.Errorf("server got %d requests, want exactly 2", n)
	}
	if _, inv := tokens.stats(); len(inv) != 1 {
		t.Errorf("Invalidate called %d times, want 1", len(inv))
	}
	if !errors.As(err, &ae) || !strings.Contains(ae.Hint(), "permission") {
		t.Errorf("Hint() of %q: want a hint about the permission", err)
	}
}

func TestCallerReauthDoesNotUseRetryBudget(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.Retry = fastRetry(2)
	s := serve(mux, status(401, ""), status(503, ""), status(202, ""))
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Attempts != 3 || len(s.seen()) != 3 {
		t.Errorf("Attempts = %d, requests = %d; want 3 and 3", resp.Attempts, len(s.seen()))
	}
}

func TestCallerHTMLErrorBody(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	const page = `<html><body>Forbidden</body></html>`
	serve(mux, status(403, page, "Content-Type", "text/html"))
	_, err := transport.New(cfg).Do(context.Background(), request())
	var ae *alexa.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *alexa.Error", err, err)
	}
	if ae.StatusCode != 403 || string(ae.Body) != page || ae.Code != "" || ae.Message != "" || ae.Header.Get("Content-Type") != "text/html" {
		t.Errorf("Error = %+v", ae)
	}
	if !strings.Contains(ae.Error(), page) {
		t.Errorf("Error() = %q, want the page in the message", ae.Error())
	}
}

func TestCallerDecodesErrorCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ body, code string }{
		{`{"code": 400, "message":"x"}`, "400"},
		{`{"code":"INVALID","message":"x"}`, "INVALID"},
	} {
		mux, cfg, _ := setup(t)
		serve(mux, status(400, tt.body, "Content-Type", "application/json"))
		_, err := transport.New(cfg).Do(context.Background(), request())
		var ae *alexa.Error
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v (%T), want *alexa.Error", err, err)
		}
		want := errFields{Op: "test.Send", StatusCode: 400, Code: tt.code, Message: "x", Body: tt.body}
		if diff := cmp.Diff(want, fieldsOf(ae)); diff != "" {
			t.Errorf("body %s (-want +got):\n%s", tt.body, diff)
		}
	}
}

func TestCallerSentinels(t *testing.T) {
	t.Parallel()
	for code, sentinel := range map[int]error{
		429: alexa.ErrThrottled,
		409: alexa.ErrDuplicate,
		432: alexa.ErrNotificationLimit,
		401: alexa.ErrUnauthorized,
		403: alexa.ErrUnauthorized,
		404: alexa.ErrNotFound,
	} {
		mux, cfg, _ := setup(t)
		cfg.Retry = alexa.NoRetry()
		serve(mux, status(code, `{"code":"X","message":"m"}`))
		_, err := transport.New(cfg).Do(context.Background(), request())
		if !errors.Is(err, sentinel) {
			t.Errorf("HTTP %d: errors.Is(%v, %v) = false", code, err, sentinel)
		}
	}
}

func TestCallerTransportError(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		_, cfg, _ := setup(t)
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		cfg.Endpoint = dead.URL
		_, err := transport.New(cfg).Do(context.Background(), request())
		checkTransportError(t, err, dead.URL+testPath, 3)
	})

	t.Run("connection dropped before the response", func(t *testing.T) {
		mux, cfg, _ := setup(t)
		var n atomic.Int32
		mux.HandleFunc(testPath, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		_, err := transport.New(cfg).Do(context.Background(), request())
		checkTransportError(t, err, cfg.Endpoint+testPath, 3)
		if n.Load() < 3 {
			t.Errorf("server got %d requests, want the transport failure retried (3)", n.Load())
		}
	})

	t.Run("plain http to a remote host", func(t *testing.T) {
		_, cfg, tokens := setup(t)
		cfg.Endpoint = "http://example.invalid"
		cfg.Retry = alexa.NoRetry()
		_, err := transport.New(cfg).Do(context.Background(), request())
		checkTransportError(t, err, "http://example.invalid"+testPath, 1)
		var ie *alexa.InsecureURLError
		if !errors.As(err, &ie) {
			t.Errorf("err = %v, want it to wrap *alexa.InsecureURLError", err)
		}
		if calls, _ := tokens.stats(); calls != 1 {
			t.Errorf("Token called %d times", calls)
		}
	})
}

// writeTruncated writes a 200 response promising 100 bytes and sends 10.
func writeTruncated(buf *bufio.ReadWriter) {
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	buf.WriteString(`{"access_`)
	buf.Flush()
}

func checkTransportError(t *testing.T, err error, url string, attempts int) {
	t.Helper()
	var te *alexa.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *alexa.TransportError", err, err)
	}
	if te.Op != "test.Send" || te.Method != "POST" || te.URL != url || te.Attempts != attempts || te.Err == nil {
		t.Errorf("TransportError = %+v, want Op test.Send, POST %s, %d attempts", te, url, attempts)
	}
	var ae *alexa.Error
	if errors.As(err, &ae) {
		t.Errorf("a transport failure matched *alexa.Error %+v", ae)
	}
}

func TestCallerCancelled(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	arrived, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(done) })
	mux.HandleFunc(testPath, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := transport.New(cfg).Do(ctx, request())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap context.Canceled", err)
	}
	var ae *alexa.Error
	if errors.As(err, &ae) {
		t.Errorf("a cancelled call matched *alexa.Error %+v", ae)
	}
}

func TestCallerTokenError(t *testing.T) {
	t.Parallel()
	mux, cfg, tokens := setup(t)
	tokens.err = &alexa.ValidationError{Op: "lwa.Token", Violations: []alexa.Violation{{Field: "clientSecret", Rule: "is required"}}}
	s := serve(mux, status(202, ""))
	_, err := transport.New(cfg).Do(context.Background(), request())
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want the token provider's error", err)
	}
	if n := len(s.seen()); n != 0 {
		t.Errorf("server got %d requests without a token", n)
	}
}

func TestCallerLogsNoSecrets(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	var buf bytes.Buffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	serve(mux, status(500, `{"message":"oops"}`), status(401, ""), status(202, ""))
	if _, err := transport.New(cfg).Do(context.Background(), request()); err != nil {
		t.Fatal(err)
	}

	// A transport failure is logged too.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg.Endpoint = dead.URL
	cfg.Retry = fastRetry(2)
	if _, err := transport.New(cfg).Do(context.Background(), request()); err == nil {
		t.Fatal("call to a closed server succeeded")
	}

	out := buf.String()
	for _, want := range []string{`"alexa: http"`, `"alexa: retrying"`, `"status":500`, `"status":202`, `"op":"test.Send"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{"Atza|", "bearer-", "Bearer", hiddenSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestCallerConfigDefaults(t *testing.T) {
	t.Parallel()
	c := transport.New(alexa.Config{Tokens: &stubTokens{}}).Config()
	if c.Endpoint != alexa.EndpointNA || c.TokenURL != alexa.DefaultTokenURL || c.HTTPClient == nil || c.Codec == nil ||
		c.Retry == nil || c.Retry.MaxAttempts != 3 || c.Logger == nil || c.RefreshMargin != alexa.DefaultRefreshMargin {
		t.Errorf("defaults not applied: %+v", c)
	}
	if ct := c.Codec.ContentType(); ct != "application/json" {
		t.Errorf("default codec content type = %q", ct)
	}
}

func TestCallerDefaultHTTPClientAllowsLoopback(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.HTTPClient = nil // the package's default client
	serve(mux, status(202, ""))
	if _, err := transport.New(cfg).Do(context.Background(), request()); err != nil {
		t.Fatalf("default client to %s: %v", cfg.Endpoint, err)
	}
}

// hangUpAfterReading reads the whole request, then closes the connection
// without an answer: the request arrived, its outcome is unknown.
func hangUpAfterReading(mux *http.ServeMux, times int) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc(testPath, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if int(n.Add(1)) <= times {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return &n
}

func TestCallerOutcomeUnknownRetriedByDefault(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	n := hangUpAfterReading(mux, 1)
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if !resp.MaybeDuplicated || resp.Attempts != 2 || n.Load() != 2 {
		t.Errorf("MaybeDuplicated = %v, Attempts = %d, server got %d; want true, 2, 2", resp.MaybeDuplicated, resp.Attempts, n.Load())
	}
}

func TestCallerAtMostOnce(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	n := hangUpAfterReading(mux, 1)
	r := request()
	r.AtMostOnce = true
	_, err := transport.New(cfg).Do(context.Background(), r)
	if !errors.Is(err, alexa.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want it to match ErrOutcomeUnknown", err)
	}
	var te *alexa.TransportError
	if !errors.As(err, &te) || !te.Sent || te.Attempts != 1 {
		t.Errorf("TransportError = %+v, want Sent after 1 attempt", te)
	}
	if n.Load() != 1 {
		t.Errorf("server got %d requests, want 1: at most once", n.Load())
	}
}

func TestCallerAtMostOnceRetriesWhatWasNotSent(t *testing.T) {
	t.Parallel()
	_, cfg, _ := setup(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg.Endpoint = dead.URL
	r := request()
	r.AtMostOnce = true
	_, err := transport.New(cfg).Do(context.Background(), r)
	checkTransportError(t, err, dead.URL+testPath, 3)
	var te *alexa.TransportError
	if errors.As(err, &te) && te.Sent {
		t.Error("a refused connection is reported as Sent")
	}
	if errors.Is(err, alexa.ErrOutcomeUnknown) {
		t.Error("a refused connection matches ErrOutcomeUnknown")
	}
}

func TestCallerHugeRetryAfterReturnsAtOnce(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1e7", "120", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		mux, cfg, _ := setup(t)
		s := serve(mux, status(429, "", "Retry-After", v), status(202, ""))
		_, err := transport.New(cfg).Do(context.Background(), request())
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter < 2*time.Minute || ae.Attempts != 1 {
			t.Errorf("Retry-After %s: err = %v, want the 429 with its RetryAfter after 1 attempt", v, err)
		}
		if n := len(s.seen()); n != 1 {
			t.Errorf("Retry-After %s: server got %d requests, want 1", v, n)
		}
	}
}

// hijack answers with what write puts on the raw connection, then closes it.
func hijack(mux *http.ServeMux, write func(buf *bufio.ReadWriter)) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc(testPath, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.ReadAll(r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		write(buf)
	})
	return &n
}

func TestCallerTruncated2xxIsDelivered(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	n := hijack(mux, writeTruncated)
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err != nil {
		t.Fatalf("Do: %v; want success: the status line said 200", err)
	}
	if resp.StatusCode != 200 || resp.BodyErr == nil || resp.Attempts != 1 {
		t.Errorf("Response = %+v, want 200 with BodyErr after 1 attempt", resp)
	}
	if n.Load() != 1 {
		t.Errorf("server got %d requests, want 1: a 2xx is not retried", n.Load())
	}
}

func TestCallerTruncatedErrorIsAnError(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.Retry = alexa.NoRetry()
	hijack(mux, func(buf *bufio.ReadWriter) {
		buf.WriteString("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
		buf.WriteString(`{"code":"INVALID`)
		buf.Flush()
	})
	_, err := transport.New(cfg).Do(context.Background(), request())
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || string(ae.Body) != `{"code":"INVALID` {
		t.Errorf("err = %v, want the 400 *alexa.Error with the partial body", err)
	}
}

func TestCallerNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	clients := map[string]func() alexa.HTTPClient{
		"default client":    func() alexa.HTTPClient { return nil },
		"plain http.Client": func() alexa.HTTPClient { return &http.Client{} },
	}
	for name, client := range clients {
		for _, code := range []int{301, 302, 303, 307, 308} {
			t.Run(fmt.Sprint(name, " ", code), func(t *testing.T) {
				t.Parallel()
				mux, cfg, _ := setup(t)
				if c := client(); c != nil {
					cfg.HTTPClient = c
				}
				var target atomic.Int32
				mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
					target.Add(1)
					w.WriteHeader(http.StatusAccepted)
				})
				s := serve(mux, func(w http.ResponseWriter) {
					w.Header().Set("Location", cfg.Endpoint+"/elsewhere")
					w.WriteHeader(code)
				})
				resp, err := transport.New(cfg).Do(context.Background(), request())
				var ae *alexa.Error
				if !errors.As(err, &ae) || ae.StatusCode != code || !errors.Is(err, alexa.ErrRedirected) {
					t.Fatalf("Do = %+v, %v; want the %d as an *alexa.Error matching ErrRedirected", resp, err, code)
				}
				if h := ae.Hint(); !strings.Contains(h, "never followed") || !strings.Contains(h, "/elsewhere") {
					t.Errorf("Hint() = %q, want a hint naming the policy and the Location", h)
				}
				if n := len(s.seen()); n != 1 || target.Load() != 0 {
					t.Errorf("server got %d requests and the target %d, want 1 and 0", n, target.Load())
				}
			})
		}
	}
}

// following is an HTTPClient that is not an *http.Client and follows
// redirects, as a careless wrapper might.
type following struct{ c *http.Client }

func (f following) Do(r *http.Request) (*http.Response, error) { return f.c.Do(r) }

func TestCallerRedirectFollowedByClientIsAnError(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	cfg.HTTPClient = following{&http.Client{}}
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	s := serve(mux, func(w http.ResponseWriter) {
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusFound)
	})
	resp, err := transport.New(cfg).Do(context.Background(), request())
	if err == nil {
		t.Fatalf("Do = %+v, want an error: the answer came from a redirect", resp)
	}
	var te *alexa.TransportError
	if !errors.As(err, &te) || !errors.Is(err, alexa.ErrRedirected) || te.Retryable() || te.Attempts != 1 {
		t.Errorf("err = %v (%+v), want a non-retryable *alexa.TransportError matching ErrRedirected", err, te)
	}
	if n := len(s.seen()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestCallerTransportErrorNamesURLOnce(t *testing.T) {
	t.Parallel()
	_, cfg, _ := setup(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg.Endpoint = dead.URL
	cfg.Retry = alexa.NoRetry()
	_, err := transport.New(cfg).Do(context.Background(), request())
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if n := strings.Count(err.Error(), dead.URL); n != 1 {
		t.Errorf("Error() = %q names the URL %d times, want once", err, n)
	}
}

func TestCallerPermanentTransportErrorsNotRetried(t *testing.T) {
	t.Parallel()
	t.Run("certificate", func(t *testing.T) {
		t.Parallel()
		_, cfg, _ := setup(t)
		var conns atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("request served despite the certificate") }))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		defer srv.Close()
		cfg.Endpoint = srv.URL // the default client does not trust the test certificate
		cfg.HTTPClient = nil
		_, err := transport.New(cfg).Do(context.Background(), request())
		var te *alexa.TransportError
		if !errors.As(err, &te) || te.Attempts != 1 || te.Retryable() {
			t.Errorf("err = %v, want a non-retryable *alexa.TransportError after 1 attempt", err)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})
	t.Run("plain http", func(t *testing.T) {
		t.Parallel()
		_, cfg, tokens := setup(t)
		cfg.Endpoint = "http://example.invalid"
		cfg.HTTPClient = nil
		_, err := transport.New(cfg).Do(context.Background(), request())
		var te *alexa.TransportError
		var ie *alexa.InsecureURLError
		if !errors.As(err, &te) || !errors.As(err, &ie) || te.Attempts != 1 {
			t.Errorf("err = %v, want *alexa.InsecureURLError after 1 attempt", err)
		}
		if calls, _ := tokens.stats(); calls != 1 {
			t.Errorf("Token called %d times, want 1", calls)
		}
	})
}

// echo answers status with the request echoed, as some proxies and
// misconfigured servers do.
func echo(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
		r.Header.Write(&b)
		b.WriteString("\n")
		b.Write(body)
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.WriteHeader(status)
		w.Write(b.Bytes())
	}
}

func TestCallerRedactsEchoedCredentials(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 502} {
		mux, cfg, _ := setup(t)
		cfg.Retry = alexa.NoRetry()
		cfg.Credentials.RefreshToken = "Atzr|refresh-SECRET-value"
		mux.Handle(testPath, echo(status))
		r := request()
		r.Body = []byte(`{"note":"client_secret=` + cfg.Credentials.ClientSecret + `","access_token":"Atza|sneaky-SECRET"}`)
		_, err := transport.New(cfg).Do(context.Background(), r)
		var ae *alexa.Error
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v, want *alexa.Error", err)
		}
		for name, text := range map[string]string{
			"Error()": err.Error(), "%+v": fmt.Sprintf("%+v", err), "Body": string(ae.Body), "Message": ae.Message,
			"Header": fmt.Sprint(ae.Header),
		} {
			for _, secret := range []string{hiddenSecret, "Atza|bearer", "bearer-1", "SECRET"} {
				if strings.Contains(text, secret) {
					t.Errorf("HTTP %d: %s shows %q:\n%s", status, name, secret, text)
				}
			}
		}
		if !strings.Contains(string(ae.Body), "[redacted]") || !strings.Contains(string(ae.Body), "POST") {
			t.Errorf("Body = %q, want the echo kept with the credentials redacted", ae.Body)
		}
	}
}

func TestCallerCancelledAfterSendingIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	mux, cfg, _ := setup(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux.HandleFunc(testPath, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	errStop := errors.New("stopped by the caller")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-arrived
		cancel(errStop)
	}()
	_, err := transport.New(cfg).Do(ctx, request())
	if !errors.Is(err, alexa.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) || !errors.Is(err, errStop) {
		t.Errorf("err = %v, want it to match ErrOutcomeUnknown, context.Canceled and the cause", err)
	}
}
