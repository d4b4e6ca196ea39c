package queue_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/queue"
)

// EnvDatabaseURL names the PostgreSQL database the tests use. Without it
// they skip; scripts/with-postgres.sh starts a server and sets it.
const EnvDatabaseURL = "ALEXA_OOS_TEST_DATABASE_URL"

var skipOnce sync.Once

// databaseURL returns the test database's URL, or skips t.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvDatabaseURL)
	if url == "" {
		skipOnce.Do(func() {
			fmt.Fprintf(os.Stderr, "queue: skipping the PostgreSQL tests: %s is not set (run scripts/with-postgres.sh go test ./queue/)\n", EnvDatabaseURL)
		})
		t.Skipf("%s is not set", EnvDatabaseURL)
	}
	return url
}

// testDB is a schema of its own in the test database, so that tests run
// in parallel without seeing each other's jobs.
type testDB struct {
	url, schema string
	pool        *pgxpool.Pool
}

// newTestDB creates a fresh schema (dropped at the end of the test) and a
// pool on it.
func newTestDB(t testing.TB) *testDB {
	t.Helper()
	url := databaseURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	pool := newPool(t, url)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	return &testDB{url: url, schema: schema, pool: pool}
}

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// queueOn returns a migrated Queue on db's schema, with its own pool.
func (db *testDB) queue(t testing.TB) *queue.Queue {
	t.Helper()
	q, err := queue.New(newPool(t, db.url), queue.Options{Schema: db.schema, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// newTestQueue returns a migrated Queue in a fresh schema.
func newTestQueue(t testing.TB) (*testDB, *queue.Queue) {
	t.Helper()
	db := newTestDB(t)
	q := db.queue(t)
	if _, err := q.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, q
}

// testLogger logs River's warnings into the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newServer starts an emulator that takes unicast events for any user:
// the jobs here are about delivery, not subscriptions.
func newServer(t testing.TB, opts alexatest.Options) *alexatest.Server {
	t.Helper()
	opts.AllowUnsubscribed = true
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// fastOptions are worker options for tests: short timeouts, so that a
// job of a dead worker is rescued within seconds.
func fastOptions() queue.WorkerOptions {
	return queue.WorkerOptions{
		Concurrency:       16,
		JobTimeout:        4 * time.Second,
		RescueAfter:       8 * time.Second,
		FetchPollInterval: 200 * time.Millisecond,
		StopTimeout:       2 * time.Second,
	}
}

// startWorker runs a worker on q until the test ends or stop is called.
func startWorker(t testing.TB, q *queue.Queue, cfg alexa.Config, opts queue.WorkerOptions) (w *queue.Worker, stop func()) {
	t.Helper()
	w, err := q.NewWorker(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return w, stop
}

// waitFor polls cond until it holds, failing the test after a generous
// limit (a hang, not a speed check).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func userID(i int) string { return fmt.Sprintf("amzn1.ask.account.Q%07d", i) }

func messageLine(i int) string {
	return fmt.Sprintf(`{"userId":%q,"data":{"n":%d}}`, userID(i), i)
}

// sendRate is the rate of the sends at times ts: (n-1) over the span from
// the first to the last.
func sendRate(ts []time.Time) float64 {
	if len(ts) < 2 {
		return 0
	}
	sorted := append([]time.Time(nil), ts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	return float64(len(sorted)-1) / sorted[len(sorted)-1].Sub(sorted[0]).Seconds()
}

// checkRate checks that the sends at ts kept within 5% of limit: never
// above it, and not below it but for the time the limit went unused
// because no worker asked for a permit (idle, as the limit's row counts
// it: a machine too busy to run the workers on time). Permits drawn and
// wasted (by a dead worker, say) are not forgiven.
func checkRate(t *testing.T, ts []time.Time, idle time.Duration, limit float64) {
	t.Helper()
	rate := sendRate(ts)
	sorted := append([]time.Time(nil), ts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	span := sorted[len(sorted)-1].Sub(sorted[0])
	busy := float64(len(ts)-1) / (span - min(idle, span/2)).Seconds()
	t.Logf("%d sends at %.1f/s for a limit of %.0f/s; %.1f/s over the %s the limit was in use (idle %s)",
		len(ts), rate, limit, busy, (span - idle).Round(time.Millisecond), idle.Round(time.Millisecond))
	if rate > limit*1.05 {
		t.Errorf("aggregate rate %.1f/s, more than 5%% above the limit of %.0f/s", rate, limit)
	}
	if busy < limit*0.95 {
		t.Errorf("aggregate rate %.1f/s while the limit was in use, more than 5%% below the limit of %.0f/s", busy, limit)
	}
}

// limitIdle returns the idle time of q's one rate limit.
func limitIdle(t testing.TB, q *queue.Queue) time.Duration {
	t.Helper()
	limits, err := q.RateLimits(context.Background())
	if err != nil || len(limits) != 1 {
		t.Fatalf("rate limits %v, %v", limits, err)
	}
	return time.Duration(limits[0].IdleSeconds * float64(time.Second))
}

func received(msgs []alexatest.Message) []time.Time {
	ts := make([]time.Time, len(msgs))
	for i, m := range msgs {
		ts[i] = m.Received
	}
	return ts
}
