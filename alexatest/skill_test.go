package alexatest_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/skill"
	"github.com/google/go-cmp/cmp"
)

// skillServer is a skill on a loopback port whose handler is set once the
// emulator that calls it exists.
type skillServer struct {
	*httptest.Server
	h atomic.Value // http.Handler
}

func newSkillServer(t *testing.T) *skillServer {
	t.Helper()
	s := &skillServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.h.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// received is what a recording skill was sent, verified.
type received struct {
	mu       sync.Mutex
	messages []*skill.MessageReceived
	changes  []*skill.ProactiveSubscriptionChanged
	grants   []*skill.AuthorizationGrant
}

func (rc *received) handler(v *skill.Verifier) *skill.Handler {
	return &skill.Handler{
		Verifier: v,
		OnMessage: func(_ context.Context, r *skill.MessageReceived) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.messages = append(rc.messages, r)
			return nil
		},
		OnSubscriptionChanged: func(_ context.Context, r *skill.ProactiveSubscriptionChanged) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.changes = append(rc.changes, r)
			return nil
		},
	}
}

// withSkill starts a skill served by handler(emulator) and an emulator
// calling it; the emulator closes first.
func withSkill(t *testing.T, opts alexatest.Options, handler func(*alexatest.Server) http.Handler) *alexatest.Server {
	t.Helper()
	sk := newSkillServer(t)
	opts.SkillEndpoint = sk.URL + "/alexa"
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	sk.h.Store(handler(srv))
	return srv
}

func waitSkill(t *testing.T, srv *alexatest.Server) {
	t.Helper()
	if err := srv.WaitSkill(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const userA = "amzn1.ask.account.A"

// A skill message accepted by the emulator reaches the skill as a
// Messaging.MessageReceived request that verifies with only the
// emulator's CA as root; the record shows the skill's status and latency.
func TestSkillMessageDelivered(t *testing.T) {
	t.Parallel()
	var rc received
	var roots *x509.CertPool
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		// Only the CA, as PEM, and the chain served in process.
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(srv.SkillSigner().CAPEM()) {
			t.Fatal("CA PEM")
		}
		return rc.handler(skill.NewVerifier(skill.VerifierOptions{Roots: roots, HTTPClient: srv.SkillSigner().HTTPClient()}))
	})
	res, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{Data: map[string]string{"reminder": "take the bins out"}})
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("send: %+v %v", res, err)
	}
	waitSkill(t, srv)

	if len(rc.messages) != 1 {
		t.Fatalf("skill got %d messages, want 1", len(rc.messages))
	}
	m := rc.messages[0]
	var data map[string]string
	if err := m.DecodeMessage(&data); err != nil || data["reminder"] != "take the bins out" {
		t.Errorf("message data %v, %v", data, err)
	}
	if m.UserID() != userA || m.ApplicationID() != alexatest.DefaultApplicationID || m.APIEndpoint() != srv.URL {
		t.Errorf("context: user %q app %q apiEndpoint %q", m.UserID(), m.ApplicationID(), m.APIEndpoint())
	}
	if !strings.HasPrefix(m.RequestID, "amzn1.echo-api.request.") || time.Since(m.Timestamp) > time.Hour {
		t.Errorf("requestId %q timestamp %s", m.RequestID, m.Timestamp)
	}

	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Skill == nil {
		t.Fatalf("records: %+v", msgs)
	}
	d := msgs[0].Skill
	if d.State != alexatest.DeliveryDelivered || d.StatusCode != 200 || d.Latency <= 0 || d.Done.IsZero() || d.Warning != "" {
		t.Errorf("message record's delivery: %+v", d)
	}
	if d.Type != skill.TypeMessageReceived || d.RequestID != m.RequestID || d.Response != `{"version":"1.0","response":{}}` {
		t.Errorf("delivery %+v", d)
	}
	if got := srv.SkillDeliveries(); len(got) != 1 || !cmp.Equal(got[0], *d) {
		t.Errorf("deliveries %+v, want the message's %+v", got, d)
	}
	if st := srv.SkillStats(); st != (alexatest.SkillStats{Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
	// The admin listing shows it too, latency in milliseconds.
	var l struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	getJSON(t, srv.URL+alexatest.AdminMessages, &l)
	var shown map[string]any
	if len(l.Items) != 1 || json.Unmarshal(l.Items[0]["skill"], &shown) != nil || shown["state"] != "delivered" || shown["statusCode"] != 200.0 || shown["latencyMs"].(float64) <= 0 {
		t.Errorf("listing: %s", l.Items)
	}
}

// A skill in another process trusts the emulator through its admin
// endpoints: the CA PEM, and the chain fetched from the emulator for the
// same s3.amazonaws.com URL. A request signed by another CA is refused.
func TestRemoteSkillVerifierOptions(t *testing.T) {
	t.Parallel()
	var rc received
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		o, err := alexatest.RemoteSkillVerifierOptions(context.Background(), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		return rc.handler(skill.NewVerifier(o))
	})
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
		t.Fatal(err)
	}
	waitSkill(t, srv)
	if len(rc.messages) != 1 || srv.Messages()[0].Skill.State != alexatest.DeliveryDelivered {
		t.Fatalf("skill got %d messages; record %+v", len(rc.messages), srv.Messages()[0].Skill)
	}

	o, err := alexatest.RemoteSkillVerifierOptions(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := skill.NewVerifier(o)
	body := skillRequest(t)
	signed := func(s *alexatest.SkillSigner) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		s.Sign(r, body)
		return r
	}
	if err := v.Verify(signed(srv.SkillSigner()), body); err != nil {
		t.Errorf("signed by the emulator: %v", err)
	}
	var ve *skill.VerificationError
	if err := v.Verify(signed(newSigner(t, alexatest.SkillSignerOptions{})), body); !errors.As(err, &ve) {
		t.Errorf("signed by another CA: %v, want a refusal", err)
	}
	if _, err := alexatest.RemoteSkillVerifierOptions(context.Background(), "ftp://x"); err == nil {
		t.Error("a URL that is not http: no error")
	}
}

