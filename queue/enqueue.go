package queue

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/proactive"
)

// EnqueueOptions tune how jobs are enqueued. The zero value sends as soon
// as a worker is free, at River's default priority, with a uniqueness key
// derived from the content.
type EnqueueOptions struct {
	// At schedules the send: no worker takes the job before then. Zero
	// means now.
	At time.Time
	// Priority is River's: 1 (first) to 4. Zero means 1.
	Priority int
	// UniqueKey replaces the key derived from the content: while a job of
	// the same kind and key is waiting, running or completed (until River
	// deletes it, after 24 hours by default), enqueuing another is a no-op
	// reported as Duplicate. Give a key to send the same content again,
	// such as "daily-reminder-2026-06-01", or to make two contents one item.
	// With EnqueueMany it applies to every job, so that only the first is
	// enqueued.
	UniqueKey string
	// MaxAttempts bounds the attempts of the job. Zero means the workers'
	// default (DefaultMaxAttempts).
	MaxAttempts int
}

// Enqueued is the outcome of enqueuing one job.
type Enqueued struct {
	// ID is River's job id: that of the existing job when Duplicate.
	ID int64
	// Duplicate is true when an equal job (same kind and key) was already
	// there: nothing was added.
	Duplicate bool
	// State is River's state of the job, such as "available" or "scheduled".
	State string
	// ScheduledAt is when the job may run.
	ScheduledAt time.Time
}

// Enqueue adds job in a transaction of its own. An invalid job is an
// *alexa.ValidationError and adds nothing.
func (q *Queue) Enqueue(ctx context.Context, job Job, opts *EnqueueOptions) (*Enqueued, error) {
	params, err := q.params(job, opts)
	if err != nil {
		return nil, err
	}
	res, err := q.river.Insert(ctx, params.Args, params.InsertOpts)
	if err != nil {
		return nil, fmt.Errorf("queue.Enqueue: %w", q.dbError(err))
	}
	return enqueued(res), nil
}

// EnqueueTx adds job inside the caller's transaction tx: it becomes
// visible to workers only if tx commits, so a notification is enqueued
// with the business change that caused it, or not at all.
func (q *Queue) EnqueueTx(ctx context.Context, tx pgx.Tx, job Job, opts *EnqueueOptions) (*Enqueued, error) {
	params, err := q.params(job, opts)
	if err != nil {
		return nil, err
	}
	res, err := q.river.InsertTx(ctx, tx, params.Args, params.InsertOpts)
	if err != nil {
		return nil, fmt.Errorf("queue.EnqueueTx: %w", q.dbError(err))
	}
	return enqueued(res), nil
}

// EnqueueMany adds jobs in one transaction, all or none, with one set of
// options. The results are in the order of jobs; a job equal to an earlier
// one of the same call is reported as its Duplicate. An invalid job is an
// *alexa.ValidationError whose Op names its index, and adds nothing.
func (q *Queue) EnqueueMany(ctx context.Context, jobs []Job, opts *EnqueueOptions) ([]Enqueued, error) {
	return q.enqueueMany(ctx, jobs, opts, func(params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
		return q.river.InsertMany(ctx, params)
	})
}

// EnqueueManyTx is EnqueueMany inside the caller's transaction tx.
func (q *Queue) EnqueueManyTx(ctx context.Context, tx pgx.Tx, jobs []Job, opts *EnqueueOptions) ([]Enqueued, error) {
	return q.enqueueMany(ctx, jobs, opts, func(params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
		return q.river.InsertManyTx(ctx, tx, params)
	})
}

