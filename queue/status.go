package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is a snapshot of the queue.
type Status struct {
	// Queue is the River queue name.
	Queue string `json:"queue"`
	// States counts the jobs by River state: available, scheduled,
	// running, retryable, completed, cancelled, discarded, pending. Only
	// states with jobs appear. Completed jobs are deleted after a day,
	// cancelled and discarded ones after WorkerOptions.DeadLetterRetention.
	States map[string]int64 `json:"states"`
	// CompletedLastMinute is how many jobs completed in the last minute.
	CompletedLastMinute int64 `json:"completedLastMinute"`
	// RateLimits are the stored shared limits.
	RateLimits []RateLimit `json:"rateLimits"`
	// LastErrors are the most recent failures, newest first: jobs being
	// retried, and the dead letters (cancelled: refused or invalid;
	// discarded: out of attempts).
	LastErrors []JobError `json:"lastErrors"`
}

// JobError is a job's latest failure.
type JobError struct {
	// ID is River's job id.
	ID int64 `json:"id"`
	// Kind is KindMessage, KindEvent or KindDataStore.
	Kind string `json:"kind"`
	// State is retryable (it will run again), cancelled or discarded
	// (dead letters).
	State string `json:"state"`
	// Attempt is the attempt that failed.
	Attempt int `json:"attempt"`
	// Error is the failure as the worker reported it (never a secret).
	Error string `json:"error"`
	// At is when it failed.
	At time.Time `json:"at"`
	// Args is the job's input: a MessageArgs or EventArgs as JSON.
	Args json.RawMessage `json:"args"`
}

// DeadLetter reports whether the job will not run again.
func (e JobError) DeadLetter() bool { return e.State == "cancelled" || e.State == "discarded" }

// Status returns the queue's counts, rate limits and up to lastErrors of
// the latest failures.
func (q *Queue) Status(ctx context.Context, lastErrors int) (*Status, error) {
	st := &Status{Queue: q.opts.Queue, States: map[string]int64{}}
	rows, err := q.pool.Query(ctx, "SELECT state::text, count(*) FROM "+q.jobTable+" WHERE queue = $1 GROUP BY state", q.opts.Queue)
	if err != nil {
		return nil, fmt.Errorf("queue.Status: %w", q.dbError(err))
	}
	var state string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		st.States[state] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queue.Status: %w", q.dbError(err))
	}
	if err := q.pool.QueryRow(ctx, "SELECT count(*) FROM "+q.jobTable+
		" WHERE state = 'completed' AND finalized_at > now() - interval '1 minute' AND queue = $1", q.opts.Queue).Scan(&st.CompletedLastMinute); err != nil {
		return nil, fmt.Errorf("queue.Status: %w", q.dbError(err))
	}
	if st.RateLimits, err = q.RateLimits(ctx); err != nil {
		return nil, err
	}
	if st.LastErrors, err = q.jobErrors(ctx, []string{"retryable", "cancelled", "discarded"}, lastErrors); err != nil {
		return nil, err
	}
	return st, nil
}

// DeadLetters returns up to limit jobs that will not run again, newest
// first: cancelled (invalid, or refused by Alexa with a 4xx) and discarded
// (out of attempts), each with its last error and input.
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]JobError, error) {
	return q.jobErrors(ctx, []string{"cancelled", "discarded"}, limit)
}

func (q *Queue) jobErrors(ctx context.Context, states []string, limit int) ([]JobError, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := q.pool.Query(ctx, `
SELECT id, kind, state::text, attempt, e->>'error', (e->>'at')::timestamptz, args
FROM (SELECT *, errors[array_length(errors, 1)] AS e FROM `+q.jobTable+`
      WHERE queue = $1 AND state::text = ANY($2) AND errors IS NOT NULL) j
ORDER BY (e->>'at')::timestamptz DESC, id DESC
LIMIT $3`, q.opts.Queue, states, limit)
	if err != nil {
		return nil, fmt.Errorf("queue: listing failed jobs: %w", q.dbError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobError, error) {
		var e JobError
		var msg *string
		var at *time.Time
		err := r.Scan(&e.ID, &e.Kind, &e.State, &e.Attempt, &msg, &at, &e.Args)
		if msg != nil {
			e.Error = *msg
		}
		if at != nil {
			e.At = *at
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("queue: listing failed jobs: %w", q.dbError(err))
	}
	return out, nil
}