// The record says how the skill answered: a failure status, an answer
// Alexa would not accept, a refusal by the skill's verifier, no answer.
func TestSkillAnswersRecorded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler func(*alexatest.Server) http.Handler
		state   alexatest.DeliveryState
		status  int
		errText string
		warning bool
	}{
		{"500", func(*alexatest.Server) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
		}, alexatest.DeliveryFailed, 500, "the skill answered 500", false},
		{"empty 200", func(*alexatest.Server) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
		}, alexatest.DeliveryDelivered, 200, "", true},
		{"untrusted", func(*alexatest.Server) http.Handler {
			// A verifier with the system roots refuses the emulator's CA.
			var rc received
			return rc.handler(skill.NewVerifier(skill.VerifierOptions{Roots: x509.NewCertPool(), HTTPClient: newSigner(t, alexatest.SkillSignerOptions{}).HTTPClient()}))
		}, alexatest.DeliveryFailed, 400, "the skill answered 400", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := withSkill(t, alexatest.Options{}, tc.handler)
			if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
				t.Fatal(err)
			}
			waitSkill(t, srv)
			d := srv.Messages()[0].Skill
			if d.State != tc.state || d.StatusCode != tc.status || !strings.Contains(d.Error, tc.errText) || (d.Warning != "") != tc.warning {
				t.Errorf("delivery %+v", d)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: dead.URL})
		defer srv.Close()
		if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
			t.Fatal(err)
		}
		waitSkill(t, srv)
		d := srv.Messages()[0].Skill
		if d.State != alexatest.DeliveryFailed || d.StatusCode != 0 || d.Error == "" {
			t.Errorf("delivery %+v", d)
		}
		if st := srv.SkillStats(); st.Failed != 1 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("bad endpoint", func(t *testing.T) {
		t.Parallel()
		srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: "http://skill.example.com/"})
		defer srv.Close()
		if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
			t.Fatal(err)
		}
		waitSkill(t, srv)
		if d := srv.Messages()[0].Skill; d.State != alexatest.DeliveryFailed || !strings.Contains(d.Error, "loopback") {
			t.Errorf("delivery %+v", d)
		}
	})
}

