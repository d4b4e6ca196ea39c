package lwa_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/google/go-cmp/cmp"
)

const (
	clientID = "amzn1.application-oa2-client.lwa-test"
	// Every character x/www-form-urlencoded treats specially.
	clientSecret = "s3cr&t=+x y%"
	refreshToken = "Atzr|r&f=+ %tok"
	tokenPath    = "/auth/o2/token"
)

// setup starts a test server with a fresh mux and returns the mux and a
// Config pointing at it.
func setup(t *testing.T) (*http.ServeMux, alexa.Config) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	client := alexa.NewHTTPClient(alexa.HTTPOptions{})
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return mux, alexa.Config{
		Endpoint:    srv.URL,
		TokenURL:    srv.URL + tokenPath,
		Credentials: alexa.Credentials{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: refreshToken},
		HTTPClient:  client,
		Retry:       fastRetry(3),
	}
}

func fastRetry(attempts int) *alexa.RetryPolicy {
	return &alexa.RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: time.Minute}
}

// tokenRequest is one token request as the server saw it.
type tokenRequest struct {
	Method, Query, Authorization, ContentType, UserAgent string
	Form                                                 url.Values
}

// tokenEndpoint records token requests and answers the n-th (1-based)
// with respond.
type tokenEndpoint struct {
	mu       sync.Mutex
	requests []tokenRequest
	respond  func(w http.ResponseWriter, n int, form url.Values)
}

func handleTokens(mux *http.ServeMux, respond func(w http.ResponseWriter, n int, form url.Values)) *tokenEndpoint {
	e := &tokenEndpoint{respond: respond}
	mux.Handle(tokenPath, e)
	return e
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.requests = append(e.requests, tokenRequest{
		Method: r.Method, Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"), Form: r.PostForm,
	})
	n := len(e.requests)
	e.mu.Unlock()
	e.respond(w, n, r.PostForm)
}

func (e *tokenEndpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

func (e *tokenEndpoint) seen() []tokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tokenRequest(nil), e.requests...)
}

// issue answers with the token "Atza|tok-<n>" and expires_in (left out
// when nil), as LWA does.
func issue(expiresIn any) func(w http.ResponseWriter, n int, form url.Values) {
	return func(w http.ResponseWriter, n int, form url.Values) {
		body := map[string]any{"access_token": fmt.Sprintf("Atza|tok-%d", n), "token_type": "bearer", "scope": form.Get("scope")}
		if expiresIn != nil {
			body["expires_in"] = expiresIn
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		json.NewEncoder(w).Encode(body)
	}
}

// lwaError answers with LWA's error body.
func lwaError(status int, code, desc string) func(w http.ResponseWriter, n int, form url.Values) {
	return func(w http.ResponseWriter, n int, form url.Values) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
}

// sequence answers the n-th request with the n-th responder, repeating
// the last.
func sequence(rs ...func(w http.ResponseWriter, n int, form url.Values)) func(w http.ResponseWriter, n int, form url.Values) {
	return func(w http.ResponseWriter, n int, form url.Values) {
		rs[min(n, len(rs))-1](w, n, form)
	}
}

func mustToken(t *testing.T, p *lwa.Provider, scope string) string {
	t.Helper()
	tok, err := p.Token(context.Background(), scope)
	if err != nil {
		t.Fatalf("Token(%q): %v", scope, err)
	}
	return tok
}

func TestTokenRequestClientCredentials(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	p := lwa.NewProvider(cfg)
	scopes := []string{"alexa:abc", lwa.ScopeProactiveEvents, lwa.ScopeSkillMessaging, "alexa::a b&c=d+e%f"}
	for i, scope := range scopes {
		if tok := mustToken(t, p, scope); tok != fmt.Sprintf("Atza|tok-%d", i+1) {
			t.Errorf("Token(%q) = %q", scope, tok)
		}
	}
	got := ep.seen()
	if len(got) != len(scopes) {
		t.Fatalf("got %d token requests, want %d", len(got), len(scopes))
	}
	for i, scope := range scopes {
		want := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {clientID},
			"client_secret": {clientSecret},
			"scope":         {scope},
		}
		if diff := cmp.Diff(want, got[i].Form); diff != "" {
			t.Errorf("form for scope %q (-want +got):\n%s", scope, diff)
		}
		checkTokenRequestHeaders(t, got[i])
	}
}

func checkTokenRequestHeaders(t *testing.T, r tokenRequest) {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.Query != "" {
		t.Errorf("query = %q: credentials must travel in the body", r.Query)
	}
	if r.Authorization != "" {
		t.Errorf("Authorization = %q: LWA takes the credentials in the body, not Basic auth", r.Authorization)
	}
	if !strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	if !strings.HasPrefix(r.UserAgent, "alexa-oos-go/"+alexa.Version+" ") {
		t.Errorf("User-Agent = %q, want alexa-oos-go/%s ...", r.UserAgent, alexa.Version)
	}
}

