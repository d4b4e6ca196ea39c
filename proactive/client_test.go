package proactive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// setup starts an emulator and returns it with a client pointed at it.
func setup(t *testing.T, opts alexatest.Options) (*alexatest.Server, *proactive.Client) {
	t.Helper()
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv, proactive.NewClient(srv.Config())
}

func weatherAlert(ref string) *proactive.Request {
	now := time.Now()
	return &proactive.Request{
		Timestamp:   now,
		ReferenceID: ref,
		ExpiryTime:  now.Add(time.Hour),
		Event: proactive.Event{Name: "AMAZON.WeatherAlert.Activated", Payload: map[string]any{
			"weatherAlert": map[string]any{"alertType": "SNOW_STORM", "source": "localizedattribute:source"},
		}},
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "Foo"}},
		RelevantAudience:    proactive.ToAllSubscribers(),
	}
}

func tokenRequests(srv *alexatest.Server, scope string) int {
	n := 0
	for _, r := range srv.TokenRequests() {
		if r.Scope == scope {
			n++
		}
	}
	return n
}

func TestCreateStagesAndWireForm(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ctx := context.Background()
	for _, stage := range []proactive.Stage{proactive.Development, proactive.Live} {
		res, err := c.Create(ctx, weatherAlert("ref"+string(stage)), stage)
		if err != nil || res.StatusCode != http.StatusAccepted || res.Attempts != 1 || res.AlreadyAccepted {
			t.Fatalf("%s: %+v, %v", stage, res, err)
		}
	}
	evs := srv.Events()
	if len(evs) != 2 || evs[0].Stage != proactive.Development || evs[1].Stage != proactive.Live {
		t.Fatalf("events %+v", evs)
	}
	if srv.Calls(proactive.PathDevelopment) != 1 || srv.Calls(proactive.PathLive) != 1 {
		t.Errorf("paths: dev %d live %d", srv.Calls(proactive.PathDevelopment), srv.Calls(proactive.PathLive))
	}
	body := string(evs[0].Body)
	for _, want := range []string{`"relevantAudience":{"type":"Multicast","payload":{}}`, `"localizedAttributes":[{"locale":"en-US","source":"Foo"}]`, `Z","referenceId"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks %s", body, want)
		}
	}
	if len(evs[0].Preview) != 1 || evs[0].Preview[0].Text != "There is a snow storm alert for your area. Provided by Foo." {
		t.Errorf("recorded preview %+v", evs[0].Preview)
	}
	if ua := evs[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "alexa-oos-go/"+alexa.Version+" go/") {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestInvalidRequestSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	req := weatherAlert(strings.Repeat("r", 101))
	req.ExpiryTime = req.Timestamp.Add(time.Minute)
	req.LocalizedAttributes = []proactive.LocalizedAttribute{{"locale": "en-US"}, {"source": "Bar"}}
	req.RelevantAudience = proactive.Audience{Type: proactive.Unicast}
	_, err := c.Create(context.Background(), req, proactive.Development)
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *alexa.ValidationError", err)
	}
	var fields []string
	for _, v := range ve.Violations {
		fields = append(fields, v.Field)
	}
	want := "referenceId expiryTime localizedAttributes[1].locale localizedAttributes[0].source relevantAudience.payload.user"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("violations on %q, want %q\n%v", got, want, err)
	}
	if len(srv.TokenRequests()) != 0 || srv.Calls(proactive.PathDevelopment) != 0 {
		t.Error("an invalid request reached the network")
	}
}

// 1,000 goroutines sending events and messages at once cause exactly one
// token request per scope.
func TestConcurrentSendersShareOneTokenPerScope(t *testing.T) {
	t.Parallel()
	srv, events := setup(t, alexatest.Options{})
	messages := messaging.NewClient(srv.Config())
	ctx := context.Background()
	const n = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%2 == 0 {
				_, err = events.Create(ctx, weatherAlert(fmt.Sprintf("ref%d", i)), proactive.Development)
			} else {
				_, err = messages.Send(ctx, fmt.Sprintf("user%d", i), &messaging.Message{Data: map[string]string{"i": fmt.Sprint(i)}})
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := tokenRequests(srv, lwa.ScopeProactiveEvents); got != 1 {
		t.Errorf("%d token requests for %s, want 1", got, lwa.ScopeProactiveEvents)
	}
	if got := tokenRequests(srv, lwa.ScopeSkillMessaging); got != 1 {
		t.Errorf("%d token requests for %s, want 1", got, lwa.ScopeSkillMessaging)
	}
	if len(srv.Events()) != n/2 || len(srv.Messages()) != n/2 {
		t.Errorf("%d events and %d messages recorded", len(srv.Events()), len(srv.Messages()))
	}
}

// A token the API refuses (expired or revoked) is dropped and the call is
// retried once with a fresh one.
func TestRefusedTokenIsReplacedOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ctx := context.Background()
	if _, err := c.Create(ctx, weatherAlert("a"), proactive.Development); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	res, err := c.Create(ctx, weatherAlert("b"), proactive.Development)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || tokenRequests(srv, proactive.Scope) != 2 {
		t.Errorf("attempts %d, token requests %d; want 2 and 2", res.Attempts, tokenRequests(srv, proactive.Scope))
	}

	// A 403 on the token just fetched after a refusal is not the token's
	// fault (Alexa answers 403 to a Unicast event for a user who has not
	// subscribed, too): no new token, one attempt.
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Status: http.StatusForbidden, Body: "<html><body><h1>403 Forbidden</h1></body></html>"})
	_, err = c.Create(ctx, weatherAlert("c"), proactive.Development)
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden || ae.Attempts != 1 || !strings.Contains(string(ae.Body), "403 Forbidden") || ae.Code != "" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, alexa.ErrUnauthorized) || ae.Hint() == "" {
		t.Errorf("%v: want ErrUnauthorized with a hint", err)
	}
	if got := tokenRequests(srv, proactive.Scope); got != 2 {
		t.Errorf("%d token requests, want still 2", got)
	}
}

// A 403 on a token in use for a while gets one more try with a fresh
// token; a 403 again is answered at once to every call for a minute, with
// no further token: many users who have not subscribed cost one token
// request, not one each.
func TestForbiddenReplacesTheTokenOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ctx := context.Background()
	if _, err := c.Create(ctx, weatherAlert("a"), proactive.Development); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Status: http.StatusForbidden})
	for i, want := range []int{2, 1, 1} {
		_, err := c.Create(ctx, weatherAlert(fmt.Sprint("b", i)), proactive.Development)
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden || ae.Attempts != want {
			t.Fatalf("call %d: err = %v, want a 403 after %d attempts", i, err, want)
		}
	}
	if got := tokenRequests(srv, proactive.Scope); got != 2 {
		t.Errorf("%d token requests, want 2", got)
	}
}

// A retry answered 409 means the first attempt landed: success, once.
func TestDuplicateOnRetryIsSuccess(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ctx := context.Background()
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Lose: true, Times: 1})
	res, err := c.Create(ctx, weatherAlert("once"), proactive.Development)
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadyAccepted || res.StatusCode != http.StatusConflict || res.Attempts != 2 {
		t.Errorf("result %+v, want AlreadyAccepted after 2 attempts", res)
	}
	if n := len(srv.Events()); n != 1 {
		t.Errorf("%d events recorded, want 1", n)
	}
	// A first-attempt 409 is the caller's duplicate: an error.
	_, err = c.Create(ctx, weatherAlert("once"), proactive.Development)
	if !errors.Is(err, alexa.ErrDuplicate) {
		t.Errorf("err = %v, want ErrDuplicate", err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1})
	start := time.Now()
	res, err := c.Create(context.Background(), weatherAlert("r"), proactive.Development)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 {
		t.Errorf("attempts %d, want 2", res.Attempts)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %s, before the server's Retry-After of 1s", waited)
	}
	// A Retry-After past the deadline is not waited for.
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Create(ctx, weatherAlert("s"), proactive.Development)
	var ae *alexa.Error
	if !errors.As(err, &ae) || !errors.Is(err, alexa.ErrThrottled) || ae.RetryAfter != 30*time.Second || ctx.Err() != nil {
		t.Errorf("err = %v (ctx %v), want the 429 with its Retry-After, before the deadline", err, ctx.Err())
	}
}

func TestCancelledContextReturns(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Create(ctx, weatherAlert("x"), proactive.Development)
		done <- err
	}()
	for srv.Calls(proactive.PathDevelopment) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	var te *alexa.TransportError
	if err := ctx.Err(); errors.As(err, &te) {
		t.Error("cancellation reported as a transport failure")
	}
}

func TestTransportFailureIsNotAStatus(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: proactive.PathDevelopment, Drop: true})
	_, err := c.Create(context.Background(), weatherAlert("t"), proactive.Development)
	var te *alexa.TransportError
	var ae *alexa.Error
	if !errors.As(err, &te) || errors.As(err, &ae) {
		t.Fatalf("err = %v, want only a *alexa.TransportError", err)
	}
	if te.Op != "proactive.Create" || te.Attempts != 3 || srv.Calls(proactive.PathDevelopment) != 3 {
		t.Errorf("op %q attempts %d calls %d", te.Op, te.Attempts, srv.Calls(proactive.PathDevelopment))
	}
}

func TestUnknownFieldsWarned(t *testing.T) {
	t.Parallel()
	var req proactive.Request
	if err := json.Unmarshal([]byte(`{"expiryTme":"x","referenceId":"r","Event":{}}`), &req); err != nil {
		t.Fatal(err)
	}
	ws := proactive.Warnings(&req)
	if len(ws) != 2 || ws[0] != "Event: read as event, but the API spells it event" || !strings.HasPrefix(ws[1], "expiryTme: unknown field") {
		t.Errorf("warnings %q", ws)
	}
}

func TestCreateStage(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ctx := context.Background()
	// The zero value is the safe side.
	if _, err := c.Create(ctx, weatherAlert("zero"), ""); err != nil {
		t.Fatalf(`Create(stage ""): %v`, err)
	}
	if srv.Calls(proactive.PathDevelopment) != 1 || srv.Calls(proactive.PathLive) != 0 {
		t.Errorf(`stage "" went to dev %d / live %d times, want development only`, srv.Calls(proactive.PathDevelopment), srv.Calls(proactive.PathLive))
	}
	for _, stage := range []proactive.Stage{"development", "live", "Live", "bogus", " LIVE"} {
		_, err := c.Create(ctx, weatherAlert("bad"), stage)
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "stage" {
			t.Errorf("Create(stage %q): err = %v, want an *alexa.ValidationError naming stage", stage, err)
		}
	}
	if n := len(srv.Events()); n != 1 || srv.Calls(proactive.PathLive) != 0 {
		t.Errorf("%d events recorded, %d live calls; invalid stages reached the network", n, srv.Calls(proactive.PathLive))
	}
	if proactive.Stage("bogus").Path() != "" || proactive.Stage("").Path() != proactive.PathDevelopment {
		t.Error("Path maps an unknown stage to an API path, or the zero stage away from development")
	}
}

func TestCreateUnicastUserID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	for _, user := range []string{"..", "amzn1.ask.account.A/../B", "amzn1\x00", "amzn1.\xff", strings.Repeat("u", validate.MaxUserIDBytes+1)} {
		req := weatherAlert("u")
		req.RelevantAudience = proactive.ToUser(user)
		_, err := c.Create(context.Background(), req, proactive.Development)
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "relevantAudience.payload.user" {
			t.Errorf("user %q: err = %v, want an *alexa.ValidationError naming relevantAudience.payload.user", user, err)
		}
	}
	if n := len(srv.Events()) + len(srv.TokenRequests()); n != 0 {
		t.Errorf("%d events and token requests for invalid users, want none", n)
	}
}
