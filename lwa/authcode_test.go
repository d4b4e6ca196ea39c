package lwa_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

const (
	userA    = "amzn1.ask.account.A"
	userB    = "amzn1.ask.account.B"
	userCode = "ANUbU&c=+ %de"
)

// userLWA is an LWA token endpoint for user tokens: it records requests
// and answers with respond.
type userLWA struct {
	mu       sync.Mutex
	requests []tokenRequest
	respond  func(w http.ResponseWriter, n int, form url.Values)
	cfg      alexa.Config
}

func newUserLWA(t *testing.T, respond func(w http.ResponseWriter, n int, form url.Values)) *userLWA {
	t.Helper()
	l := &userLWA{respond: respond}
	srv := httptest.NewServer(l)
	client := alexa.NewHTTPClient(alexa.HTTPOptions{})
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	l.cfg = alexa.Config{
		TokenURL:    srv.URL + tokenPath,
		Credentials: alexa.Credentials{ClientID: clientID, ClientSecret: clientSecret},
		HTTPClient:  client,
		Retry:       fastRetry(3),
	}
	return l
}

func (l *userLWA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.requests = append(l.requests, tokenRequest{
		Method: r.Method, Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"), Form: r.PostForm,
	})
	n := len(l.requests)
	l.mu.Unlock()
	l.respond(w, n, r.PostForm)
}

func (l *userLWA) seen() []tokenRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tokenRequest(nil), l.requests...)
}

// userTokens answers like LWA for the authorization-code and refresh
// grants: access token "Atza|u-<n>", refresh token "Atzr|r-<n>" (none
// when rotate is false and the grant is refresh_token).
func userTokens(expiresIn int, rotate bool) func(w http.ResponseWriter, n int, form url.Values) {
	return func(w http.ResponseWriter, n int, form url.Values) {
		body := map[string]any{"access_token": fmt.Sprintf("Atza|u-%d", n), "token_type": "bearer", "expires_in": expiresIn}
		if form.Get("grant_type") == "authorization_code" || rotate {
			body["refresh_token"] = fmt.Sprintf("Atzr|r-%d", n)
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		json.NewEncoder(w).Encode(body)
	}
}

func TestUserTokensExchange(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, userTokens(3600, true))
	u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{})
	ctx := context.Background()
	before := time.Now()
	tok, err := u.Exchange(ctx, userA, userCode)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "Atza|u-1" || tok.RefreshToken != "Atzr|r-1" || tok.TokenType != "bearer" {
		t.Errorf("token = %#v", *tok)
	}
	if tok.Expiry.Before(before.Add(time.Hour)) || tok.Expiry.After(time.Now().Add(time.Hour)) {
		t.Errorf("expiry %v is not an hour from the request", tok.Expiry)
	}
	reqs := l.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := url.Values{"grant_type": {"authorization_code"}, "code": {userCode}, "client_id": {clientID}, "client_secret": {clientSecret}}
	if diff := cmp.Diff(want, r.Form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if r.Method != http.MethodPost || r.Authorization != "" || !strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") || r.Query != "" {
		t.Errorf("request: %+v", r)
	}
	if !strings.HasPrefix(r.UserAgent, "alexa-oos-go/") {
		t.Errorf("User-Agent %q", r.UserAgent)
	}
	// Stored: the next call needs no request.
	got, err := u.Token(ctx, userA)
	if err != nil || got != "Atza|u-1" {
		t.Errorf("Token = %q, %v; want the stored token", got, err)
	}
	if n := len(l.seen()); n != 1 {
		t.Errorf("%d token requests after Token, want 1", n)
	}
}

func TestUserTokensRedirectURI(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, userTokens(3600, true))
	u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{RedirectURI: "https://skill.example.com/cb"})
	if _, err := u.Exchange(context.Background(), userA, "c"); err != nil {
		t.Fatal(err)
	}
	if got := l.seen()[0].Form.Get("redirect_uri"); got != "https://skill.example.com/cb" {
		t.Errorf("redirect_uri = %q", got)
	}
}

func TestUserTokensRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{true, false} {
		t.Run(fmt.Sprintf("rotate=%v", rotate), func(t *testing.T) {
			t.Parallel()
			l := newUserLWA(t, userTokens(3600, rotate))
			store := lwa.NewMemoryStore()
			u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{Store: store})
			ctx := context.Background()
			// Within the default 60 s refresh margin of expiry.
			old := &lwa.UserToken{AccessToken: "Atza|old", RefreshToken: "Atzr|old", Expiry: time.Now().Add(30 * time.Second)}
			store.Save(ctx, userA, old)
			tok, err := u.Token(ctx, userA)
			if err != nil {
				t.Fatal(err)
			}
			if tok != "Atza|u-1" {
				t.Errorf("Token = %q, want the refreshed token", tok)
			}
			want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"Atzr|old"}, "client_id": {clientID}, "client_secret": {clientSecret}}
			if diff := cmp.Diff(want, l.seen()[0].Form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			stored, _ := store.Load(ctx, userA)
			wantRefresh := "Atzr|old"
			if rotate {
				wantRefresh = "Atzr|r-1"
			}
			if stored.AccessToken != "Atza|u-1" || stored.RefreshToken != wantRefresh {
				t.Errorf("stored %q / %q, want Atza|u-1 / %s", stored.AccessToken, stored.RefreshToken, wantRefresh)
			}
		})
	}
}