// A slow skill never delays the API's answer, and never makes the
// emulator hold more than the queue: beyond it requests are skipped and
// counted.
func TestSkillDeliveryBounded(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	srv := withSkill(t, alexatest.Options{Skill: alexatest.SkillOptions{Concurrency: 1, QueueSize: 2}}, func(*alexatest.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				arrived <- struct{}{}
				<-release
			}
			skill.WriteEmptyResponse(w)
		})
	})
	var once sync.Once
	releaseSkill := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseSkill) // first, should the test stop early
	c := messaging.NewClient(srv.Config())
	send := func(i int) {
		t.Helper()
		res, err := c.Send(context.Background(), userA, &messaging.Message{Data: map[string]int{"i": i}})
		if err != nil || res.StatusCode != http.StatusAccepted {
			t.Fatalf("message %d: %+v %v", i, res, err)
		}
	}
	send(0)
	<-arrived // the skill holds the first; the others answer at once
	for i := 1; i < 5; i++ {
		send(i)
	}
	if st := srv.SkillStats(); st != (alexatest.SkillStats{Pending: 3, Skipped: 2}) {
		t.Errorf("while the skill hangs: %+v", st)
	}
	msgs := srv.Messages()
	for i, m := range msgs {
		want := alexatest.DeliveryQueued
		switch {
		case i == 0:
			want = alexatest.DeliverySending
		case i >= 3:
			want = alexatest.DeliverySkipped
		}
		if m.Skill.State != want {
			t.Errorf("message %d: %s, want %s", i, m.Skill.State, want)
		}
	}
	if e := msgs[4].Skill.Error; !strings.Contains(e, "QueueSize") {
		t.Errorf("skipped: %q", e)
	}
	releaseSkill()
	waitSkill(t, srv)
	if st := srv.SkillStats(); st != (alexatest.SkillStats{Delivered: 3, Skipped: 2}) {
		t.Errorf("after: %+v", st)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("skill called %d times, want 3", n)
	}
}

// Closing the emulator skips what waits and cancels what is being sent.
func TestCloseStopsSkillDelivery(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	sk := newSkillServer(t)
	t.Cleanup(func() { close(release) }) // before the skill server closes
	sk.h.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: sk.URL, Skill: alexatest.SkillOptions{Concurrency: 1}})
	c := messaging.NewClient(srv.Config())
	for range 3 {
		if _, err := c.Send(context.Background(), userA, &messaging.Message{}); err != nil {
			t.Fatal(err)
		}
	}
	<-arrived
	srv.Close()
	var states []alexatest.DeliveryState
	for _, d := range srv.SkillDeliveries() {
		states = append(states, d.State)
	}
	want := []alexatest.DeliveryState{alexatest.DeliveryFailed, alexatest.DeliverySkipped, alexatest.DeliverySkipped}
	if !cmp.Equal(states, want) {
		t.Errorf("after Close: %v, want %v", states, want)
	}
	if err := srv.WaitSkill(context.Background()); err != nil {
		t.Error(err)
	}
}

// multicastWeather is a valid Multicast event.
func multicastWeather(ref string) *proactive.Request {
	now := time.Now()
	return &proactive.Request{
		Timestamp: now, ReferenceID: ref, ExpiryTime: now.Add(time.Hour),
		Event: proactive.Event{Name: "AMAZON.WeatherAlert.Activated", Payload: map[string]any{
			"weatherAlert": map[string]any{"alertType": "SNOW_STORM", "source": "localizedattribute:source"},
		}},
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}},
		RelevantAudience:    proactive.ToAllSubscribers(),
	}
}

func unicastAlert(ref, user string) *proactive.Request {
	var r proactive.Request
	if err := json.Unmarshal([]byte(eventJSON(ref, user)), &r); err != nil {
		panic(err)
	}
	return &r
}

const alertEvent = "AMAZON.MessageAlert.Activated"

