package skill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/skill"
)

const ack = `{"version":"1.0","response":{}}`

// signedBody re-stamps a sample body with a fresh timestamp and signs it.
func signedBody(t *testing.T, sample string) (*http.Request, []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(sample), &m); err != nil {
		t.Fatal(err)
	}
	m["request"].(map[string]any)["timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return signed(testSigners(t).good, b), b
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerRoutes(t *testing.T) {
	t.Parallel()
	v := skill.NewVerifier(testSigners(t).good.VerifierOptions())
	var mu sync.Mutex
	var got []string
	record := func(what string) { mu.Lock(); got = append(got, what); mu.Unlock() }
	h := &skill.Handler{
		Verifier: v,
		OnMessage: func(ctx context.Context, r *skill.MessageReceived) error {
			var d map[string]any
			if err := r.DecodeMessage(&d); err != nil {
				return err
			}
			record("message " + r.UserID() + " " + d["reminderId"].(string))
			return nil
		},
		OnSubscriptionChanged: func(ctx context.Context, r *skill.ProactiveSubscriptionChanged) error {
			record("subscriptions " + strings.Join(r.EventNames(), ","))
			return nil
		},
		OnPermissionAccepted: func(ctx context.Context, r *skill.SkillPermissionAccepted) error {
			record("accepted " + strings.Join(r.Body.Scopes(), ","))
			return nil
		},
		OnPermissionChanged: func(ctx context.Context, r *skill.SkillPermissionChanged) error { record("changed"); return nil },
		OnSkillEnabled:      func(ctx context.Context, r *skill.SkillEnabled) error { record("enabled"); return nil },
		OnSkillDisabled:     func(ctx context.Context, r *skill.SkillDisabled) error { record("disabled"); return nil },
		OnGrant: func(ctx context.Context, r *skill.AuthorizationGrant) error {
			record("grant " + string(r.Body.Grant.Code))
			return nil
		},
		OnDataStoreError: func(ctx context.Context, r *skill.DataStoreError) error {
			record("datastore " + r.Error.Type)
			return nil
		},
	}
	for _, c := range []struct{ body, want string }{
		{messageBody, "message amzn1.ask.account.1 42"},
		{subscriptionBody, "subscriptions AMAZON.WeatherAlert.Activated,AMAZON.MessageAlert.Activated"},
		{permissionBody, "accepted alexa::alerts:reminders:skill:readwrite,alexa::profile:given_name:read"},
		{strings.Replace(permissionBody, "SkillPermissionAccepted", "SkillPermissionChanged", 1), "changed"},
		{strings.Replace(disabledBody, "SkillDisabled", "SkillEnabled", 1), "enabled"},
		{disabledBody, "disabled"},
		{grantBody, "grant ANUbUKCJqlBOpMhwYWxU"},
		{dataStoreBody, "datastore DEVICE_UNAVAILABLE"},
		{launchBody, ""}, // no handler: acknowledged
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		r, _ := signedBody(t, c.body)
		w := serve(h, r)
		if w.Code != http.StatusOK || w.Body.String() != ack || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q (%s), want 200 %s", c.want, w.Code, w.Body.String(), w.Header().Get("Content-Type"), ack)
		}
		mu.Lock()
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || got[0] != c.want) {
			t.Errorf("handlers called: %q, want %q", got, c.want)
		}
		mu.Unlock()
	}
}

func TestHandlerRefusesUnverified(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	called := false
	h := &skill.Handler{
		Verifier:  skill.NewVerifier(testSigners(t).good.VerifierOptions()),
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		OnMessage: func(context.Context, *skill.MessageReceived) error { called = true; return nil },
	}
	r, b := signedBody(t, messageBody)
	tampered := bytes.Replace(b, []byte(`"42"`), []byte(`"43"`), 1)
	r.Body = io.NopCloser(bytes.NewReader(tampered))
	w := serve(h, r)
	if w.Code != http.StatusBadRequest || called {
		t.Fatalf("tampered request: %d, handler called %v; want 400, not called", w.Code, called)
	}
	if strings.Contains(w.Body.String(), "signature") {
		t.Errorf("refusal tells why: %q", w.Body.String())
	}
	if !strings.Contains(logs.String(), string(skill.ReasonBadSignature)) {
		t.Errorf("log lacks the reason: %s", logs.String())
	}
}