func TestTokenFromRefreshToken(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	p := lwa.NewProvider(cfg)
	tok, err := p.TokenFromRefreshToken(context.Background())
	if err != nil || tok != "Atza|tok-1" {
		t.Fatalf("TokenFromRefreshToken = %q, %v", tok, err)
	}
	// Cached like any other token.
	at, err := p.AccessTokenFromRefreshToken(context.Background())
	if err != nil || at.AccessToken != "Atza|tok-1" || at.Expiry.IsZero() {
		t.Errorf("AccessTokenFromRefreshToken = %+v, %v; want the cached token with its expiry", at, err)
	}
	got := ep.seen()
	if len(got) != 1 {
		t.Fatalf("got %d token requests, want 1", len(got))
	}
	want := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
	}
	if diff := cmp.Diff(want, got[0].Form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	checkTokenRequestHeaders(t, got[0])
}

func TestRefreshGrantIsNoScope(t *testing.T) {
	t.Parallel()
	// The refresh-token grant has its own methods: no scope selects it,
	// and its token is never handed out for a scope, nor a scope's for it.
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	p := lwa.NewProvider(cfg)
	if tok := mustToken(t, p, "refresh_token"); tok != "Atza|tok-1" {
		t.Fatalf("Token(refresh_token) = %q", tok)
	}
	refreshed, err := p.TokenFromRefreshToken(context.Background())
	if err != nil || refreshed != "Atza|tok-2" {
		t.Fatalf("TokenFromRefreshToken = %q, %v; want a token of its own", refreshed, err)
	}
	got := ep.seen()
	if len(got) != 2 || got[0].Form.Get("grant_type") != "client_credentials" || got[0].Form.Get("scope") != "refresh_token" ||
		got[1].Form.Get("grant_type") != "refresh_token" || got[1].Form.Has("scope") {
		t.Errorf("token requests = %+v; want a client-credentials request for the scope \"refresh_token\", then a refresh", got)
	}
	// Invalidating one leaves the other cached.
	p.Invalidate("refresh_token", "")
	if tok, _ := p.TokenFromRefreshToken(context.Background()); tok != "Atza|tok-2" {
		t.Errorf("after Invalidate of the scope, TokenFromRefreshToken = %q, want the cached Atza|tok-2", tok)
	}
	p.InvalidateRefreshed("Atza|tok-2")
	if tok, _ := p.TokenFromRefreshToken(context.Background()); tok != "Atza|tok-3" {
		t.Errorf("after InvalidateRefreshed, TokenFromRefreshToken = %q, want a new token", tok)
	}
}

func TestClientCredentialsIgnoreRefreshToken(t *testing.T) {
	t.Parallel()
	// Credentials holding a refresh token still use the client-credentials
	// grant, with the scope, for Token (Python's SDK sends scope=None).
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	mustToken(t, lwa.NewProvider(cfg), lwa.ScopeSkillMessaging)
	f := ep.seen()[0].Form
	if f.Get("grant_type") != "client_credentials" || f.Get("scope") != lwa.ScopeSkillMessaging || f.Has("refresh_token") {
		t.Errorf("form = %v", f)
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	const n = 1000
	var started sync.WaitGroup
	started.Add(n)
	allStarted := make(chan struct{})
	go func() {
		started.Wait()
		close(allStarted)
	}()
	ep := handleTokens(mux, func(w http.ResponseWriter, k int, form url.Values) {
		<-allStarted
		issue(3600)(w, k, form)
	})
	p := lwa.NewProvider(cfg)
	tokens := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			started.Done()
			tokens[i], errs[i] = p.Token(context.Background(), "alexa:abc")
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || tokens[i] != "Atza|tok-1" {
			t.Fatalf("caller %d: %q, %v", i, tokens[i], errs[i])
		}
	}
	if c := ep.count(); c != 1 {
		t.Errorf("%d concurrent callers made %d token requests, want 1", n, c)
	}
}