// Unicast events to a user who has not subscribed to the event's name are
// refused with 403, as Alexa refuses them, until the user subscribes.
func TestUnicastNeedsSubscription(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	c := proactive.NewClient(srv.Config())
	ctx := context.Background()
	refused := func(ref string) {
		t.Helper()
		_, err := c.Create(ctx, unicastAlert(ref, userA), proactive.Development)
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != 403 || !strings.Contains(ae.Message, "has not subscribed to "+alertEvent) || !errors.Is(err, alexa.ErrNotSubscribed) || errors.Is(err, alexa.ErrUnauthorized) || ae.Attempts != 1 {
			t.Fatalf("%s: %v, want 403 saying the user has not subscribed", ref, err)
		}
	}
	refused("before")
	if err := srv.Subscribe(userA, "AMAZON.WeatherAlert.Activated"); err != nil {
		t.Fatal(err)
	}
	refused("another name")
	if err := srv.Subscribe(userA, alertEvent); err != nil {
		t.Fatal(err)
	}
	if !srv.Subscribed(userA, alertEvent) {
		t.Error("Subscribed: false")
	}
	if _, err := c.Create(ctx, unicastAlert("subscribed", userA), proactive.Development); err != nil {
		t.Fatalf("subscribed: %v", err)
	}
	if evs := srv.Events(); len(evs) != 1 || evs[0].SubscriberCount != 1 || evs[0].Subscribers != nil {
		t.Errorf("events: %+v", evs)
	}
	if err := srv.Unsubscribe(userA, alertEvent); err != nil {
		t.Fatal(err)
	}
	refused("after")
	// The refused event's referenceId was not taken.
	if err := srv.Subscribe(userA, alertEvent); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, unicastAlert("after", userA), proactive.Development); err != nil {
		t.Errorf("after subscribing again: %v", err)
	}

	open := alexatest.NewServer(alexatest.Options{AllowUnsubscribed: true})
	defer open.Close()
	if _, err := proactive.NewClient(open.Config()).Create(ctx, unicastAlert("open", userA), proactive.Live); err != nil {
		t.Fatalf("AllowUnsubscribed: %v", err)
	}
	if evs := open.Events(); len(evs) != 1 || evs[0].SubscriberCount != 0 {
		t.Errorf("AllowUnsubscribed events: %+v", evs)
	}
}

