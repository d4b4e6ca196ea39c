package queue_test

import (
	"context"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/queue"
)

// enqueueMessages enqueues n distinct skill messages.
func enqueueMessages(t testing.TB, q *queue.Queue, from, n int) {
	t.Helper()
	jobs := make([]queue.Job, 0, n)
	for i := from; i < from+n; i++ {
		m, err := queue.ParseMessage([]byte(messageLine(i)))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, m)
	}
	if _, err := q.EnqueueMany(context.Background(), jobs, nil); err != nil {
		t.Fatal(err)
	}
}

// One worker sends at the stored rate.
func TestRateOneWorker(t *testing.T) {
	t.Parallel()
	const n, limit = 200, 50.0
	_, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	enqueueMessages(t, q, 0, n)
	opts := fastOptions()
	opts.Rate = limit
	opts.Concurrency = 32 // slack, so that a busy machine does not starve the limit
	startWorker(t, q, srv.Config(), opts)
	waitFor(t, "every message", func() bool { return srv.Accepted() == n })
	checkRate(t, received(srv.Messages()), limitIdle(t, q), limit)
}

// Five workers share the limit, while two join and two leave mid-run.
func TestRateWorkersJoinAndLeave(t *testing.T) {
	t.Parallel()
	const n, limit = 500, 100.0
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{})
	enqueueMessages(t, q, 0, n)
	opts := fastOptions()
	opts.Concurrency = 32
	if err := q.SetRateLimit(context.Background(), srv.Credentials().ClientID, limit, 1); err != nil {
		t.Fatal(err)
	}
	var stops []func()
	for range 3 {
		_, stop := startWorker(t, db.queue(t), srv.Config(), opts)
		stops = append(stops, stop)
	}
	waitFor(t, "a third of the messages", func() bool { return srv.Accepted() >= n/3 })
	for range 2 {
		startWorker(t, db.queue(t), srv.Config(), opts)
	}
	waitFor(t, "two thirds of the messages", func() bool { return srv.Accepted() >= 2*n/3 })
	stops[0]()
	stops[1]()
	waitFor(t, "every message", func() bool { return srv.Accepted() == n })
	checkRate(t, received(srv.Messages()), limitIdle(t, q), limit)
}
