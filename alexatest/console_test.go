package alexatest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

const (
	userA = "amzn1.ask.account.A"
	userB = "amzn1.ask.account.B"
)

// weather is a valid weather alert to audience.
func weather(ref string, audience proactive.Audience) *proactive.Request {
	now := time.Now()
	return &proactive.Request{
		Timestamp: now, ReferenceID: ref, ExpiryTime: now.Add(time.Hour),
		Event: proactive.NewEvent(proactive.WeatherAlertActivated{WeatherAlert: proactive.WeatherAlert{
			AlertType: proactive.AlertSnowStorm, Source: proactive.WeatherSourcePlaceholder}}),
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}, {"locale": "de-DE", "source": "Bar"}},
		RelevantAudience:    audience,
	}
}

// consoleGet fetches the console's state with the query q.
func consoleGet(t *testing.T, srv *Server, q string) *consoleState {
	t.Helper()
	resp, err := http.Get(srv.URL + ConsoleStatePath + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s%s: %d %s", ConsoleStatePath, q, resp.StatusCode, b)
	}
	var st consoleState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func consolePost(t *testing.T, srv *Server, path, body string, header ...string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func userCard(st *consoleState, id string) *consoleUser {
	for _, u := range st.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// sendSample sends, with this module's clients, a weather alert to A, a
// multicast alert and a message to B, then an event refused as invalid
// and a message refused for want of a token.
func sendSample(t *testing.T, srv *Server) {
	t.Helper()
	ctx := context.Background()
	cfg := srv.Config()
	cfg.Tokens = lwa.NewProvider(cfg) // one token per scope for every client
	pc, mc := proactive.NewClient(cfg), messaging.NewClient(cfg)
	if _, err := pc.Create(ctx, weather("a-1", proactive.ToUser(userA)), proactive.Development); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Create(ctx, weather("all-1", proactive.ToAllSubscribers()), proactive.Live); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Send(ctx, userB, &messaging.Message{Data: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Tokens.Token(ctx, proactive.Scope)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+proactive.PathDevelopment, strings.NewReader(`{"referenceId":"bad"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Post(srv.URL+skillmsg.Path(userA), "application/json", strings.NewReader(`{"data":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// The console is served at / to this machine only, from its own files,
// without taking over any other path.
func TestConsolePage(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	for _, tt := range []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/_emulator/console/assets/console.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/_emulator/console/assets/console.css", 200, "text/css; charset=utf-8"},
		{"GET", "/v1/unknown", 404, ""},
		{"GET", "/index.html", 404, ""},
		{"POST", "/", 405, ""},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType) {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
		}
		if tt.path == "/" && tt.status == 200 {
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(string(b), "console.js") {
				t.Errorf("the page: CSP %q, body %.200s", csp, b)
			}
			for _, ext := range []string{"http://", "https://", "//cdn"} {
				if strings.Contains(strings.ReplaceAll(string(b), "http://www.w3.org", ""), ext) {
					t.Errorf("the page loads something from elsewhere (%q)", ext)
				}
			}
		}
	}
}

// The console answers loopback clients asking for a loopback host only,
// unless Options.AllowRemoteAdmin.
func TestConsoleAccess(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		remote, host string
		allow        bool
		want         int
	}{
		{"127.0.0.1:5000", "127.0.0.1:8934", false, 200},
		{"[::1]:5000", "localhost:8934", false, 200},
		{"127.0.0.1:5000", "[::1]:8934", false, 200},
		{"203.0.113.9:5000", "127.0.0.1:8934", false, 403},
		{"127.0.0.1:5000", "attacker.example:8934", false, 403}, // DNS rebinding
		{"203.0.113.9:5000", "emulator.example:8934", true, 200},
	} {
		e := New(Options{AllowRemoteAdmin: tt.allow})
		for _, p := range []string{ConsolePath, ConsoleStatePath} {
			r := httptest.NewRequest(http.MethodGet, "http://"+tt.host+p, nil)
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%s from %s for Host %s (allow %v): %d, want %d: %s", p, tt.remote, tt.host, tt.allow, w.Code, tt.want, w.Body)
			}
		}
	}
}

// What was sent shows on the users' cards with Alexa's spoken text, the
// refusals in the traffic with their code and message, and the tokens
// with scope and expiry: never a token or a secret.
func TestConsoleState(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{TokenLifetime: 30 * time.Minute, AllowUnsubscribed: true})
	defer srv.Close()
	sendSample(t, srv)
	st := consoleGet(t, srv, "")

	a := userCard(st, userA)
	if a == nil || len(a.Notifications) != 1 {
		t.Fatalf("user A: %+v", a)
	}
	n := a.Notifications[0]
	want, _ := proactive.Preview(weather("x", proactive.ToUser(userA)))
	if n.Name != proactive.SchemaWeatherAlert || n.Stage != proactive.Development || n.Audience != "unicast" || !n.Unread || a.Unread != 1 ||
		!slices.Equal(n.Preview, want) || n.ReferenceID != "a-1" || n.Expiry.Before(time.Now()) {
		t.Errorf("A's notification %+v, want the preview %v", n, want)
	}
	b := userCard(st, userB)
	if b == nil || len(b.Messages) != 1 || b.Messages[0].Data != `{"k":"v"}` || b.Unread != 0 {
		t.Errorf("user B: %+v", b)
	}
	if len(st.Multicast.Notifications) != 1 || st.Multicast.Notifications[0].Audience != "multicast" || st.Multicast.Unread != 1 ||
		st.Multicast.Notifications[0].Stage != proactive.Live {
		t.Errorf("multicast: %+v", st.Multicast)
	}
	if !slices.Contains(st.UserIDs, userA) || !slices.Contains(st.UserIDs, userB) || !slices.Contains(st.EventNames, proactive.SchemaTrashCollection) {
		t.Errorf("filters offer users %v, names %v", st.UserIDs, st.EventNames)
	}

	// Traffic, newest first: the refusals lead.
	if len(st.Traffic) < 2 {
		t.Fatalf("traffic: %+v", st.Traffic)
	}
	if c := st.Traffic[0]; c.Status != 401 || c.Code != "UNAUTHORIZED" || !strings.Contains(c.Message, "bearer token") || c.User != userA {
		t.Errorf("refused message: %+v", c)
	}
	bad := st.Traffic[1]
	if bad.Status != 400 || bad.Code != "INVALID_REQUEST" || !strings.Contains(bad.Message, "timestamp: is required") || bad.BodyURL == "" {
		t.Fatalf("refused event: %+v", bad)
	}
	resp, err := http.Get(srv.URL + bad.BodyURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"referenceId": "bad"`) || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("the refused event's body: %q", body)
	}
	var tokenCall *consoleCall
	for i, c := range st.Traffic {
		if c.Path == TokenPath {
			tokenCall = &st.Traffic[i]
		}
	}
	if tokenCall == nil || tokenCall.Status != 200 {
		t.Fatalf("no token call in the traffic: %+v", st.Traffic)
	}
	resp, err = http.Get(srv.URL + tokenCall.BodyURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "client_secret=%5Bredacted%5D") || !strings.Contains(string(body), "grant_type=client_credentials") {
		t.Errorf("the token request's body shows %q", body)
	}

	if len(st.Tokens) != 2 { // the clients and the provider share one token per scope
		t.Fatalf("tokens: %+v", st.Tokens)
	}
	for _, tk := range st.Tokens {
		if tk.Status != 200 || tk.Expiry == nil || tk.Expiry.Sub(tk.Received) != 30*time.Minute || tk.Scope == "" {
			t.Errorf("token %+v: want its scope and an expiry 30 minutes after", tk)
		}
	}
	raw, _ := json.Marshal(st)
	for _, secret := range []string{"Atza|", DefaultClientSecret, srv.Credentials().RefreshToken} {
		if strings.Contains(string(raw), secret) || strings.Contains(string(body), secret) {
			t.Errorf("the console shows %q", secret)
		}
	}
	if st.Kept["events"] != 2 || st.Kept["messages"] != 1 || st.Kept["tokens"] != 2 || st.Kept["calls"] != 7 {
		t.Errorf("kept %v", st.Kept)
	}
}

// The filters narrow every panel; a mistyped one is refused.
func TestConsoleFilters(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	sendSample(t, srv)

	st := consoleGet(t, srv, "?user="+url.QueryEscape(userB))
	if len(st.Users) != 1 || st.Users[0].ID != userB || len(st.Users[0].Messages) != 1 {
		t.Errorf("?user=B cards: %+v", st.Users)
	}
	for _, c := range st.Traffic {
		if c.User != userB {
			t.Errorf("?user=B shows the call %+v", c)
		}
	}
	if len(st.Multicast.Notifications) != 0 {
		t.Errorf("a multicast event that reached no subscriber is shown under ?user=B (%+v)", st.Multicast)
	}
	if !slices.Contains(st.UserIDs, userA) {
		t.Errorf("the user filter still offers every user: %v", st.UserIDs)
	}

	st = consoleGet(t, srv, "?name="+proactive.SchemaTrashCollection)
	if a := userCard(st, userA); a == nil || len(a.Notifications) != 0 || len(st.Multicast.Notifications) != 0 {
		t.Errorf("?name=trash shows the weather alerts: %+v %+v", a, st.Multicast)
	}
	if b := userCard(st, userB); b == nil || len(b.Messages) != 0 {
		t.Errorf("?name= shows skill messages, which have no event name: %+v", b)
	}

	st = consoleGet(t, srv, "?status=refused")
	if len(st.Traffic) != 2 || len(st.Tokens) != 0 || len(userCard(st, userA).Notifications) != 0 {
		t.Errorf("?status=refused: traffic %+v, tokens %+v", st.Traffic, st.Tokens)
	}
	st = consoleGet(t, srv, "?status=401")
	if len(st.Traffic) != 1 || st.Traffic[0].Status != 401 {
		t.Errorf("?status=401: %+v", st.Traffic)
	}
	st = consoleGet(t, srv, "?status=2xx")
	if len(st.Traffic) != 5 || len(userCard(st, userA).Notifications) != 1 {
		t.Errorf("?status=2xx: %d calls, A %+v", len(st.Traffic), userCard(st, userA))
	}

	for _, q := range []string{"?usr=x", "?status=ok", "?status=99"} {
		resp, err := http.Get(srv.URL + ConsoleStatePath + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "INVALID_REQUEST") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, b)
		}
	}
}

// Marking read puts the light ring out until the next notification; the
// console's changes come from its own page only.
func TestConsoleMarkRead(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	sendSample(t, srv)
	if got := consolePost(t, srv, ConsoleReadPath, `{"user":"`+userA+`"}`); got != 204 {
		t.Fatalf("mark read: %d", got)
	}
	st := consoleGet(t, srv, "")
	if a := userCard(st, userA); a.Unread != 0 || a.Notifications[0].Unread || st.Multicast.Unread != 1 {
		t.Errorf("after marking A read: A %+v, multicast unread %d", a, st.Multicast.Unread)
	}
	if _, err := proactive.NewClient(srv.Config()).Create(context.Background(), weather("a-2", proactive.ToUser(userA)), proactive.Development); err != nil {
		t.Fatal(err)
	}
	if a := userCard(consoleGet(t, srv, ""), userA); a.Unread != 1 || !a.Notifications[0].Unread || a.Notifications[1].Unread {
		t.Errorf("a new notification: %+v", a)
	}
	if got := consolePost(t, srv, ConsoleReadPath, `{"user":"Multicast"}`); got != 204 || consoleGet(t, srv, "").Multicast.Unread != 0 {
		t.Errorf("mark multicast read: %d", got)
	}

	for _, tt := range []struct {
		body   string
		header []string
		want   int
	}{
		{`{}`, nil, 400},
		{`{"user":"u","extra":1}`, nil, 400},
		{`{"user":"u"}`, []string{"Content-Type", "text/plain"}, 415},
		{`{"user":"u"}`, []string{"Origin", "http://attacker.example"}, 403},
		{`{"user":"u"}`, []string{"Origin", srv.URL}, 204},
	} {
		if got := consolePost(t, srv, ConsoleReadPath, tt.body, tt.header...); got != tt.want {
			t.Errorf("POST %s %v: %d, want %d", tt.body, tt.header, got, tt.want)
		}
	}
}

// Reset forgets the traffic and the read marks with everything else.
func TestConsoleReset(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	sendSample(t, srv)
	consolePost(t, srv, ConsoleReadPath, `{"user":"`+userA+`"}`)
	srv.Reset()
	st := consoleGet(t, srv, "")
	if len(st.Users) != 0 || len(st.Traffic) != 0 || len(st.Tokens) != 0 || len(st.Multicast.Notifications) != 0 || st.Kept["calls"] != 0 {
		t.Errorf("after Reset: %+v", st)
	}
	srv.Emulator.mu.Lock()
	marks := len(srv.console.read)
	srv.Emulator.mu.Unlock()
	if marks != 0 {
		t.Errorf("%d read marks kept after Reset", marks)
	}
}

// The traffic log is bounded like the records, and keeps only the head of
// a large body.
func TestConsoleTrafficBounded(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{MaxRecords: 3, AllowUnsubscribed: true})
	defer srv.Close()
	big := `{"referenceId":"` + strings.Repeat("x", 100_000) + `"}`
	for range 5 {
		resp, err := http.Post(srv.URL+proactive.PathDevelopment, "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	st := consoleGet(t, srv, "")
	if st.Kept["calls"] != 3 || st.Evicted["calls"] != 2 || len(st.Traffic) != 3 {
		t.Fatalf("kept %v evicted %v, %d shown", st.Kept, st.Evicted, len(st.Traffic))
	}
	c := st.Traffic[0]
	if c.BodyBytes != int64(len(big)) {
		t.Errorf("body size %d, want %d", c.BodyBytes, len(big))
	}
	resp, err := http.Get(srv.URL + c.BodyURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) > consoleBodyHead+100 || !strings.Contains(string(b), fmt.Sprintf("the first %d of %d bytes", consoleBodyHead, len(big))) {
		t.Errorf("the body of a large call: %d bytes, ending %q", len(b), b[max(0, len(b)-80):])
	}
	srv.console.mu.Lock()
	for i := range srv.console.calls.n {
		if n := len(srv.console.calls.at(i).Body); n > consoleBodyHead {
			t.Errorf("a call keeps %d bytes of body", n)
		}
	}
	srv.console.mu.Unlock()

	// With no records kept, no calls are either.
	none := NewServer(Options{DiscardRecords: true, AllowUnsubscribed: true})
	defer none.Close()
	sendSample(t, none)
	if st := consoleGet(t, none, ""); len(st.Traffic) != 0 || st.Evicted["calls"] == 0 {
		t.Errorf("DiscardRecords keeps calls: %+v", st.Traffic)
	}
}

// Faults show as what the client saw, and an echoing proxy's copy of the
// Authorization header never reaches the console.
func TestConsoleFaults(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	tok, err := lwa.NewProvider(srv.Config()).Token(context.Background(), messaging.Scope)
	if err != nil {
		t.Fatal(err)
	}
	send := func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+skillmsg.Path(userA), strings.NewReader(`{"data":{}}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	srv.InjectFault(Fault{Path: MessagesPath, Echo: true, Times: 1})
	send()
	srv.InjectFault(Fault{Path: MessagesPath, Drop: true, Times: 1})
	send()
	srv.InjectFault(Fault{Path: MessagesPath, Status: 503, Times: 1})
	send()
	st := consoleGet(t, srv, "?status=refused")
	if len(st.Traffic) != 3 {
		t.Fatalf("traffic %+v", st.Traffic)
	}
	if c := st.Traffic[0]; c.Status != 503 || !strings.Contains(c.Message, "injected") {
		t.Errorf("forced 503: %+v", c)
	}
	if c := st.Traffic[1]; c.Status != 0 || !strings.Contains(c.Message, "injected fault") {
		t.Errorf("dropped: %+v", c)
	}
	if c := st.Traffic[2]; c.Status != 400 || strings.Contains(c.Message, tok) || !strings.HasPrefix(c.Message, "POST /v1/skillmessages") {
		t.Errorf("echoed: %+v", c)
	}
}

// serveWith serves an emulator whose console reaches features.
func serveWith(t *testing.T, features consoleFeatures) *Server {
	t.Helper()
	e := New(Options{AllowUnsubscribed: true})
	e.console.features = features
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	return &Server{Emulator: e, URL: hs.URL, TokenURL: hs.URL + TokenPath, srv: hs}
}

// The console shows the emulator's subscriptions and the skill's answers,
// and subscribes users through the emulator; with other features (fakes
// below) it shows what they report.
func TestConsoleFeatures(t *testing.T) {
	t.Parallel()
	plain := NewServer(Options{})
	defer plain.Close()
	if st := consoleGet(t, plain, ""); !st.Features.Subscriptions || !st.Features.SkillAnswers {
		t.Errorf("features of the emulator not shown: %+v", st.Features)
	}
	if got := consolePost(t, plain, ConsoleSubscriptionsPath, `{"user":"`+userA+`","event":"`+proactive.SchemaWeatherAlert+`","subscribed":true}`); got != 204 {
		t.Errorf("subscribing through the console: %d, want 204", got)
	}
	if !plain.Subscribed(userA, proactive.SchemaWeatherAlert) {
		t.Error("the console's subscription did not reach the emulator")
	}
	if a := userCard(consoleGet(t, plain, ""), userA); a == nil || !slices.Equal(a.Subscriptions, []string{proactive.SchemaWeatherAlert}) {
		t.Errorf("subscriptions on the card: %+v", a)
	}

	type sub struct{ user, event string }
	var mu sync.Mutex
	var subs []sub
	features := consoleFeatures{
		subscriptions: func() []consoleSubscription {
			mu.Lock()
			defer mu.Unlock()
			var out []consoleSubscription
			for _, s := range subs {
				out = append(out, consoleSubscription{User: s.user, Event: s.event})
			}
			return out
		},
		subscribe: func(user, event string, on bool) error {
			mu.Lock()
			defer mu.Unlock()
			if event == "bad" {
				return errors.New("event: not an event name")
			}
			if on {
				subs = append(subs, sub{user, event})
			} else {
				subs = slices.DeleteFunc(subs, func(s sub) bool { return s == sub{user, event} })
			}
			return nil
		},
		recipients:  func(ev *Event) []string { return []string{userA, userB} },
		skillAnswer: func(m *Message) *consoleSkillAnswer { return &consoleSkillAnswer{Status: 200, LatencyMs: 12.5} },
	}
	srv := serveWith(t, features)
	for _, body := range []string{
		`{"user":"` + userA + `","event":"` + proactive.SchemaWeatherAlert + `","subscribed":true}`,
		`{"user":"` + userB + `","event":"` + proactive.SchemaWeatherAlert + `","subscribed":true}`,
		`{"user":"` + userB + `","event":"` + proactive.SchemaTrashCollection + `","subscribed":true}`,
		`{"user":"` + userB + `","event":"` + proactive.SchemaTrashCollection + `","subscribed":false}`,
	} {
		if got := consolePost(t, srv, ConsoleSubscriptionsPath, body); got != 204 {
			t.Errorf("POST %s: %d", body, got)
		}
	}
	for body, want := range map[string]int{
		`{"user":"u","event":"bad","subscribed":true}`: 400,
		`{"user":"u","event":"e"}`:                     400,
		`{"event":"e","subscribed":true}`:              400,
	} {
		if got := consolePost(t, srv, ConsoleSubscriptionsPath, body); got != want {
			t.Errorf("POST %s: %d, want %d", body, got, want)
		}
	}
	sendSample(t, srv)
	st := consoleGet(t, srv, "")
	if !st.Features.Subscriptions || !st.Features.SkillAnswers {
		t.Errorf("features %+v", st.Features)
	}
	a, b := userCard(st, userA), userCard(st, userB)
	if !slices.Equal(a.Subscriptions, []string{proactive.SchemaWeatherAlert}) || !slices.Equal(b.Subscriptions, []string{proactive.SchemaWeatherAlert}) {
		t.Errorf("subscriptions: A %v, B %v", a.Subscriptions, b.Subscriptions)
	}
	// The multicast event reached both as subscribers.
	if len(b.Notifications) != 1 || b.Notifications[0].Audience != "multicast" || b.Unread != 1 || len(a.Notifications) != 2 {
		t.Errorf("multicast on the cards: A %+v, B %+v", a.Notifications, b.Notifications)
	}
	if r := st.Multicast.Notifications[0].Recipients; r == nil || *r != 2 {
		t.Errorf("multicast recipients %v", r)
	}
	if m := b.Messages[0]; m.Skill == nil || m.Skill.Status != 200 || m.Skill.LatencyMs != 12.5 {
		t.Errorf("skill answer %+v", m.Skill)
	}

	// With recipients known, the user filter keeps only what reached the user.
	features.recipients = func(ev *Event) []string { return []string{userA} }
	srv = serveWith(t, features)
	sendSample(t, srv)
	if st := consoleGet(t, srv, "?user="+url.QueryEscape(userB)); len(st.Multicast.Notifications) != 0 {
		t.Errorf("?user=B shows a multicast event that reached A only")
	}
	if st := consoleGet(t, srv, "?user="+url.QueryEscape(userA)); len(st.Multicast.Notifications) != 1 {
		t.Errorf("?user=A hides the multicast event that reached A")
	}
}

// readEvent reads one Server-Sent Event's data.
func readEvent(t *testing.T, r *bufio.Reader) (event string, data []byte) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the feed: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && data != nil:
			return event, data
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):]...)
		}
	}
}

