package queue_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/queue"
)

func message(t *testing.T, i int) *queue.MessageArgs {
	t.Helper()
	m, err := queue.ParseMessage([]byte(messageLine(i)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// jobState returns River's state and attempt of job id.
func jobState(t *testing.T, db *testDB, id int64) (state string, attempt int) {
	t.Helper()
	err := db.pool.QueryRow(context.Background(), "SELECT state::text, attempt FROM "+db.schema+".river_job WHERE id = $1", id).Scan(&state, &attempt)
	if err != nil {
		t.Fatal(err)
	}
	return state, attempt
}

// Migrate is idempotent and safe to run from several places at once; a
// database that was not migrated is reported as such.
func TestMigrate(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	q := db.queue(t)
	ctx := context.Background()
	if _, err := q.Enqueue(ctx, message(t, 1), nil); !errors.Is(err, queue.ErrNotMigrated) {
		t.Errorf("Enqueue before Migrate: %v, want ErrNotMigrated", err)
	}
	w, err := q.NewWorker(alexa.Config{Credentials: alexa.Credentials{ClientID: "id", ClientSecret: "s"}}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(ctx); !errors.Is(err, queue.ErrNotMigrated) {
		t.Errorf("Run before Migrate: %v, want ErrNotMigrated", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { _, errs[i] = db.queue(t).Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	applied, err := q.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate again applied %v (%v), want nothing", applied, err)
	}
	if _, err := q.Enqueue(ctx, message(t, 1), nil); err != nil {
		t.Errorf("Enqueue after Migrate: %v", err)
	}
}

// A job enqueued in a transaction that rolls back is never sent; one in a
// transaction that commits is.
func TestEnqueueTxRollbackSendsNothing(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()

	tx, err := q.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE "+db.schema+".orders (id int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.EnqueueTx(ctx, tx, message(t, 1), nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	tx, err = q.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.EnqueueManyTx(ctx, tx, []queue.Job{message(t, 2)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the committed message", func() bool { return len(srv.MessagesFor(userID(2))) == 1 })
	waitFor(t, "its completion", func() bool {
		st, err := q.Status(ctx, 0)
		return err == nil && st.States["completed"] == 1
	})
	st, err := q.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if st.States["completed"] != 1 || len(st.States) != 1 {
		t.Errorf("job states %v, want the one committed job, completed", st.States)
	}
	if got := srv.MessagesFor(userID(1)); len(got) != 0 {
		t.Errorf("the rolled-back message was sent %d times", len(got))
	}
}

// Enqueuing the same item twice sends it once, whatever its spacing and
// even after it was delivered; a different key sends it again.
func TestUniqueness(t *testing.T) {
	t.Parallel()
	_, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()

	first, err := q.Enqueue(ctx, message(t, 1), nil)
	if err != nil || first.Duplicate {
		t.Fatalf("first enqueue: %+v, %v", first, err)
	}
	respaced, err := queue.ParseMessage([]byte(`{ "data": { "n": 1 }, "userId": "` + userID(1) + `" }`))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Enqueue(ctx, respaced, nil)
	if err != nil || !again.Duplicate || again.ID != first.ID {
		t.Errorf("same message again: %+v, %v; want a duplicate of job %d", again, err, first.ID)
	}
	keyed, err := q.Enqueue(ctx, message(t, 1), &queue.EnqueueOptions{UniqueKey: "second-reminder"})
	if err != nil || keyed.Duplicate {
		t.Errorf("same message with its own key: %+v, %v; want a new job", keyed, err)
	}
	ev1, _ := queue.ParseEvent([]byte(eventLine), proactive.Development)
	ev2, _ := queue.ParseEvent([]byte(" "+eventLine+"\n"), proactive.Development)
	ev3, _ := queue.ParseEvent([]byte(eventLine), proactive.Live)
	res, err := q.EnqueueMany(ctx, []queue.Job{ev1, ev2, ev3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || !res[1].Duplicate || res[2].Duplicate {
		t.Errorf("events: %+v; want the second a duplicate of the first, and the live one new", res)
	}

	startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the jobs to complete", func() bool {
		st, err := q.Status(ctx, 0)
		return err == nil && st.States["completed"] == 4
	})
	if got := len(srv.MessagesFor(userID(1))); got != 2 {
		t.Errorf("user got %d messages, want 2 (one per key)", got)
	}
	if got := len(srv.Events()); got != 2 {
		t.Errorf("%d events accepted, want 2 (development and live)", got)
	}
	late, err := q.Enqueue(ctx, message(t, 1), nil)
	if err != nil || !late.Duplicate {
		t.Errorf("enqueued again after delivery: %+v, %v; want a duplicate", late, err)
	}
}

// A scheduled job waits for its time.
func TestScheduledJobWaits(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()
	startWorker(t, q, srv.Config(), fastOptions())
	at := time.Now().Add(1500 * time.Millisecond)
	later, err := q.Enqueue(ctx, message(t, 1), &queue.EnqueueOptions{At: at})
	if err != nil {
		t.Fatal(err)
	}
	if later.State != "scheduled" || !later.ScheduledAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("scheduled job: %+v, want state scheduled at %s", later, at)
	}
	if _, err := q.Enqueue(ctx, message(t, 2), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the scheduled message", func() bool { return len(srv.MessagesFor(userID(1))) == 1 })
	now := srv.MessagesFor(userID(2))
	sent := srv.MessagesFor(userID(1))[0].Received
	if sent.Before(at) {
		t.Errorf("scheduled message sent at %s, before its time %s", sent, at)
	}
	if len(now) != 1 || !now[0].Received.Before(sent) {
		t.Errorf("the unscheduled message was not sent first: %v", now)
	}
	waitFor(t, "its completion", func() bool { s, _ := jobState(t, db, later.ID); return s == "completed" })
}

// recordingClient notes when each 429 answer arrived.
type recordingClient struct {
	next alexa.HTTPClient
	mu   sync.Mutex
	at   []time.Time
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		r.mu.Lock()
		r.at = append(r.at, time.Now())
		r.mu.Unlock()
	}
	return resp, err
}

// A 429 snoozes the job by its Retry-After without spending an attempt,
// and pauses every send on the limit as long.
func TestThrottledJobIsSnoozed(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: skillmsg.Path(""), Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1})
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		res, err := q.Enqueue(ctx, message(t, i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	cfg := srv.Config()
	rec := &recordingClient{next: alexa.NewHTTPClient(alexa.HTTPOptions{})}
	cfg.HTTPClient = rec
	opts := fastOptions()
	opts.Rate = 10
	w, _ := startWorker(t, q, cfg, opts)
	waitFor(t, "every message", func() bool { return srv.Accepted() == 4 })
	if len(rec.at) != 1 {
		t.Fatalf("%d answers 429, want 1", len(rec.at))
	}
	for _, m := range srv.Messages() {
		if m.Received.Before(rec.at[0].Add(time.Second)) {
			t.Errorf("message to %s sent %s after the 429, within its Retry-After of 1s", m.UserID, m.Received.Sub(rec.at[0]))
		}
	}
	for _, id := range ids {
		waitFor(t, "completion", func() bool { s, _ := jobState(t, db, id); return s == "completed" })
		if state, attempt := jobState(t, db, id); state != "completed" || attempt != 1 {
			t.Errorf("job %d: %s after %d attempts, want completed after 1 (a snooze spends none)", id, state, attempt)
		}
	}
	if st := w.Stats(); st.Throttled != 1 || st.Sent != 4 {
		t.Errorf("stats %+v, want 1 throttled and 4 sent", st)
	}
}

// 5xx and transport errors are retried with backoff; a 403 that a fresh
// token mends costs no attempt; a 403 that stays cancels the job.
func TestRetryableFailuresAreRetried(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()
	path := skillmsg.Path(userID(1))
	srv.InjectFault(alexatest.Fault{Path: path, Status: http.StatusServiceUnavailable, Times: 1})
	srv.InjectFault(alexatest.Fault{Path: skillmsg.Path(userID(2)), Drop: true, Times: 1})
	srv.InjectFault(alexatest.Fault{Path: skillmsg.Path(userID(3)), Status: http.StatusForbidden, Times: 1})
	srv.InjectFault(alexatest.Fault{Path: skillmsg.Path(userID(4)), Status: http.StatusForbidden})
	var ids []int64
	for i := 1; i <= 4; i++ {
		res, err := q.Enqueue(ctx, message(t, i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	w, _ := startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "every message", func() bool { return srv.Accepted() == 3 })
	waitFor(t, "the refused message's dead letter", func() bool { s, _ := jobState(t, db, ids[3]); return s == "cancelled" })
	for i, id := range ids[:3] {
		want := 2 // the failure, then the success
		if i == 2 {
			want = 1 // the client fetched a fresh token and sent again at once
		}
		waitFor(t, "completion", func() bool { s, _ := jobState(t, db, id); return s == "completed" })
		if _, attempt := jobState(t, db, id); attempt != want {
			t.Errorf("job %d completed after %d attempts, want %d", id, attempt, want)
		}
	}
	if st := w.Stats(); st.Retried != 2 || st.Cancelled != 1 {
		t.Errorf("stats %+v, want 2 retried, 1 cancelled", st)
	}
	// The 403s invalidated the stored token: new ones were fetched.
	if n := len(srv.TokenRequests()); n < 2 {
		t.Errorf("%d token requests, want a new one after a 403", n)
	}
}

// A 4xx other than 409 and 429 cancels the job with its reason, which
// Status and DeadLetters report; it is not retried.
func TestRefusedJobIsADeadLetter(t *testing.T) {
	t.Parallel()
	_, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{KnownUsers: []string{userID(1)}})
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		if _, err := q.Enqueue(ctx, message(t, i), nil); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the dead letter", func() bool {
		dl, err := q.DeadLetters(ctx, 10)
		return err == nil && len(dl) == 1
	})
	dl, _ := q.DeadLetters(ctx, 10)
	if dl[0].State != "cancelled" || !strings.Contains(dl[0].Error, "404") || !strings.Contains(string(dl[0].Args), userID(2)) {
		t.Errorf("dead letter %+v, want user 2 cancelled with the 404", dl[0])
	}
	st, err := q.Status(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.LastErrors) != 1 || st.LastErrors[0].ID != dl[0].ID || !st.LastErrors[0].DeadLetter() {
		t.Errorf("status last errors %+v, want the dead letter", st.LastErrors)
	}
	waitFor(t, "the other job", func() bool { return srv.Accepted() == 1 })
	// The emulator counts every skill-message call together: one try each.
	if n := srv.Calls(skillmsg.Path(userID(2))); n != 2 {
		t.Errorf("the two messages were tried %d times, want once each", n)
	}
	if s := w.Stats(); s.Cancelled != 1 {
		t.Errorf("stats %+v, want 1 cancelled", s)
	}
}

// A proactive event answered 409 (its referenceId already accepted) is
// delivered: the job completes.
func TestEventConflictIsDelivered(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()
	job, err := queue.ParseEvent([]byte(eventLine), proactive.Development)
	if err != nil {
		t.Fatal(err)
	}
	// The same event went out before, as when a worker died after sending.
	var req proactive.Request
	if err := req.UnmarshalJSON(job.Request); err != nil {
		t.Fatal(err)
	}
	req.Fill(time.Now(), "")
	if _, err := proactive.NewClient(srv.Config()).Create(ctx, &req, proactive.Development); err != nil {
		t.Fatal(err)
	}
	res, err := q.Enqueue(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the job", func() bool { s, _ := jobState(t, db, res.ID); return s == "completed" })
	if st := w.Stats(); st.Duplicates != 1 {
		t.Errorf("stats %+v, want 1 duplicate", st)
	}
	if n := len(srv.Events()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

// fakeTokens is an inner token provider counting its fetches.
type fakeTokens struct {
	mu      sync.Mutex
	fetches int
	cur     string
}

func (f *fakeTokens) Token(ctx context.Context, scope string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == "" {
		// A slow token endpoint: every worker asks while it answers.
		time.Sleep(100 * time.Millisecond)
		f.fetches++
		f.cur = "token-" + scope + "-" + string(rune('0'+f.fetches))
	}
	return f.cur, nil
}

func (f *fakeTokens) Invalidate(scope, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if token == "" || token == f.cur {
		f.cur = ""
	}
}

// Stores of different workers share one token: one fetch for all, the
// token encrypted at rest; an invalidated token is replaced for every
// worker with one more fetch; other credentials cannot read it.
func TestTokenStoreSharesOneToken(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	ctx := context.Background()
	cfg := alexa.Config{Credentials: alexa.Credentials{ClientID: "amzn1.application-oa2-client.X", ClientSecret: "secret-1"}, TokenURL: "https://lwa.example/token"}
	inner := &fakeTokens{}
	stores := []*queue.TokenStore{db.queue(t).NewTokenStore(cfg, inner), db.queue(t).NewTokenStore(cfg, inner), q.NewTokenStore(cfg, inner)}
	var wg sync.WaitGroup
	got := make([]string, 30)
	for i := range got {
		wg.Go(func() {
			var err error
			got[i], err = stores[i%len(stores)].Token(ctx, lwa.ScopeSkillMessaging)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatalf("tokens %v, want one for all", got)
		}
	}
	if inner.fetches != 1 {
		t.Errorf("%d fetches, want 1", inner.fetches)
	}
	var sealed []byte
	if err := db.pool.QueryRow(ctx, "SELECT sealed FROM "+db.schema+"."+queue.TokenTable).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), got[0]) {
		t.Error("the token is stored in clear")
	}

	// A 401 on one worker: it invalidates; a new worker and the one that
	// saw the 401 get the new token, fetched once.
	stores[0].Invalidate(lwa.ScopeSkillMessaging, got[0])
	fresh, err := db.queue(t).NewTokenStore(cfg, inner).Token(ctx, lwa.ScopeSkillMessaging)
	if err != nil {
		t.Fatal(err)
	}
	stores[1].Invalidate(lwa.ScopeSkillMessaging, got[0])
	again, err := stores[1].Token(ctx, lwa.ScopeSkillMessaging)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == got[0] || again != fresh || inner.fetches != 2 {
		t.Errorf("after invalidation: %q and %q from %d fetches; want one new token, 2 fetches", fresh, again, inner.fetches)
	}

	// Other credentials (a rotated secret) cannot decrypt it: they fetch
	// their own.
	rotated := cfg
	rotated.Credentials.ClientSecret = "secret-2"
	other := &fakeTokens{fetches: 10}
	if tok, err := q.NewTokenStore(rotated, other).Token(ctx, lwa.ScopeSkillMessaging); err != nil || tok == fresh || other.fetches != 11 {
		t.Errorf("rotated secret got %q (%v) after %d fetches, want its own token", tok, err, other.fetches-10)
	}
}

// A job whose attempt ends while it waits for its permit was not sent: it
// goes back to the queue without spending an attempt, and is sent later.
func TestJobEndingBeforeItsPermitIsRequeued(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		res, err := q.Enqueue(ctx, message(t, i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	opts := fastOptions()
	opts.Rate = 2 // permits 0.5 s apart: the fourth job waits past its timeout
	opts.JobTimeout = time.Second
	opts.RescueAfter = 3 * time.Second
	opts.Concurrency = 4
	w, _ := startWorker(t, q, srv.Config(), opts)
	for _, id := range ids {
		waitFor(t, "completion", func() bool { s, _ := jobState(t, db, id); return s == "completed" })
		if _, attempt := jobState(t, db, id); attempt != 1 {
			t.Errorf("job %d completed after %d attempts, want 1", id, attempt)
		}
	}
	if st := w.Stats(); st.Requeued == 0 || st.Sent != 4 || st.Retried != 0 {
		t.Errorf("stats %+v, want some requeued, 4 sent, none retried", st)
	}
	if n := srv.Accepted(); n != 4 {
		t.Errorf("%d messages accepted, want 4", n)
	}
}

// Credentials the token endpoint refuses stop the worker with
// ErrCredentialsRefused, rather than retrying every job; the jobs keep
// their attempts, and a worker with the right credentials sends them.
func TestRefusedCredentialsStopTheWorker(t *testing.T) {
	t.Parallel()
	_, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{ClientID: "right", ClientSecret: "right"})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if _, err := q.Enqueue(ctx, message(t, i), nil); err != nil {
			t.Fatal(err)
		}
	}
	cfg := srv.Config()
	cfg.Credentials.ClientSecret = "wrong"
	w, err := q.NewWorker(cfg, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a hang, not a speed check
	defer cancel()
	err = w.Run(runCtx)
	if !errors.Is(err, queue.ErrCredentialsRefused) || runCtx.Err() != nil {
		t.Fatalf("Run = %v, want ErrCredentialsRefused before its context ended", err)
	}
	if s := w.Stats(); s.Sent != 0 || s.Cancelled != 0 || s.Requeued == 0 {
		t.Errorf("stats %+v, want nothing sent or cancelled, the jobs put back", s)
	}
	startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the three messages", func() bool { return srv.Accepted() == 3 })
}