// A Multicast event is recorded with the users subscribed to its name.
func TestMulticastRecordsSubscribers(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	weather := "AMAZON.WeatherAlert.Activated"
	for _, s := range [][2]string{{"u2", weather}, {"u1", weather}, {"u3", alertEvent}} {
		if err := srv.Subscribe(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	c := proactive.NewClient(srv.Config())
	if _, err := c.Create(context.Background(), multicastWeather("m1"), proactive.Live); err != nil {
		t.Fatal(err)
	}
	ev := srv.Events()[0]
	if !cmp.Equal(ev.Subscribers, []string{"u1", "u2"}) || ev.SubscriberCount != 2 {
		t.Errorf("subscribers %v (%d), want [u1 u2]", ev.Subscribers, ev.SubscriberCount)
	}
	want := []alexatest.Subscription{{UserID: "u1", EventNames: []string{weather}}, {UserID: "u2", EventNames: []string{weather}}, {UserID: "u3", EventNames: []string{alertEvent}}}
	if got := srv.Subscriptions(); !cmp.Equal(got, want) {
		t.Errorf("Subscriptions: %v", got)
	}
	srv.Reset()
	if got := srv.Subscriptions(); len(got) != 0 {
		t.Errorf("after Reset: %v", got)
	}
}

// Each change of a user's subscriptions reaches the skill as a
// ProactiveSubscriptionChanged request listing them all; no change, no
// request. Bad input is refused before anything changes.
func TestSubscriptionChangesReachTheSkill(t *testing.T) {
	t.Parallel()
	var rc received
	srv := withSkill(t, alexatest.Options{Skill: alexatest.SkillOptions{Concurrency: 1}}, func(srv *alexatest.Server) http.Handler {
		return rc.handler(skill.NewVerifier(srv.SkillVerifierOptions()))
	})
	steps := []struct {
		on   bool
		name string
	}{{true, "A"}, {true, "B"}, {true, "A"}, {false, "A"}, {false, "C"}, {false, "B"}}
	for _, s := range steps {
		f := srv.Unsubscribe
		if s.on {
			f = srv.Subscribe
		}
		if err := f(userA, s.name); err != nil {
			t.Fatal(err)
		}
	}
	waitSkill(t, srv)
	var got [][]string
	for _, r := range rc.changes {
		if r.UserID() != userA {
			t.Errorf("user %q", r.UserID())
		}
		got = append(got, r.EventNames())
	}
	want := [][]string{{"A"}, {"A", "B"}, {"B"}, {}}
	if !cmp.Equal(got, want) {
		t.Errorf("skill got %v, want %v", got, want)
	}
	if d := srv.SkillDeliveries(); len(d) != 4 || !cmp.Equal(d[1].EventNames, []string{"A", "B"}) || d[1].Type != skill.TypeProactiveSubscriptionChanged {
		t.Errorf("deliveries %+v", d)
	}

	var ve *alexa.ValidationError
	for _, bad := range [][2]string{{"", "A"}, {userA, ""}, {userA, "has space"}, {"bad\x00id", "A"}} {
		if err := srv.Subscribe(bad[0], bad[1]); !errors.As(err, &ve) {
			t.Errorf("Subscribe(%q, %q): %v, want a validation error", bad[0], bad[1], err)
		}
	}
	if len(srv.Subscriptions()) != 0 {
		t.Errorf("subscriptions after bad input: %v", srv.Subscriptions())
	}
}

func postJSON(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The admin endpoints change subscriptions and answer with the skill's
// answer; bad bodies are refused naming the field.
func TestAdminSubscriptions(t *testing.T) {
	t.Parallel()
	var rc received
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		return rc.handler(skill.NewVerifier(srv.SkillVerifierOptions()))
	})
	status, body := postJSON(t, srv.URL+alexatest.AdminSubscriptions, `{"userId":"`+userA+`","eventName":"`+alertEvent+`","subscribed":true}`)
	var res alexatest.SubscriptionResult
	if status != 200 || json.Unmarshal(body, &res) != nil {
		t.Fatalf("POST: %d %s", status, body)
	}
	if !res.Changed || !cmp.Equal(res.EventNames, []string{alertEvent}) || res.Delivery == nil || res.Delivery.State != alexatest.DeliveryDelivered || res.Delivery.StatusCode != 200 {
		t.Errorf("result %s", body)
	}
	// Answered after the skill was: it has the request already.
	if len(rc.changes) != 1 {
		t.Errorf("skill got %d changes", len(rc.changes))
	}
	status, body = postJSON(t, srv.URL+alexatest.AdminSubscriptions, `{"userId":"`+userA+`","eventName":"`+alertEvent+`","subscribed":true}`)
	if status != 200 || !strings.Contains(string(body), `"changed": false`) || strings.Contains(string(body), `"delivery"`) {
		t.Errorf("again: %d %s", status, body)
	}
	var l alexatest.Listing[alexatest.Subscription]
	getJSON(t, srv.URL+alexatest.AdminSubscriptions+"?user="+userA, &l)
	if !cmp.Equal(l.Items, []alexatest.Subscription{{UserID: userA, EventNames: []string{alertEvent}}}) {
		t.Errorf("listing %+v", l)
	}
	for body, field := range map[string]string{
		`{"userId":"u","eventName":"E"}`:                      "subscribed",
		`{"user":"u","event":"E","subscribed":true}`:          "user",
		`{"userId":"u","eventName":"","subscribed":true}`:     "eventName",
		`{"userId":"u","eventName":"E","subscribed":"yes"}`:   "subscribed",
		`{"userId":"u","eventName":"E","subscribed":true} {}`: "nothing after",
	} {
		status, got := postJSON(t, srv.URL+alexatest.AdminSubscriptions, body)
		if status != 400 || !strings.Contains(string(got), field) {
			t.Errorf("%s: %d %s, want 400 naming %s", body, status, got, field)
		}
	}
}

// The skill's grant ends as the user's tokens stored by skill.StoreGrant:
// the emulator's LWA endpoint exchanges the code once, and refreshes the
// tokens until they are revoked.
func TestGrantEndToEnd(t *testing.T) {
	t.Parallel()
	var users *lwa.UserTokens
	codes := make(chan string, 1)
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		users = lwa.NewUserTokens(srv.Config(), lwa.UserTokensOptions{})
		store := skill.StoreGrant(users)
		return &skill.Handler{
			Verifier: skill.NewVerifier(srv.SkillVerifierOptions()),
			OnGrant: func(ctx context.Context, r *skill.AuthorizationGrant) error {
				codes <- string(r.Body.Grant.Code)
				return store(ctx, r)
			},
		}
	})
	ctx := context.Background()
	if err := srv.SendGrant(userA); err != nil {
		t.Fatal(err)
	}
	waitSkill(t, srv)
	if d := srv.SkillDeliveries(); len(d) != 1 || d[0].State != alexatest.DeliveryDelivered || d[0].Type != skill.TypeAuthorizationGrant {
		t.Fatalf("grant delivery %+v", d)
	}
	tok, err := users.UserToken(ctx, userA)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("stored token: %v %v", tok, err)
	}

	// The code works once.
	code := <-codes
	var le *lwa.Error
	if _, err := users.Exchange(ctx, userA, code); !errors.As(err, &le) || le.Code != "invalid_grant" {
		t.Errorf("second exchange: %v, want invalid_grant", err)
	}
	var grants []alexatest.TokenRequest
	for _, r := range srv.TokenRequests() {
		if r.GrantType == "authorization_code" {
			grants = append(grants, r)
		}
	}
	if len(grants) != 2 || grants[0].Status != 200 || grants[0].UserID != userA || grants[1].Error != "invalid_grant" {
		t.Errorf("token requests %+v", grants)
	}

	// An expired access token is refreshed with the user's refresh token.
	expire := func() {
		t.Helper()
		cur, err := users.Store().Load(ctx, userA)
		if err != nil {
			t.Fatal(err)
		}
		cur.Expiry = time.Now().Add(-time.Minute)
		users.Store().Save(ctx, userA, cur)
	}
	expire()
	fresh, err := users.Token(ctx, userA)
	if err != nil || fresh == tok.AccessToken || fresh == "" {
		t.Fatalf("refresh: %q %v", fresh, err)
	}
	// Once revoked, the refresh tells the caller the user must grant again.
	if n := srv.RevokeUserTokens(userA); n != 1 {
		t.Errorf("revoked %d", n)
	}
	expire()
	if _, err := users.Token(ctx, userA); !errors.Is(err, lwa.ErrRelinkRequired) {
		t.Errorf("after revoking: %v, want ErrRelinkRequired", err)
	}
}