func TestSingleFlightPerScopeAndSharedCache(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	const n = 200
	scopes := []string{lwa.ScopeProactiveEvents, lwa.ScopeSkillMessaging}
	var started sync.WaitGroup
	started.Add(n * len(scopes))
	allStarted := make(chan struct{})
	go func() {
		started.Wait()
		close(allStarted)
	}()
	ep := handleTokens(mux, func(w http.ResponseWriter, k int, form url.Values) {
		<-allStarted
		issue(3600)(w, k, form)
	})
	p := lwa.NewProvider(cfg)
	var mu sync.Mutex
	got := map[string]map[string]bool{} // scope -> tokens handed out
	var wg sync.WaitGroup
	for i := range n * len(scopes) {
		scope := scopes[i%len(scopes)]
		wg.Go(func() {
			started.Done()
			tok, err := p.Token(context.Background(), scope)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if got[scope] == nil {
				got[scope] = map[string]bool{}
			}
			got[scope][tok] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	perScope := map[string]int{}
	for _, r := range ep.seen() {
		perScope[r.Form.Get("scope")]++
	}
	if diff := cmp.Diff(map[string]int{lwa.ScopeProactiveEvents: 1, lwa.ScopeSkillMessaging: 1}, perScope); diff != "" {
		t.Errorf("token requests per scope (-want +got):\n%s", diff)
	}
	for _, s := range scopes {
		if len(got[s]) != 1 {
			t.Errorf("scope %s: callers got %d different tokens, want 1", s, len(got[s]))
		}
	}

	// A Provider built separately, from the same Config, has a cache of
	// its own: nothing is shared behind the caller's back.
	p2 := lwa.NewProvider(cfg)
	for _, s := range scopes {
		if tok := mustToken(t, p2, s); got[s][tok] {
			t.Errorf("second Provider, scope %s: got the first Provider's token %q", s, tok)
		}
	}
	if c := ep.count(); c != 4 {
		t.Errorf("second Provider made %d new token requests, want 2", c-2)
	}
	// The first still hands out its cached tokens.
	for _, s := range scopes {
		if tok := mustToken(t, p, s); !got[s][tok] {
			t.Errorf("first Provider, scope %s: got %q, want its cached token", s, tok)
		}
	}
	if c := ep.count(); c != 4 {
		t.Errorf("the first Provider made %d new token requests, want 0", c-4)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn any
		margin    time.Duration
		requests  int // after three Token calls
	}{
		// A lifetime shorter than the margin shrinks the margin to half
		// the lifetime: the token is still reused.
		{"expires within the default margin", 30, 0, 1},
		{"expires just within the default margin", 59, 0, 1},
		{"valid for an hour", 3600, 0, 1},
		{"expires_in as a string", "3600", 0, 1},
		{"no expires_in", nil, 0, 1},
		{"margin longer than the lifetime", 3600, 2 * time.Hour, 1},
		{"short lifetime, shorter margin", 30, 10 * time.Second, 1},
		// Zero or negative: used once, never cached (for an hour or at all).
		{"zero expires_in", 0, 0, 3},
		{"negative expires_in", -5, 0, 3},
		{"zero expires_in as a string", "0", 0, 3},
		{"negative expires_in as a string", "-60", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, cfg := setup(t)
			cfg.RefreshMargin = tt.margin
			ep := handleTokens(mux, issue(tt.expiresIn))
			p := lwa.NewProvider(cfg)
			var toks []string
			for range 3 {
				toks = append(toks, mustToken(t, p, "alexa:abc"))
			}
			if c := ep.count(); c != tt.requests {
				t.Errorf("3 Token calls made %d token requests, want %d (tokens %q)", c, tt.requests, toks)
			}
			if toks[2] != fmt.Sprintf("Atza|tok-%d", tt.requests) {
				t.Errorf("last token = %q, want the newest", toks[2])
			}
		})
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expiresIn any
		life      time.Duration
	}{
		{3600, time.Hour},
		{"1800", 30 * time.Minute},
		{120, 2 * time.Minute},
		{nil, lwa.DefaultLifetime},
	} {
		mux, cfg := setup(t)
		handleTokens(mux, issue(tt.expiresIn))
		before := time.Now()
		tok, err := lwa.NewProvider(cfg).AccessToken(context.Background(), "alexa:abc")
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		// Counted from the request's start: never later than the server
		// meant, and not much earlier.
		if tok.Expiry.After(after.Add(tt.life)) || tok.Expiry.Before(before.Add(tt.life-time.Minute)) {
			t.Errorf("expires_in %v: Expiry %v is not %v from the request", tt.expiresIn, tok.Expiry.Sub(before), tt.life)
		}
		if tok.AccessToken != "Atza|tok-1" || !tok.Valid() {
			t.Errorf("expires_in %v: token %+v", tt.expiresIn, tok)
		}
	}
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	p := lwa.NewProvider(cfg)
	const scope = "alexa:abc"
	if tok := mustToken(t, p, scope); tok != "Atza|tok-1" {
		t.Fatalf("first token %q", tok)
	}
	other := mustToken(t, p, lwa.ScopeSkillMessaging) // tok-2

	p.Invalidate(scope, "Atza|tok-1")
	if tok := mustToken(t, p, scope); tok != "Atza|tok-3" {
		t.Errorf("after Invalidate: %q, want a fresh token", tok)
	}
	// A second invalidation of the old token (another caller that saw it
	// refused) must not drop the new one.
	p.Invalidate(scope, "Atza|tok-1")
	if tok := mustToken(t, p, scope); tok != "Atza|tok-3" {
		t.Errorf("after a stale Invalidate: %q, want the newer token kept", tok)
	}
	if c := ep.count(); c != 3 {
		t.Errorf("%d token requests, want 3", c)
	}
	// The other scope is untouched.
	if tok := mustToken(t, p, lwa.ScopeSkillMessaging); tok != other {
		t.Errorf("other scope: %q, want %q", tok, other)
	}
	// An empty token drops whatever is cached.
	p.Invalidate(scope, "")
	if tok := mustToken(t, p, scope); tok != "Atza|tok-4" {
		t.Errorf("after Invalidate(scope, \"\"): %q, want a fresh token", tok)
	}
}

func TestCancelledCallerDoesNotBreakTheFetch(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	ep := handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) {
		arrived <- struct{}{}
		<-release
		issue(3600)(w, n, form)
	})
	p := lwa.NewProvider(cfg)
	const scope = "alexa::proactive_events"

	// A starts the fetch, then gives up.
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errA := make(chan error, 1)
	go func() {
		_, err := p.Token(ctxA, scope)
		errA <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the token request never arrived")
	}

	// B waits on the same fetch with a live context.
	type result struct {
		tok string
		err error
	}
	resB := make(chan result, 1)
	go func() {
		tok, err := p.Token(context.Background(), scope)
		resB <- result{tok, err}
	}()

	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: err = %v, want it to wrap context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled caller still waits for the blocked fetch")
	}

	once.Do(func() { close(release) })
	select {
	case r := <-resB:
		if r.err != nil || r.tok != "Atza|tok-1" {
			t.Errorf("live caller: %q, %v; want the token of the one fetch", r.tok, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the live caller never got the token")
	}
	if c := ep.count(); c != 1 {
		t.Errorf("%d token requests, want 1", c)
	}
	if tok := mustToken(t, p, scope); tok != "Atza|tok-1" {
		t.Errorf("afterwards: %q, want the cached token", tok)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	handleTokens(mux, issue(3600))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := lwa.NewProvider(cfg).Token(ctx, "alexa:abc")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

// lwaFields is what callers read off an *lwa.Error.
type lwaFields struct {
	Op          string
	StatusCode  int
	Code        string
	Description string
}

func asLWAError(t *testing.T, err error) *lwa.Error {
	t.Helper()
	var le *lwa.Error
	if !errors.As(err, &le) {
		t.Fatalf("err = %v (%T), want *lwa.Error", err, err)
	}
	return le
}

func TestErrorInvalidScope(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, lwaError(400, "invalid_scope", "The request has an invalid parameter : scope"))
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	le := asLWAError(t, err)
	want := lwaFields{Op: "lwa.Token(alexa:abc)", StatusCode: 400, Code: "invalid_scope", Description: "The request has an invalid parameter : scope"}
	if diff := cmp.Diff(want, lwaFields{le.Op, le.StatusCode, le.Code, le.Description}); diff != "" {
		t.Errorf("lwa.Error (-want +got):\n%s", diff)
	}
	if !strings.Contains(le.Hint(), "permission") || strings.Contains(err.Error(), le.Hint()) {
		t.Errorf("Hint() = %q, Error() = %q; want a hint about the permission, kept out of the message", le.Hint(), err)
	}
	if !strings.Contains(string(le.Body), "invalid_scope") || le.Header.Get("Content-Type") == "" {
		t.Errorf("Body %q / Header %v not kept", le.Body, le.Header)
	}
	if le.Retryable() || errors.Is(err, alexa.ErrUnauthorized) {
		t.Error("invalid_scope is retryable or matches ErrUnauthorized")
	}
	if c := ep.count(); c != 1 {
		t.Errorf("%d token requests, want exactly 1 (400 is not retried)", c)
	}
}

func TestErrorInvalidClient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		code   string
	}{
		{401, "invalid_client"},
		{400, "unauthorized_client"},
	} {
		mux, cfg := setup(t)
		ep := handleTokens(mux, lwaError(tt.status, tt.code, "Client authentication failed"))
		_, err := lwa.NewProvider(cfg).Token(context.Background(), lwa.ScopeSkillMessaging)
		le := asLWAError(t, err)
		if le.StatusCode != tt.status || le.Code != tt.code {
			t.Errorf("lwa.Error = %+v", le)
		}
		if h := le.Hint(); !strings.Contains(h, "Alexa client id and secret") || !strings.Contains(h, "Permissions page") {
			t.Errorf("%s: Hint() = %q, want it to point at the Alexa client id and secret of the Permissions page", tt.code, h)
		}
		if !errors.Is(err, alexa.ErrUnauthorized) {
			t.Errorf("%s: errors.Is(err, alexa.ErrUnauthorized) = false", tt.code)
		}
		for _, secret := range []string{clientSecret, "s3cr", refreshToken} {
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
				t.Errorf("error text contains the secret %q: %v", secret, err)
			}
		}
		if c := ep.count(); c != 1 {
			t.Errorf("%s: %d token requests, want 1", tt.code, c)
		}
	}
}