func TestHandlerVerifiesByDefault(t *testing.T) {
	t.Parallel()
	called := false
	h := &skill.Handler{OnMessage: func(context.Context, *skill.MessageReceived) error { called = true; return nil }}
	// Unsigned: refused before any certificate is fetched.
	w := serve(h, newRequest(body(t, skill.TypeMessageReceived, time.Now())))
	if w.Code != http.StatusBadRequest || called {
		t.Fatalf("unsigned request with no Verifier set: %d, handler called %v; want 400", w.Code, called)
	}
	h = &skill.Handler{SkipVerification: true, OnMessage: h.OnMessage}
	w = serve(h, newRequest(body(t, skill.TypeMessageReceived, time.Now())))
	if w.Code != http.StatusOK || !called {
		t.Fatalf("SkipVerification: %d, handler called %v; want 200", w.Code, called)
	}
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := &skill.Handler{
		SkipVerification: true,
		Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
		OnMessage: func(context.Context, *skill.MessageReceived) error {
			return errors.New("database down")
		},
	}
	w := serve(h, newRequest(body(t, skill.TypeMessageReceived, time.Now())))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "database") {
		t.Errorf("failing handler: %d %q, want 500 without detail", w.Code, w.Body.String())
	}
	if !strings.Contains(logs.String(), "database down") || !strings.Contains(logs.String(), skill.TypeMessageReceived) {
		t.Errorf("log lacks the handler error: %s", logs.String())
	}

	w = serve(h, newRequest([]byte(`{"version":"1.0","request":{"type":"x"}}`)))
	if w.Code != http.StatusBadRequest {
		t.Errorf("undecodable request: %d, want 400", w.Code)
	}
	w = serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d Allow %q, want 405 POST", w.Code, w.Header().Get("Allow"))
	}
	small := &skill.Handler{SkipVerification: true, MaxBodyBytes: 10}
	if w := serve(small, newRequest(body(t, skill.TypeMessageReceived, time.Now()))); w.Code != http.StatusBadRequest {
		t.Errorf("body over MaxBodyBytes: %d, want 400", w.Code)
	}
}

func TestHandlerFallback(t *testing.T) {
	t.Parallel()
	var got []byte
	h := &skill.Handler{
		Verifier: skill.NewVerifier(testSigners(t).good.VerifierOptions()),
		Fallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
			w.Write([]byte(`{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"hi"}}}`))
		}),
	}
	r, b := signedBody(t, launchBody)
	w := serve(h, r)
	if !bytes.Equal(got, b) || !strings.Contains(w.Body.String(), "hi") {
		t.Errorf("fallback got %q and answered %q", got, w.Body.String())
	}
}

func TestStoreGrant(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var forms []url.Values
	lwaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"Atza|user","refresh_token":"Atzr|user","token_type":"bearer","expires_in":3600}`)
	}))
	t.Cleanup(lwaSrv.Close)
	users := lwa.NewUserTokens(alexa.Config{
		TokenURL:    lwaSrv.URL + "/auth/o2/token",
		Credentials: alexa.Credentials{ClientID: "id", ClientSecret: "secret"},
	}, lwa.UserTokensOptions{})
	h := &skill.Handler{
		Verifier: skill.NewVerifier(testSigners(t).good.VerifierOptions()),
		OnGrant:  skill.StoreGrant(users),
	}
	r, _ := signedBody(t, grantBody)
	if w := serve(h, r); w.Code != http.StatusOK || w.Body.String() != ack {
		t.Fatalf("grant: %d %q", w.Code, w.Body.String())
	}
	tok, err := users.Token(context.Background(), "amzn1.ask.account.1")
	if err != nil || tok != "Atza|user" {
		t.Fatalf("stored token = %q, %v", tok, err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(forms) }
	mu.Lock()
	if len(forms) != 1 || forms[0].Get("code") != "ANUbUKCJqlBOpMhwYWxU" || forms[0].Get("grant_type") != "authorization_code" {
		t.Errorf("token requests: %v", forms)
	}
	mu.Unlock()

	// A grant of another type is not exchanged.
	r, _ = signedBody(t, strings.Replace(grantBody, "OAuth2.AuthorizationCode", "OAuth2.Other", 1))
	if w := serve(h, r); w.Code != http.StatusInternalServerError {
		t.Errorf("grant of another type: %d, want 500", w.Code)
	}
	if count() != 1 {
		t.Errorf("grant of another type was exchanged")
	}
}

// A handler's failure is logged with the request's type, id and user, so
// that an operator knows whose message or grant was lost.
func TestHandlerFailureLogged(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := &skill.Handler{
		Verifier:  skill.NewVerifier(testSigners(t).good.VerifierOptions()),
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		OnMessage: func(context.Context, *skill.MessageReceived) error { return errors.New("database down") },
	}
	r, _ := signedBody(t, messageBody)
	if w := serve(h, r); w.Code != http.StatusInternalServerError {
		t.Fatalf("%d, want 500", w.Code)
	}
	for _, want := range []string{"skill: handler failed", "type=" + skill.TypeMessageReceived, "userId=amzn1.ask.account.1", "database down"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q: %s", want, logs.String())
		}
	}
}