// Grants need a skill endpoint; the admin endpoint sends one and answers
// with the skill's answer.
func TestAdminGrants(t *testing.T) {
	t.Parallel()
	none := alexatest.NewServer(alexatest.Options{})
	defer none.Close()
	if err := none.SendGrant(userA); !errors.Is(err, alexatest.ErrNoSkillEndpoint) {
		t.Errorf("SendGrant without endpoint: %v", err)
	}
	if status, body := postJSON(t, none.URL+alexatest.AdminGrants, `{"userId":"u"}`); status != 409 || !strings.Contains(string(body), "skill-endpoint") {
		t.Errorf("POST without endpoint: %d %s", status, body)
	}

	var got atomic.Int32
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		return &skill.Handler{
			Verifier: skill.NewVerifier(srv.SkillVerifierOptions()),
			OnGrant:  func(context.Context, *skill.AuthorizationGrant) error { got.Add(1); return nil },
		}
	})
	status, body := postJSON(t, srv.URL+alexatest.AdminGrants, `{"userId":"`+userA+`"}`)
	var res alexatest.GrantResult
	if status != 200 || json.Unmarshal(body, &res) != nil || res.Delivery.State != alexatest.DeliveryDelivered || got.Load() != 1 {
		t.Errorf("POST: %d %s (skill got %d)", status, body, got.Load())
	}
	if strings.Contains(string(body), "ANalexatest") {
		t.Errorf("the code is shown: %s", body)
	}
	if status, body := postJSON(t, srv.URL+alexatest.AdminGrants, `{"userId":""}`); status != 400 || !strings.Contains(string(body), "userId") {
		t.Errorf("no user: %d %s", status, body)
	}
}

func TestCheckSkillEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://skill.example.com/alexa", false, true},
		{"http://127.0.0.1:8080/", false, true},
		{"http://localhost:8080/", false, true},
		{"http://[::1]:8080/", false, true},
		{"https://127.0.0.1:8443/", true, true},
		{"http://skill.example.com/", false, false},
		{"https://skill.example.com/", true, false},
		{"ftp://127.0.0.1/", false, false},
		{"/alexa", false, false},
		{"https://user:pw@skill.example.com/", false, false},
		{"://", false, false},
	} {
		err := alexatest.CheckSkillEndpoint(tc.url, tc.insecure)
		var ve *alexa.ValidationError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case !tc.ok && (!errors.As(err, &ve) || ve.Violations[0].Field != "skillEndpoint"):
			t.Errorf("%s (insecure %v): %v, want a violation of skillEndpoint", tc.url, tc.insecure, err)
		case err != nil && strings.Contains(err.Error(), "pw"):
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// An https skill with a certificate of its own: trusted through TLSRoots,
// or accepted unverified on loopback; refused with the system roots.
func TestSkillOverHTTPS(t *testing.T) {
	t.Parallel()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { skill.WriteEmptyResponse(w) }))
	t.Cleanup(ts.Close)
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	for _, tc := range []struct {
		name string
		o    alexatest.SkillOptions
		want alexatest.DeliveryState
	}{
		{"system roots", alexatest.SkillOptions{}, alexatest.DeliveryFailed},
		{"TLSRoots", alexatest.SkillOptions{TLSRoots: roots}, alexatest.DeliveryDelivered},
		{"insecure on loopback", alexatest.SkillOptions{InsecureSkipVerify: true}, alexatest.DeliveryDelivered},
		{"HTTPClient", alexatest.SkillOptions{HTTPClient: ts.Client()}, alexatest.DeliveryDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: ts.URL, Skill: tc.o})
			defer srv.Close()
			if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
				t.Fatal(err)
			}
			waitSkill(t, srv)
			if d := srv.Messages()[0].Skill; d.State != tc.want {
				t.Errorf("delivery %+v, want %s", d, tc.want)
			}
		})
	}
}

// The skill side's admin endpoints: status, CA, chain and deliveries.
func TestAdminSkillEndpoints(t *testing.T) {
	t.Parallel()
	var rc received
	srv := withSkill(t, alexatest.Options{}, func(srv *alexatest.Server) http.Handler {
		return rc.handler(skill.NewVerifier(srv.SkillVerifierOptions()))
	})
	if err := srv.Subscribe(userA, alertEvent); err != nil {
		t.Fatal(err)
	}
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), "amzn1.ask.account.B", &messaging.Message{}); err != nil {
		t.Fatal(err)
	}
	waitSkill(t, srv)

	var st alexatest.SkillStatus
	getJSON(t, srv.URL+alexatest.AdminSkill, &st)
	if !strings.HasSuffix(st.Endpoint, "/alexa") || st.CertURL != srv.SkillSigner().CertURL() || st.Stats.Delivered != 2 || st.AllowUnsubscribed {
		t.Errorf("status %+v", st)
	}
	get := func(path string) (int, []byte) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := get(alexatest.AdminSkillCA); status != 200 || string(b) != string(srv.SkillSigner().CAPEM()) {
		t.Errorf("CA: %d", status)
	} else if blk, _ := pem.Decode(b); blk == nil || blk.Type != "CERTIFICATE" {
		t.Errorf("CA is not a PEM certificate")
	}
	file := st.CertURL[strings.LastIndex(st.CertURL, "/")+1:]
	if status, b := get(alexatest.AdminSkillChain + file); status != 200 || string(b) != string(srv.SkillSigner().ChainPEM()) {
		t.Errorf("chain: %d", status)
	}
	if status, _ := get(alexatest.AdminSkillChain + "alexatest-0000.pem"); status != 404 {
		t.Errorf("another chain: %d, want 404", status)
	}
	var l alexatest.Listing[alexatest.SkillDelivery]
	getJSON(t, srv.URL+alexatest.AdminSkillDeliveries+"?type="+skill.TypeMessageReceived, &l)
	if len(l.Items) != 1 || l.Items[0].UserID != "amzn1.ask.account.B" || l.Items[0].Latency <= 0 {
		t.Errorf("deliveries of type: %+v", l.Items)
	}
	getJSON(t, srv.URL+alexatest.AdminSkillDeliveries+"?user="+userA+"&state=delivered", &l)
	if len(l.Items) != 1 || l.Items[0].Type != skill.TypeProactiveSubscriptionChanged {
		t.Errorf("deliveries of user: %+v", l.Items)
	}
	srv.Reset()
	if d := srv.SkillDeliveries(); len(d) != 0 || srv.SkillStats() != (alexatest.SkillStats{}) {
		t.Errorf("after Reset: %+v %+v", d, srv.SkillStats())
	}
}