func TestErrorRetried(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, sequence(lwaError(503, "server_error", "try again"), issue(3600)))
	tok, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	if err != nil || tok != "Atza|tok-2" {
		t.Fatalf("Token = %q, %v; want the token of the retry", tok, err)
	}
	if c := ep.count(); c != 2 {
		t.Errorf("%d token requests, want 2", c)
	}
}

func TestErrorRetriesExhausted(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html><body>Bad Gateway</body></html>")
	})
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	le := asLWAError(t, err)
	if le.StatusCode != 502 || string(le.Body) != "<html><body>Bad Gateway</body></html>" || !le.Retryable() {
		t.Errorf("lwa.Error = %+v", le)
	}
	if !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("Error() = %q, want the body", err)
	}
	if c := ep.count(); c != 3 {
		t.Errorf("%d token requests, want 3", c)
	}
}

func TestErrorThrottled(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	cfg.Retry = alexa.NoRetry()
	handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) {
		w.Header().Set("Retry-After", "17")
		w.WriteHeader(429)
	})
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	le := asLWAError(t, err)
	if le.StatusCode != 429 || le.RetryAfter != 17*time.Second || !le.Retryable() || !errors.Is(err, alexa.ErrThrottled) {
		t.Errorf("lwa.Error = %+v", le)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, sequence(lwaError(400, "invalid_scope", "no"), issue(3600)))
	p := lwa.NewProvider(cfg)
	if _, err := p.Token(context.Background(), "alexa:abc"); err == nil {
		t.Fatal("first call succeeded")
	}
	if tok := mustToken(t, p, "alexa:abc"); tok != "Atza|tok-2" {
		t.Errorf("second call: %q", tok)
	}
	if c := ep.count(); c != 2 {
		t.Errorf("%d token requests, want 2", c)
	}
}