func TestUserTokensSingleFlightPerUser(t *testing.T) {
	t.Parallel()
	const n = 200
	var started sync.WaitGroup
	started.Add(n)
	allStarted := make(chan struct{})
	go func() {
		started.Wait()
		close(allStarted)
	}()
	l := newUserLWA(t, func(w http.ResponseWriter, k int, form url.Values) {
		<-allStarted
		// The access token names the refresh token it was made from.
		body := map[string]any{"access_token": "Atza|for-" + form.Get("refresh_token"), "token_type": "bearer", "expires_in": 3600}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	})
	store := lwa.NewMemoryStore()
	ctx := context.Background()
	for _, user := range []string{userA, userB} {
		store.Save(ctx, user, &lwa.UserToken{AccessToken: "expired", RefreshToken: "rt-" + user, Expiry: time.Now().Add(-time.Minute)})
	}
	u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{Store: store})
	var wg sync.WaitGroup
	errs := make([]error, n)
	toks := make([]string, n)
	for i := range n {
		user := []string{userA, userB}[i%2]
		wg.Go(func() {
			started.Done()
			toks[i], errs[i] = u.Token(ctx, user)
		})
	}
	wg.Wait()
	for i := range n {
		user := []string{userA, userB}[i%2]
		if errs[i] != nil || toks[i] != "Atza|for-rt-"+user {
			t.Fatalf("caller %d (%s): %q, %v", i, user, toks[i], errs[i])
		}
	}
	per := map[string]int{}
	for _, r := range l.seen() {
		per[r.Form.Get("refresh_token")]++
	}
	if diff := cmp.Diff(map[string]int{"rt-" + userA: 1, "rt-" + userB: 1}, per); diff != "" {
		t.Errorf("refreshes per user (-want +got):\n%s", diff)
	}
}

func TestUserTokensInvalidGrantRequiresRelink(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, lwaError(http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token"))
	store := lwa.NewMemoryStore()
	ctx := context.Background()
	store.Save(ctx, userA, &lwa.UserToken{AccessToken: "Atza|old", RefreshToken: "Atzr|revoked", Expiry: time.Now().Add(-time.Minute)})
	u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{Store: store})
	_, err := u.Token(ctx, userA)
	if !errors.Is(err, lwa.ErrRelinkRequired) {
		t.Fatalf("err = %v, want it to match lwa.ErrRelinkRequired", err)
	}
	var le *lwa.Error
	if !errors.As(err, &le) || le.Code != "invalid_grant" || le.StatusCode != http.StatusBadRequest {
		t.Errorf("err = %v, want it to carry the *lwa.Error", err)
	}
	if strings.Contains(err.Error(), "Atzr|revoked") {
		t.Errorf("error shows the refresh token: %v", err)
	}
	if n := len(l.seen()); n != 1 {
		t.Errorf("invalid_grant retried: %d requests, want 1", n)
	}
	// The dead tokens are gone: the next call needs no request.
	if _, err := store.Load(ctx, userA); !errors.Is(err, lwa.ErrNoUserToken) {
		t.Errorf("after invalid_grant, Load = %v, want ErrNoUserToken", err)
	}
	if _, err := u.Token(ctx, userA); !errors.Is(err, lwa.ErrNoUserToken) {
		t.Errorf("second Token = %v, want ErrNoUserToken", err)
	}
	if n := len(l.seen()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestUserTokensExchangeErrors(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, sequence(
		lwaError(http.StatusServiceUnavailable, "server_error", "try later"),
		lwaError(http.StatusBadRequest, "invalid_grant", "code used"),
	))
	u := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{})
	_, err := u.Exchange(context.Background(), userA, "used")
	var le *lwa.Error
	if !errors.As(err, &le) || le.Code != "invalid_grant" {
		t.Fatalf("err = %v, want *lwa.Error invalid_grant after a retried 503", err)
	}
	if h := le.Hint(); !strings.Contains(h, "authorization code") {
		t.Errorf("Hint() = %q, want it about the authorization code", h)
	}
	if n := len(l.seen()); n != 2 {
		t.Errorf("%d requests, want 2 (503 retried)", n)
	}
	if _, err := u.Store().Load(context.Background(), userA); !errors.Is(err, lwa.ErrNoUserToken) {
		t.Errorf("failed exchange stored something: %v", err)
	}
}

