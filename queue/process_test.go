package queue_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/queue"
)

// Environment of a worker process started by TestWorkerProcesses.
const (
	envHelper      = "ALEXA_OOS_QUEUE_HELPER"
	envSchema      = "ALEXA_OOS_QUEUE_SCHEMA"
	envEndpoint    = "ALEXA_OOS_QUEUE_ENDPOINT"
	envConcurrency = "ALEXA_OOS_QUEUE_CONCURRENCY"
)

// TestHelperWorker is not a test: TestWorkerProcesses runs the test binary
// again with ALEXA_OOS_QUEUE_HELPER set, and this function then works the
// queue until SIGTERM or SIGKILL, as "alexa-oos queue work" does.
func TestHelperWorker(t *testing.T) {
	if os.Getenv(envHelper) == "" {
		t.Skip("worker process of TestWorkerProcesses")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db := &testDB{url: os.Getenv(EnvDatabaseURL), schema: os.Getenv(envSchema)}
	q := db.queue(t)
	url := os.Getenv(envEndpoint)
	cfg := alexa.Config{
		Credentials: alexa.Credentials{ClientID: alexatest.DefaultClientID, ClientSecret: alexatest.DefaultClientSecret},
		Endpoint:    url,
		TokenURL:    url + alexatest.TokenPath,
	}
	opts := fastOptions()
	opts.Concurrency, _ = strconv.Atoi(os.Getenv(envConcurrency))
	opts.ID = os.Getenv(envHelper)
	w, err := q.NewWorker(cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s: %+v\n", opts.ID, w.Stats())
	os.Exit(0)
}

// Three worker processes deliver every item under one global rate, one of
// them killed with SIGKILL mid-run and two more joining later: the dead
// worker's jobs are rescued and sent by the others, duplicates are at most
// its jobs in flight, the aggregate rate stays within 5% of the limit, and
// the five processes make one token request per scope.
func TestWorkerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs worker processes for about half a minute")
	}
	t.Parallel()
	const (
		messages    = 700
		events      = 200
		limit       = 100.0
		concurrency = 16
	)
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{DiscardRecords: false})
	ctx := context.Background()
	enqueueMessages(t, q, 0, messages)
	var jobs []queue.Job
	for i := range events {
		req := &proactive.Request{
			Event:            proactive.Event{Name: "AMAZON.MessageAlert.Activated", Payload: map[string]any{"state": map[string]string{"status": "UNREAD", "freshness": "NEW"}, "messageGroup": map[string]any{"creator": map[string]string{"name": fmt.Sprintf("Sender %d", i)}, "count": 1}}},
			RelevantAudience: proactive.ToUser(userID(i)),
		}
		ev, err := queue.NewEvent(req, proactive.Development)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, ev)
	}
	if _, err := q.EnqueueMany(ctx, jobs, nil); err != nil {
		t.Fatal(err)
	}
	if err := q.SetRateLimit(ctx, alexatest.DefaultClientID, limit, 1); err != nil {
		t.Fatal(err)
	}

	start := func(i int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$", "-test.v")
		cmd.Env = append(os.Environ(),
			envHelper+"=worker-"+strconv.Itoa(i),
			envSchema+"="+db.schema,
			envEndpoint+"="+srv.URL,
			envConcurrency+"="+strconv.Itoa(concurrency),
		)
		cmd.Stderr = tlogWriter{t}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		return cmd
	}
	procs := []*exec.Cmd{start(0), start(1), start(2)}
	// The limit's idle time, sampled: the rescue gap's idle time must not
	// count in the rate while the queue was full.
	type sample struct {
		at   time.Time
		idle time.Duration
	}
	var samples []sample
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-sampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if l, err := q.RateLimits(ctx); err == nil && len(l) == 1 {
				samples = append(samples, sample{time.Now(), time.Duration(l[0].IdleSeconds * float64(time.Second))})
			}
		}
	}()
	total := messages + events
	waitFor(t, "a third of the items", func() bool { return srv.Accepted() >= total/3 })
	victim := procs[1]
	if err := victim.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	killedAt := time.Now()
	t.Logf("killed worker-1 at %d accepted", srv.Accepted())
	// Two more join: five processes in all.
	waitFor(t, "half the items", func() bool { return srv.Accepted() >= total/2 })
	procs = append(procs, start(3), start(4))

	// Every message reaches its user; every event is accepted once (the
	// emulator refuses a repeated referenceId with 409).
	waitFor(t, "every item", func() bool { return srv.Accepted() >= total && everyUser(srv, messages) })
	waitFor(t, "the queue to drain", func() bool {
		st, err := q.Status(ctx, 0)
		return err == nil && st.States["completed"] == int64(total)
	})
	close(sampling)
	<-sampled
	for _, p := range []*exec.Cmd{procs[0], procs[2], procs[3], procs[4]} {
		p.Process.Signal(syscall.SIGTERM)
		p.Wait()
	}
	msgs := srv.Messages()
	if dup := len(msgs) - messages; dup > concurrency {
		t.Errorf("%d messages sent twice, want at most the %d a worker has in flight", dup, concurrency)
	} else {
		t.Logf("%d messages sent twice (at most %d allowed)", dup, concurrency)
	}
	if got := len(srv.Events()); got != events {
		t.Errorf("%d events accepted, want %d", got, events)
	}

	// The rate while the queue was full: up to the gap where the dead
	// worker's jobs wait to be rescued.
	var ts []time.Time
	for _, m := range msgs {
		ts = append(ts, m.Received)
	}
	for _, e := range srv.Events() {
		ts = append(ts, e.Received)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	steady, end := ts, time.Now()
	for i := 1; i < len(ts); i++ {
		if ts[i].Sub(ts[i-1]) > time.Second && ts[i].After(killedAt) {
			steady, end = ts[:i], ts[i].Add(-20*time.Millisecond)
			t.Logf("%d sends after a %s gap: the rescued jobs", len(ts)-i, ts[i].Sub(ts[i-1]).Round(time.Millisecond))
			break
		}
	}
	var idle time.Duration
	for _, s := range samples {
		if s.at.Before(end) {
			idle = s.idle
		}
	}
	checkRate(t, steady, idle, limit)

	// One token request per scope for the whole fleet.
	byScope := map[string]int{}
	for _, tr := range srv.TokenRequests() {
		byScope[tr.Scope]++
	}
	want := map[string]int{lwa.ScopeSkillMessaging: 1, lwa.ScopeProactiveEvents: 1}
	if fmt.Sprint(byScope) != fmt.Sprint(want) {
		t.Errorf("token requests by scope %v, want %v", byScope, want)
	}
}

// everyUser reports whether users 0 to n-1 each got a message.
func everyUser(srv *alexatest.Server, n int) bool {
	seen := map[string]bool{}
	for _, m := range srv.Messages() {
		seen[m.UserID] = true
	}
	for i := range n {
		if !seen[userID(i)] {
			return false
		}
	}
	return true
}