func TestErrorUnreadableSuccess(t *testing.T) {
	t.Parallel()
	for name, respond := range map[string]func(w http.ResponseWriter, n int, form url.Values){
		"no access_token": func(w http.ResponseWriter, n int, form url.Values) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"token_type":"bearer","expires_in":3600}`)
		},
		"html": func(w http.ResponseWriter, n int, form url.Values) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html>maintenance</html>`)
		},
		"error in a 200": func(w http.ResponseWriter, n int, form url.Values) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"error":"invalid_scope","error_description":"no"}`)
		},
	} {
		mux, cfg := setup(t)
		cfg.Retry = alexa.NoRetry()
		handleTokens(mux, respond)
		tok, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		if err == nil {
			t.Errorf("%s: got token %q, want an error", name, tok)
			continue
		}
		if le := asLWAError(t, err); le.StatusCode != 200 || le.Code == "" {
			t.Errorf("%s: lwa.Error = %+v, want status 200 and a code", name, le)
		}
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		creds  alexa.Credentials
		scope  string
		fields []string
	}{
		{"missing secret", alexa.Credentials{ClientID: clientID}, "alexa:abc", []string{"clientSecret"}},
		{"missing id", alexa.Credentials{ClientSecret: clientSecret}, "alexa:abc", []string{"clientId"}},
		{"missing both", alexa.Credentials{}, "alexa:abc", []string{"clientId", "clientSecret"}},
		{"missing scope", alexa.Credentials{ClientID: clientID, ClientSecret: clientSecret}, "", []string{"scope"}},
		{"missing refresh token", alexa.Credentials{ClientID: clientID, ClientSecret: clientSecret}, "", []string{"refreshToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux, cfg := setup(t)
			cfg.Credentials = tt.creds
			ep := handleTokens(mux, issue(3600))
			var err error
			if tt.name == "missing refresh token" {
				_, err = lwa.NewProvider(cfg).TokenFromRefreshToken(context.Background())
			} else {
				_, err = lwa.NewProvider(cfg).Token(context.Background(), tt.scope)
			}
			var ve *alexa.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *alexa.ValidationError", err, err)
			}
			var fields []string
			for _, v := range ve.Violations {
				fields = append(fields, v.Field)
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if c := ep.count(); c != 0 {
				t.Errorf("%d token requests sent for invalid input, want 0", c)
			}
		})
	}
}

func checkTransportError(t *testing.T, err error, url string) {
	t.Helper()
	var te *alexa.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *alexa.TransportError", err, err)
	}
	if te.Op != "lwa.Token(alexa:abc)" || te.Method != http.MethodPost || te.URL != url || te.Err == nil {
		t.Errorf("TransportError = %+v", te)
	}
	var le *lwa.Error
	if errors.As(err, &le) {
		t.Errorf("a transport failure matched *lwa.Error %+v", le)
	}
	if strings.Contains(err.Error(), "s3cr") {
		t.Errorf("error text contains the secret: %v", err)
	}
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	t.Run("server closed", func(t *testing.T) {
		_, cfg := setup(t)
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		cfg.TokenURL = dead.URL + tokenPath
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		checkTransportError(t, err, cfg.TokenURL)
	})

	t.Run("connection closed before the response", func(t *testing.T) {
		mux, cfg := setup(t)
		var mu sync.Mutex
		n := 0
		mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			mu.Unlock()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		})
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		checkTransportError(t, err, cfg.TokenURL)
		mu.Lock()
		defer mu.Unlock()
		if n < 3 {
			t.Errorf("%d token requests, want the transport failure retried (3)", n)
		}
	})

	t.Run("connection closed in the body", func(t *testing.T) {
		mux, cfg := setup(t)
		cfg.Retry = alexa.NoRetry()
		mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			writeTruncated(buf)
		})
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		checkTransportError(t, err, cfg.TokenURL)
	})

	t.Run("plain http to a remote token URL", func(t *testing.T) {
		_, cfg := setup(t)
		cfg.TokenURL = "http://example.invalid" + tokenPath
		cfg.HTTPClient = nil // the default client
		cfg.Retry = alexa.NoRetry()
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		checkTransportError(t, err, cfg.TokenURL)
		var ie *alexa.InsecureURLError
		if !errors.As(err, &ie) {
			t.Errorf("err = %v, want it to wrap *alexa.InsecureURLError", err)
		}
	})
}

// writeTruncated writes a 200 token response promising 100 bytes and
// sends fewer.
func writeTruncated(buf *bufio.ReadWriter) {
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	buf.WriteString(`{"access_token":"Atza|tr`)
	buf.Flush()
}