func TestUserTokensValidation(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, userTokens(3600, true))
	cfg := l.cfg
	cfg.Credentials = alexa.Credentials{}
	_, err := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{}).Exchange(context.Background(), "", "")
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *alexa.ValidationError", err)
	}
	var fields []string
	for _, v := range ve.Violations {
		fields = append(fields, v.Field)
	}
	if diff := cmp.Diff([]string{"clientId", "clientSecret", "userId", "code"}, fields); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if n := len(l.seen()); n != 0 {
		t.Errorf("%d requests for an invalid call, want 0", n)
	}
}

func TestUserTokensNeverFollowRedirects(t *testing.T) {
	t.Parallel()
	var stolen sync.Mutex
	var stolenForms []url.Values
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		stolen.Lock()
		stolenForms = append(stolenForms, r.PostForm)
		stolen.Unlock()
		userTokens(3600, true)(w, 1, r.PostForm)
	}))
	t.Cleanup(thief.Close)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			l := newUserLWA(t, func(w http.ResponseWriter, n int, form url.Values) {
				http.Redirect(w, &http.Request{Method: http.MethodPost}, thief.URL+"/auth/o2/token", code)
			})
			_, err := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{}).Exchange(context.Background(), userA, "c")
			var le *lwa.Error
			if !errors.As(err, &le) || le.StatusCode != code || !errors.Is(err, alexa.ErrRedirected) || !strings.Contains(le.Hint(), "redirect") {
				t.Fatalf("err = %v, want an *lwa.Error matching alexa.ErrRedirected, with a hint", err)
			}
			if len(l.seen()) != 1 {
				t.Errorf("redirect retried: %d requests", len(l.seen()))
			}
		})
	}
	t.Cleanup(func() {
		stolen.Lock()
		defer stolen.Unlock()
		if len(stolenForms) > 0 {
			t.Errorf("the redirect target received %d token requests", len(stolenForms))
		}
	})
}

func TestUserTokenHidesTokens(t *testing.T) {
	t.Parallel()
	tok := lwa.UserToken{AccessToken: "Atza|SECRET-ACCESS", RefreshToken: "Atzr|SECRET-REFRESH", TokenType: "bearer", Expiry: time.Now()}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("t", "token", tok, "ptr", &tok)
	js, _ := json.Marshal(struct{ T lwa.UserToken }{tok})
	store := lwa.NewMemoryStore()
	store.Save(context.Background(), userA, &tok)
	for _, out := range []string{
		tok.String(), fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprintf("%v", &tok),
		fmt.Sprintf("%+v", struct{ T lwa.UserToken }{tok}), logged.String(), string(js),
		fmt.Sprintf("%v %+v %#v", store, store, store),
	} {
		if strings.Contains(out, "SECRET") {
			t.Errorf("printed form shows a token: %s", out)
		}
	}
	if !strings.Contains(tok.String(), "[redacted]") {
		t.Errorf("String() = %q, want the tokens shown as [redacted]", tok.String())
	}
}

func TestUserTokensLogNoSecrets(t *testing.T) {
	t.Parallel()
	l := newUserLWA(t, userTokens(3600, true))
	var logged strings.Builder
	var mu sync.Mutex
	cfg := l.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := lwa.NewUserTokens(cfg, lwa.UserTokensOptions{}).Exchange(context.Background(), userA, userCode); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logged.String()
	mu.Unlock()
	if !strings.Contains(out, "lwa.Exchange") {
		t.Errorf("no debug line: %q", out)
	}
	for _, secret := range []string{clientSecret, userCode, "Atza|u-1", "Atzr|r-1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q: %s", secret, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A token endpoint (or a proxy) that echoes the request back in its error
// never puts the client secret or the code into the error.
func TestUserTokensErrorsRedactEchoes(t *testing.T) {
	t.Parallel()
	const code = "grant-code-that-is-secret"
	l := newUserLWA(t, func(w http.ResponseWriter, n int, form url.Values) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":%q}`, form.Encode())
	})
	_, err := lwa.NewUserTokens(l.cfg, lwa.UserTokensOptions{}).Exchange(context.Background(), userA, code)
	var le *lwa.Error
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want an *lwa.Error", err)
	}
	for _, secret := range []string{clientSecret, url.QueryEscape(clientSecret), code} {
		if shown := fmt.Sprintf("%v %+v %s %s", err, le, le.Description, le.Body); strings.Contains(shown, secret) {
			t.Errorf("the error shows %q: %s", secret, shown)
		}
	}
}