func openFeed(t *testing.T, srv *Server, q string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Get(srv.URL + ConsoleStreamPath + q)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		resp.Body.Close()
		t.Fatalf("feed: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, bufio.NewReader(resp.Body)
}

func nextState(t *testing.T, r *bufio.Reader) *consoleState {
	t.Helper()
	ev, data := readEvent(t, r)
	var msg struct {
		Now   time.Time     `json:"now"`
		State *consoleState `json:"state"`
	}
	if err := json.Unmarshal(data, &msg); err != nil || ev != "state" || msg.Now.IsZero() {
		t.Fatalf("event %q %v: %.300s", ev, err, data)
	}
	return msg.State
}

// The feed sends the state, then each change, without being asked.
func TestConsoleStream(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	resp, r := openFeed(t, srv, "?user="+url.QueryEscape(userB))
	defer resp.Body.Close()
	if st := nextState(t, r); len(st.Users) != 1 || len(st.Users[0].Messages) != 0 || st.Feeds != 1 {
		t.Fatalf("first state %+v", st)
	}
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userB, &messaging.Message{Data: map[string]int{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	// Changes may arrive in several states; the message is in one of them.
	for {
		st := nextState(t, r)
		if len(st.Users[0].Messages) == 1 {
			if st.Users[0].Messages[0].Data != `{"n":1}` {
				t.Errorf("message %+v", st.Users[0].Messages[0])
			}
			break
		}
	}
	// A change made without a request (through Go) arrives too.
	srv.DataStore().AddDevice(userB, "amzn1.ask.device.B1")
	for {
		if st := nextState(t, r); len(st.Users[0].Devices) == 1 {
			break
		}
	}
}

// Wakes coalesce: however many changes happen while a feed is busy, one
// wake waits for it.
func TestConsoleWakesCoalesce(t *testing.T) {
	t.Parallel()
	c := New(Options{}).console
	f := &feed{wake: make(chan struct{}, 1), quit: make(chan struct{})}
	c.streams[f] = struct{}{}
	for range 10_000 {
		c.changed()
	}
	if n := len(f.wake); n != 1 {
		t.Errorf("%d wakes queued", n)
	}
}

// At most MaxConsoleStreams feeds are served at once.
func TestConsoleStreamLimit(t *testing.T) {
	t.Parallel()
	srv := NewServer(Options{AllowUnsubscribed: true})
	defer srv.Close()
	var open []*http.Response
	for range MaxConsoleStreams {
		resp, r := openFeed(t, srv, "")
		nextState(t, r)
		open = append(open, resp)
	}
	resp, err := http.Get(srv.URL + ConsoleStreamPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "TOO_MANY_CONSOLES") {
		t.Errorf("feed %d: %d %s", MaxConsoleStreams+1, resp.StatusCode, b)
	}
	open[0].Body.Close()
	for { // the emulator notices the closed feed soon
		resp, err := http.Get(srv.URL + ConsoleStreamPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range open[1:] {
		r.Body.Close()
	}
}

// A client that stops reading its feed is dropped once a write waits
// too long; the emulator keeps serving the API meanwhile and holds
// nothing for it.
func TestConsoleSlowClientDropped(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	e.console.writeWait = 100 * time.Millisecond
	hs := httptest.NewUnstartedServer(e)
	hs.Listener = smallBuffers{hs.Listener}
	hs.Start()
	defer hs.Close()
	srv := &Server{Emulator: e, URL: hs.URL, TokenURL: hs.URL + TokenPath, srv: hs}

	// A client with a tiny receive buffer that never reads.
	d := net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
	}}
	conn, err := d.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", ConsoleStreamPath)

	// Large states: many users with messages.
	mc := messaging.NewClient(srv.Config())
	data := map[string]string{"pad": strings.Repeat("p", consoleContent)}
	for {
		for i := range 20 {
			if _, err := mc.Send(context.Background(), fmt.Sprintf("amzn1.ask.account.slow%d", i), &messaging.Message{Data: data}); err != nil {
				t.Fatal(err)
			}
		}
		e.console.smu.Lock()
		dropped, feeds := e.console.dropped, len(e.console.streams)
		e.console.smu.Unlock()
		if dropped == 1 && feeds == 0 {
			break
		}
	}
}

// smallBuffers gives accepted connections a small send buffer, so that a
// client that does not read blocks the server's writes at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// Shutting the server down ends the console feeds, which would otherwise
// hold it open.
func TestConsoleShutdown(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := e.HTTPServer(e)
	go hs.Serve(ln)
	resp, err := http.Get("http://" + ln.Addr().String() + ConsoleStreamPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	nextState(t, bufio.NewReader(resp.Body))
	// Without a deadline: a feed that kept the server open would hang here.
	if err := hs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("the feed did not end cleanly: %v", err)
	}
}

// A skill message waiting for its retry shows on the console with its
// failure, its attempts and when the next one comes.
func TestConsoleShowsSkillRetry(t *testing.T) {
	t.Parallel()
	sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }))
	defer sk.Close()
	srv := NewServer(Options{SkillEndpoint: sk.URL, Skill: SkillOptions{FirstRetry: time.Hour / 2}})
	defer srv.Close()
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitSkill(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := userCard(consoleGet(t, srv, ""), userA)
	if a == nil || len(a.Messages) != 1 {
		t.Fatalf("card %+v", a)
	}
	if s := a.Messages[0].Skill; s == nil || s.Pending || s.Status != 500 || s.Attempts != 1 || s.NextAttempt.IsZero() || s.Error == "" {
		t.Errorf("skill answer %+v, want a 500 with a retry due", s)
	}
}