func TestTokenSource(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	ts := lwa.NewProvider(cfg).TokenSource("alexa:abc")
	for range 2 {
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != "Atza|tok-1" || !tok.Valid() {
			t.Fatalf("TokenSource.Token() = %+v, %v", tok, err)
		}
	}
	if c := ep.count(); c != 1 {
		t.Errorf("%d token requests, want 1", c)
	}
}

func TestCallerWithProvider(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	ep := handleTokens(mux, issue(3600))
	var mu sync.Mutex
	var auths []string
	mux.HandleFunc("/v1/skillmessages/users/u", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer Atza|tok-1" {
			w.WriteHeader(401) // revoked before its expiry
			return
		}
		w.WriteHeader(202)
	})
	cfg.Tokens = lwa.NewProvider(cfg)
	c := transport.New(cfg)
	req := &transport.Request{Op: "messaging.Send", Method: "POST", Path: "/v1/skillmessages/users/u", Scope: lwa.ScopeSkillMessaging, Body: []byte(`{}`)}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2", resp.Attempts)
	}
	if diff := cmp.Diff([]string{"Bearer Atza|tok-1", "Bearer Atza|tok-2"}, auths); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	if c := ep.count(); c != 2 {
		t.Errorf("%d token requests, want 2", c)
	}
	// The fresh token is cached for the next call.
	if _, err := c.Do(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if c := ep.count(); c != 2 {
		t.Errorf("%d token requests after a second call, want 2", c)
	}
}