func (q *Queue) enqueueMany(ctx context.Context, jobs []Job, opts *EnqueueOptions, insert func([]river.InsertManyParams) ([]*rivertype.JobInsertResult, error)) ([]Enqueued, error) {
	params := make([]river.InsertManyParams, 0, len(jobs))
	// Jobs equal to an earlier one of the batch are left out: PostgreSQL
	// cannot resolve two conflicting rows in one statement.
	first := map[string]int{}        // kind and key -> index in params
	sameAs := make([]int, len(jobs)) // job -> index in params
	for i, job := range jobs {
		p, err := q.params(job, opts)
		if err != nil {
			var ve *alexa.ValidationError
			if errors.As(err, &ve) {
				ve.Op = fmt.Sprintf("queue.EnqueueMany: jobs[%d]", i)
			}
			return nil, err
		}
		id := p.Args.Kind() + "\x00" + argsKey(p.Args)
		if j, ok := first[id]; ok {
			sameAs[i] = -1 - j
			continue
		}
		first[id] = len(params)
		sameAs[i] = len(params)
		params = append(params, p)
	}
	if len(params) == 0 {
		return nil, nil
	}
	res, err := insert(params)
	if err != nil {
		return nil, fmt.Errorf("queue.EnqueueMany: %w", q.dbError(err))
	}
	out := make([]Enqueued, len(jobs))
	for i, j := range sameAs {
		if j < 0 {
			out[i] = *enqueued(res[-1-j])
			out[i].Duplicate = true
			continue
		}
		out[i] = *enqueued(res[j])
	}
	return out, nil
}

// argsKey returns the uniqueness key of prepared args.
func argsKey(args river.JobArgs) string {
	switch a := args.(type) {
	case MessageArgs:
		return a.Key
	case EventArgs:
		return a.Key
	case DataStoreArgs:
		return a.Key
	}
	return ""
}

// Check validates job and opts as Enqueue does, without any I/O.
func (q *Queue) Check(job Job, opts *EnqueueOptions) error {
	_, err := q.params(job, opts)
	return err
}

// params validates job and opts and returns River's insert parameters.
func (q *Queue) params(job Job, opts *EnqueueOptions) (river.InsertManyParams, error) {
	if job == nil || reflect.ValueOf(job).Kind() == reflect.Pointer && reflect.ValueOf(job).IsNil() {
		return river.InsertManyParams{}, validate.Violations{{Field: "job", Rule: "is required"}}.Err("queue.Enqueue")
	}
	if opts == nil {
		opts = &EnqueueOptions{}
	}
	var vs validate.Violations
	if opts.Priority < 0 || opts.Priority > 4 {
		vs.Add("priority", "must be 1 (first) to 4, or 0 for 1", opts.Priority)
	}
	if opts.MaxAttempts < 0 {
		vs.Add("maxAttempts", "must not be negative", opts.MaxAttempts)
	}
	if len(opts.UniqueKey) > 200 {
		vs.Add("uniqueKey", "must be at most 200 bytes", fmt.Sprintf("%d bytes", len(opts.UniqueKey)))
	}
	if err := vs.Err("queue.Enqueue"); err != nil {
		return river.InsertManyParams{}, err
	}
	args, err := job.prepare(opts.UniqueKey, q.checks)
	if err != nil {
		return river.InsertManyParams{}, err
	}
	if !opts.At.IsZero() {
		switch a := args.(type) {
		case EventArgs:
			err = a.checkExpiry(opts.At, q.checks.events)
		case DataStoreArgs:
			err = a.checkDeadline(opts.At)
		}
		if err != nil {
			return river.InsertManyParams{}, err
		}
	}
	return river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{
		Queue:       q.opts.Queue,
		Priority:    opts.Priority,
		ScheduledAt: opts.At,
		MaxAttempts: opts.MaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}}, nil
}

// checkExpiry refuses an event whose own expiryTime passes before at: it
// would be dropped unsent.
func (a EventArgs) checkExpiry(at time.Time, rules proactive.Rules) error {
	req, err := a.request(at, rules)
	if err != nil {
		return err
	}
	if !req.ExpiryTime.After(at) {
		return validate.Violations{{Field: "expiryTime", Rule: "must be after the scheduled time " + at.UTC().Format(time.RFC3339), Value: text.ShowValue(req.ExpiryTime)}}.Err("queue.Enqueue")
	}
	return nil
}

func enqueued(res *rivertype.JobInsertResult) *Enqueued {
	return &Enqueued{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate, State: string(res.Job.State), ScheduledAt: res.Job.ScheduledAt}
}