func TestCallerWithProviderTokenRefused(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	handleTokens(mux, lwaError(401, "invalid_client", "Client authentication failed"))
	mux.HandleFunc("/v1/x", func(w http.ResponseWriter, r *http.Request) { t.Error("API called without a token") })
	cfg.Tokens = lwa.NewProvider(cfg)
	_, err := transport.New(cfg).Do(context.Background(), &transport.Request{Op: "x", Method: "POST", Path: "/v1/x", Scope: "alexa:abc"})
	asLWAError(t, err)
	if !errors.Is(err, alexa.ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
}

func TestProviderLogsNoSecrets(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	var buf bytes.Buffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handleTokens(mux, sequence(issue(3600), lwaError(400, "invalid_scope", "no")))
	p := lwa.NewProvider(cfg)
	mustToken(t, p, "alexa:abc")
	if _, err := p.Token(context.Background(), "alexa:other"); err == nil {
		t.Fatal("second scope succeeded")
	}
	if _, err := p.TokenFromRefreshToken(context.Background()); err == nil {
		t.Fatal("refresh succeeded")
	}
	out := buf.String()
	if n := strings.Count(out, `"msg":"lwa: token"`); n != 3 {
		t.Errorf("got %d token log lines, want 3:\n%s", n, out)
	}
	for _, secret := range []string{"s3cr", "Atza|", "Atzr|", "r&f"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestStaticToken(t *testing.T) {
	t.Parallel()
	const secret = "Atza|static-SeCrEt-bearer"
	st := lwa.StaticToken(secret)
	for _, scope := range []string{"", "alexa:abc", lwa.ScopeSkillMessaging} {
		if tok, err := st.Token(context.Background(), scope); err != nil || tok != secret {
			t.Errorf("Token(%q) = %q, %v", scope, tok, err)
		}
	}
	st.Invalidate("alexa:abc", secret)
	if tok, _ := st.Token(context.Background(), "alexa:abc"); tok != secret {
		t.Errorf("after Invalidate: %q", tok)
	}
	var tp alexa.TokenProvider = st
	cfg := alexa.Config{Tokens: tp, Credentials: alexa.Credentials{ClientID: clientID}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for name, v := range map[string]any{"token": st, "pointer": &st, "Config": cfg, "*Config": &cfg} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "SeCrEt") {
				t.Errorf("%s of %s shows the token: %s", verb, name, out)
			}
		}
	}
	if out := fmt.Sprint(st); out != "[redacted]" {
		t.Errorf("Sprint = %q, want [redacted]", out)
	}

	// Logging a Config that carries the static token, as JSON.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg, "tokens", st)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "tokens", st)
	if strings.Contains(buf.String(), "SeCrEt") {
		t.Errorf("slog output shows the token:\n%s", buf.String())
	}
	if b, err := json.Marshal(cfg); err != nil || strings.Contains(string(b), "SeCrEt") {
		t.Errorf("json.Marshal(Config) = %s, %v; want the token hidden", b, err)
	}
}

func TestErrTokenUnavailable(t *testing.T) {
	t.Parallel()
	refused := func(t *testing.T, mux *http.ServeMux, cfg *alexa.Config) {
		handleTokens(mux, lwaError(401, "invalid_client", "Client authentication failed"))
	}
	tests := map[string]struct {
		setup func(t *testing.T, mux *http.ServeMux, cfg *alexa.Config)
		as    func(error) bool
	}{
		"refused": {refused, func(err error) bool { var le *lwa.Error; return errors.As(err, &le) }},
		"not a token": {func(t *testing.T, mux *http.ServeMux, cfg *alexa.Config) {
			handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) { io.WriteString(w, "<html>") })
		}, func(err error) bool { var le *lwa.Error; return errors.As(err, &le) }},
		"connection refused": {func(t *testing.T, mux *http.ServeMux, cfg *alexa.Config) {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			cfg.TokenURL = dead.URL + tokenPath
		}, func(err error) bool { var te *alexa.TransportError; return errors.As(err, &te) }},
		"timeout": {func(t *testing.T, mux *http.ServeMux, cfg *alexa.Config) {
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) { <-release })
			cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
		}, func(err error) bool { var te *alexa.TransportError; return errors.As(err, &te) }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mux, cfg := setup(t)
			cfg.Retry = alexa.NoRetry()
			tt.setup(t, mux, &cfg)
			_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
			if !errors.Is(err, lwa.ErrTokenUnavailable) {
				t.Errorf("Token: err = %v, want it to match lwa.ErrTokenUnavailable", err)
			}
			if !tt.as(err) {
				t.Errorf("Token: err = %v (%T), its own type is no longer reachable", err, err)
			}
			mux.HandleFunc("/v1/x", func(w http.ResponseWriter, r *http.Request) { t.Error("API called without a token") })
			cfg.Tokens = lwa.NewProvider(cfg)
			_, err = transport.New(cfg).Do(context.Background(), &transport.Request{Op: "x", Method: "POST", Path: "/v1/x", Scope: "alexa:other"})
			if !errors.Is(err, lwa.ErrTokenUnavailable) || !tt.as(err) {
				t.Errorf("Caller.Do: err = %v, want it to match lwa.ErrTokenUnavailable and keep its type", err)
			}
		})
	}

	t.Run("caller's deadline", func(t *testing.T) {
		t.Parallel()
		mux, cfg := setup(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) { <-release })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := lwa.NewProvider(cfg).Token(ctx, "alexa:abc")
		if !errors.Is(err, lwa.ErrTokenUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want it to match lwa.ErrTokenUnavailable and context.DeadlineExceeded", err)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Parallel()
		_, cfg := setup(t)
		cfg.Credentials.ClientSecret = ""
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("err = %v, want *alexa.ValidationError", err)
		}
	})
}

// followingClient is an HTTPClient that is not an *http.Client and follows
// redirects.
type followingClient struct{ c *http.Client }

func (f followingClient) Do(r *http.Request) (*http.Response, error) { return f.c.Do(r) }

func TestTokenRequestNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	clients := map[string]func() alexa.HTTPClient{
		"default client":    func() alexa.HTTPClient { return nil },
		"plain http.Client": func() alexa.HTTPClient { return &http.Client{} },
		"following wrapper": func() alexa.HTTPClient { return followingClient{&http.Client{}} },
		"client with a policy": func() alexa.HTTPClient {
			return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
		},
	}
	for name, client := range clients {
		for _, code := range []int{301, 302, 303, 307, 308} {
			t.Run(fmt.Sprint(name, " ", code), func(t *testing.T) {
				t.Parallel()
				var stolen []string
				var mu sync.Mutex
				other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					mu.Lock()
					stolen = append(stolen, r.Method+" "+string(body))
					mu.Unlock()
					issue(3600)(w, 1, nil)
				}))
				defer other.Close()
				mux, cfg := setup(t)
				if c := client(); c != nil {
					cfg.HTTPClient = c
				}
				ep := handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) {
					w.Header().Set("Location", other.URL+tokenPath)
					w.WriteHeader(code)
				})
				tok, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
				if err == nil {
					t.Fatalf("Token = %q, want an error: the token URL redirected", tok)
				}
				if !errors.Is(err, lwa.ErrTokenUnavailable) || !errors.Is(err, alexa.ErrRedirected) {
					t.Errorf("err = %v, want it to match ErrTokenUnavailable and ErrRedirected", err)
				}
				if name != "following wrapper" {
					// What lwa controls never leaves the token URL.
					mu.Lock()
					if len(stolen) != 0 {
						t.Errorf("the other host received %q", stolen)
					}
					mu.Unlock()
					le := asLWAError(t, err)
					if le.StatusCode != code || !strings.Contains(le.Hint(), "never followed") {
						t.Errorf("lwa.Error = %+v (hint %q), want status %d and a hint on the policy", le, le.Hint(), code)
					}
				}
				if c := ep.count(); c != 1 {
					t.Errorf("%d token requests, want 1: a redirect is not retried", c)
				}
			})
		}
	}
}

func TestTokenErrorsRedactEchoedCredentials(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 400, 500} {
		mux, cfg := setup(t)
		cfg.Retry = alexa.NoRetry()
		mux.HandleFunc(tokenPath, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Echo", string(body))
			w.WriteHeader(status)
			fmt.Fprintf(w, "%s %s\n", r.Method, r.URL)
			r.Header.Write(w)
			w.Write(body)
		})
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		le := asLWAError(t, err)
		for name, text := range map[string]string{
			"Error()": err.Error(), "Body": string(le.Body), "Description": le.Description, "Header": fmt.Sprint(le.Header),
		} {
			for _, secret := range []string{"s3cr", "r&f", "Atzr|", "Atzr%7C", url.QueryEscape(clientSecret)} {
				if strings.Contains(text, secret) {
					t.Errorf("HTTP %d: %s shows %q:\n%s", status, name, secret, text)
				}
			}
		}
		if status != 200 && !strings.Contains(string(le.Body), "grant_type=") {
			t.Errorf("HTTP %d: Body = %q, want the echo kept with credentials redacted", status, le.Body)
		}
	}
}

func TestTokenTransportErrorNamesURLOnce(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg.TokenURL = dead.URL + tokenPath
	cfg.Retry = alexa.NoRetry()
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	if err == nil || strings.Count(err.Error(), cfg.TokenURL) != 1 {
		t.Errorf("err = %v, want the token URL named once", err)
	}
}

func TestTokenCertificateErrorNotRetried(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	_, cfg := setup(t)
	cfg.TokenURL = srv.URL + tokenPath
	cfg.HTTPClient = nil // the default client does not trust the test certificate
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	var te *alexa.TransportError
	if !errors.As(err, &te) || te.Retryable() || !errors.Is(err, lwa.ErrTokenUnavailable) {
		t.Errorf("err = %v, want a non-retryable *alexa.TransportError", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Errorf("%d connections, want 1: a certificate error is not retried", n)
	}
}

// A token endpoint that never answers costs MaxAttempts timeouts, no more.
func TestTokenEndpointHungIsBounded(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ep := handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) { <-release })
	cfg.HTTPClient = alexa.NewHTTPClient(alexa.HTTPOptions{ResponseHeaderTimeout: 20 * time.Millisecond})
	_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
	var te *alexa.TransportError
	if !errors.As(err, &te) || !errors.Is(err, lwa.ErrTokenUnavailable) {
		t.Errorf("err = %v, want a *alexa.TransportError matching ErrTokenUnavailable", err)
	}
	if c := ep.count(); c != 3 {
		t.Errorf("%d token requests, want 3 (the policy's MaxAttempts)", c)
	}
}

// LWA's JSON error read even when a proxy labels it text/plain: the code
// decides what the caller does (relink, fix the credentials).
func TestErrorJSONLabelledPlainText(t *testing.T) {
	t.Parallel()
	mux, cfg := setup(t)
	handleTokens(mux, func(w http.ResponseWriter, n int, form url.Values) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
	})
	_, err := lwa.NewProvider(cfg).Token(context.Background(), lwa.ScopeSkillMessaging)
	le := asLWAError(t, err)
	if le.Code != "invalid_client" || le.Description != "Client authentication failed" || !errors.Is(err, alexa.ErrUnauthorized) {
		t.Errorf("lwa.Error = %+v", le)
	}
}
