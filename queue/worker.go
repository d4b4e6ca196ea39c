package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// Defaults of WorkerOptions.
const (
	// DefaultConcurrency is how many jobs a worker runs at once.
	DefaultConcurrency = 32
	// DefaultJobTimeout bounds one attempt of a job, the wait for the rate
	// limit included.
	DefaultJobTimeout = time.Minute
	// DefaultRescueAfter is how long a job may stay running before River
	// takes it for lost (its worker died) and runs it again elsewhere.
	DefaultRescueAfter = 5 * time.Minute
	// DefaultMaxAttempts bounds the attempts of a job failing with 5xx or
	// transport errors: with River's backoff (attempt⁴ seconds), ten
	// attempts span about four hours.
	DefaultMaxAttempts = 10
	// DefaultFetchCooldown is the shortest time between two fetches of
	// jobs by one worker: River's 100 ms caps a worker near
	// 10×Concurrency jobs per second.
	DefaultFetchCooldown = 20 * time.Millisecond
	// DefaultDeadLetterRetention is how long cancelled and discarded jobs
	// (the dead letters) are kept for Status and for a retry.
	DefaultDeadLetterRetention = 7 * 24 * time.Hour
	// DefaultThrottleWait is the pause after a 429 without Retry-After.
	DefaultThrottleWait = time.Second
	// DefaultStopTimeout is how long a stopping worker lets running jobs
	// finish before cancelling them.
	DefaultStopTimeout = 10 * time.Second
)

// WorkerOptions tune a Worker. The zero value runs DefaultConcurrency jobs
// at once under the rate limit stored for the skill's client id (none: no
// limit).
//
// River's maintenance (rescuing the jobs of dead workers, scheduling,
// cleaning) is done by whichever worker is elected leader, with that
// worker's settings: give every worker the same options.
type WorkerOptions struct {
	// Concurrency is how many jobs the worker runs at once. Default
	// DefaultConcurrency. Near rate × latency is enough under a rate limit.
	Concurrency int
	// RateLimit names the shared rate limit the worker draws from.
	// Default: the client id of the skill, since Alexa limits per skill.
	RateLimit string
	// Rate, when positive, is stored as that limit (with Burst) when Run
	// starts: every worker on the limit follows it. Zero leaves the stored
	// limit as it is, or none.
	Rate float64
	// Burst is the stored limit's burst when Rate is set. Default 1.
	Burst int
	// JobTimeout bounds one attempt, the wait for a permit included; a
	// job that times out before sending is put back without spending an
	// attempt. Default DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// for lost and run again; it must exceed JobTimeout. Default
	// DefaultRescueAfter.
	RescueAfter time.Duration
	// MaxAttempts bounds the attempts of a job that keeps failing with
	// retryable errors; then it is discarded (a dead letter). Default
	// DefaultMaxAttempts.
	MaxAttempts int
	// FetchCooldown and FetchPollInterval are River's: the shortest time
	// between fetches, and the polling period when no notification
	// arrives. Defaults DefaultFetchCooldown and 1 second.
	FetchCooldown, FetchPollInterval time.Duration
	// DeadLetterRetention is how long cancelled and discarded jobs are
	// kept. Default DefaultDeadLetterRetention.
	DeadLetterRetention time.Duration
	// CompletedRetention is how long delivered jobs are kept: it is also
	// how long enqueuing the same item again is a no-op. Default 24 hours
	// (River's). A shorter one keeps the table small on very large runs.
	CompletedRetention time.Duration
	// StopTimeout is how long Run, once its context ends, lets running
	// jobs finish before cancelling them. Default DefaultStopTimeout.
	StopTimeout time.Duration
	// ID identifies the worker to River (unique per process); empty gives
	// a random one.
	ID string
}

// Worker runs the queue's jobs through the API clients: skill messages
// with messaging.Client, proactive events with proactive.Client, DataStore
// commands with datastore.Client, every HTTP request under the shared
// rate limit and every token (one per scope) from the shared TokenStore.
//
// The clients make a single attempt per job attempt: River's retries are
// the retry policy. Outcomes:
//
//   - 2xx: completed. A proactive event answered 409 (its referenceId was
//     already accepted: an earlier attempt landed) is completed too, as
//     delivered.
//   - 429: snoozed for the Retry-After (DefaultThrottleWait without one),
//     which spends no attempt; every worker on the limit pauses as long.
//   - 5xx, transport errors and token errors: retried with River's
//     backoff, up to MaxAttempts, then discarded.
//   - an invalid job, or any other 4xx (400, 401/403 even after a fresh
//     token, 404, 432 …): cancelled with the reason, kept as a dead letter
//     (Status.LastErrors, DeadLetters). A 403 is also how Alexa refuses a
//     unicast event to a user who has not subscribed, which no retry
//     mends; after fixing a skill's permissions, enqueue the items again.
//
// A DataStore job answered 200 has an outcome per device, which it
// records as its output (a bulk.DataStoreResult), with bulk's rule:
//
//   - every device got the commands or has them queued (offline, with a
//     queuedResultId): completed, delivered.
//   - some device answered CONCURRENCY_ERROR or INTERNAL_ERROR: the job
//     fails with a *bulk.DeviceError and River retries it with backoff;
//     the next attempt sends the commands to those devices alone.
//   - otherwise (INVALID_DEVICE, DEVICE_PERMANENTLY_UNAVAILABLE,
//     PENDING_REQUEST_COUNT_EXCEEDS_LIMIT, DEVICE_UNAVAILABLE with nothing
//     queued): cancelled with the *bulk.DeviceError, a dead letter.
//
// A 403 DATASTORE_SUPPORT_REQUIRED (the skill's manifest lacks DataStore)
// is cancelled like other 403s. DataStore
// jobs draw from the same shared rate limit as the other kinds: Alexa
// takes at most 25 DataStore writes per second per skill
// (datastore.WritesPerSecond), so a limit set above that for messages
// lets DataStore jobs be answered 429, which snoozes them.
//
// A job that ends (timeout, shutdown) while waiting for its rate-limit
// permit was not sent, and is put back without spending an attempt.
type Worker struct {
	q         *Queue
	opts      WorkerOptions
	limiter   *limiter
	tokens    alexa.TokenProvider
	messages  *messaging.Client
	events    *proactive.Client
	datastore *datastore.Client
	river     *river.Client[pgx.Tx]
	log       *slog.Logger

	sent, duplicates, throttled, retried, cancelled, requeued atomic.Int64

	// stop ends Run with its cause: set while Run runs.
	stop atomic.Pointer[context.CancelCauseFunc]
}

// ErrCredentialsRefused is matched by the error of a Run stopped because
// the token endpoint refused the worker's credentials: every job would
// fail alike, so the worker stops rather than retry them all.
var ErrCredentialsRefused = errors.New("credentials refused by the token endpoint")

// WorkerStats counts the outcomes of a worker's job attempts.
type WorkerStats struct {
	// Sent were accepted (2xx); Duplicates were proactive events answered
	// 409, delivered by an earlier attempt.
	Sent, Duplicates int64
	// Throttled were answered 429 and snoozed.
	Throttled int64
	// Retried failed with a retryable error (River retries them later, or
	// discards them after MaxAttempts).
	Retried int64
	// Cancelled were invalid or refused: dead letters.
	Cancelled int64
	// Requeued ended before being sent (shutdown, timeout waiting for a
	// permit) and were put back.
	Requeued int64
}

// NewWorker returns a worker sending with cfg (credentials, endpoint,
// token URL, HTTP client). cfg.Retry is ignored: River retries. Unless
// cfg.Tokens is set, tokens come from the queue's TokenStore.
func (q *Queue) NewWorker(cfg alexa.Config, opts WorkerOptions) (*Worker, error) {
	var vs validate.Violations
	if opts.Concurrency < 0 {
		vs.Add("concurrency", "must not be negative", opts.Concurrency)
	}
	if opts.Rate < 0 {
		vs.Add("rate", "must not be negative", opts.Rate)
	}
	if opts.Burst < 0 {
		vs.Add("burst", "must not be negative", opts.Burst)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = DefaultJobTimeout
	}
	if opts.RescueAfter <= 0 {
		opts.RescueAfter = max(DefaultRescueAfter, 2*opts.JobTimeout)
	}
	if opts.RescueAfter <= opts.JobTimeout {
		vs.Add("rescueAfter", "must exceed jobTimeout ("+opts.JobTimeout.String()+"): a running job would be run twice", opts.RescueAfter)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.FetchCooldown <= 0 {
		opts.FetchCooldown = DefaultFetchCooldown
	}
	if opts.FetchPollInterval <= 0 {
		opts.FetchPollInterval = time.Second
	}
	if opts.DeadLetterRetention <= 0 {
		opts.DeadLetterRetention = DefaultDeadLetterRetention
	}
	if opts.CompletedRetention <= 0 {
		opts.CompletedRetention = 24 * time.Hour
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.RateLimit == "" {
		opts.RateLimit = cfg.Credentials.ClientID
	}
	if opts.RateLimit == "" {
		vs.Add("rateLimit", "is required when the credentials have no client id", nil)
	}
	if err := vs.Err("queue.NewWorker"); err != nil {
		return nil, err
	}

	cfg = cfg.WithDefaults()
	w := &Worker{q: q, opts: opts, limiter: newLimiter(q, opts.RateLimit), log: q.logger}
	if cfg.Tokens == nil {
		// The inner provider fetches with the plain HTTP client: token
		// requests are LWA's, outside the API's rate limit.
		cfg.Tokens = q.NewTokenStore(cfg, lwa.NewProvider(cfg))
	}
	w.tokens = cfg.Tokens
	cfg.HTTPClient = &gate{next: cfg.HTTPClient, l: w.limiter}
	cfg.Retry = alexa.NoRetry()
	w.messages = messaging.NewClient(cfg)
	w.events = proactive.NewClient(cfg, proactive.WithRules(q.checks.events))
	w.datastore = datastore.NewClient(cfg, datastore.WithLimits(q.checks.datastore))

	workers := river.NewWorkers()
	river.AddWorker(workers, &messageWorker{w: w})
	river.AddWorker(workers, &eventWorker{w: w})
	river.AddWorker(workers, &dataStoreWorker{w: w})
	rc, err := river.NewClient(riverpgxv5.New(q.pool), &river.Config{
		Schema:                      q.opts.Schema,
		Logger:                      q.logger,
		ID:                          opts.ID,
		Queues:                      map[string]river.QueueConfig{q.opts.Queue: {MaxWorkers: opts.Concurrency}},
		Workers:                     workers,
		JobTimeout:                  opts.JobTimeout,
		RescueStuckJobsAfter:        opts.RescueAfter,
		MaxAttempts:                 opts.MaxAttempts,
		FetchCooldown:               opts.FetchCooldown,
		FetchPollInterval:           opts.FetchPollInterval,
		CompletedJobRetentionPeriod: opts.CompletedRetention,
		CancelledJobRetentionPeriod: opts.DeadLetterRetention,
		DiscardedJobRetentionPeriod: opts.DeadLetterRetention,
		SoftStopTimeout:             opts.StopTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("queue.NewWorker: %w", err)
	}
	w.river = rc
	return w, nil
}

// Tokens returns the worker's token provider: the shared TokenStore unless
// the Config brought its own.
func (w *Worker) Tokens() alexa.TokenProvider { return w.tokens }

// Run works jobs until ctx ends, then stops: it lets running jobs finish
// for StopTimeout, cancels the rest (they run again elsewhere) and
// returns nil. It fails at once with ErrNotMigrated on a database that
// was not migrated, and stops with an error matching
// ErrCredentialsRefused when the token endpoint refuses the credentials
// (the jobs are put back, their attempts unspent).
func (w *Worker) Run(ctx context.Context) error {
	if err := w.q.check(ctx); err != nil {
		return err
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	w.stop.Store(&stop)
	defer w.stop.Store(nil)
	if w.opts.Rate > 0 {
		if err := w.q.SetRateLimit(ctx, w.opts.RateLimit, w.opts.Rate, w.opts.Burst); err != nil {
			return err
		}
	}
	if err := w.river.Start(ctx); err != nil {
		return fmt.Errorf("queue: starting the worker: %w", err)
	}
	<-w.river.Stopped()
	if cause := context.Cause(ctx); errors.Is(cause, ErrCredentialsRefused) {
		return cause
	}
	return nil
}

// Stats returns the outcomes counted so far.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{
		Sent: w.sent.Load(), Duplicates: w.duplicates.Load(), Throttled: w.throttled.Load(),
		Retried: w.retried.Load(), Cancelled: w.cancelled.Load(), Requeued: w.requeued.Load(),
	}
}

type messageWorker struct {
	river.WorkerDefaults[MessageArgs]
	w *Worker
}

func (mw *messageWorker) Work(ctx context.Context, job *river.Job[MessageArgs]) error {
	w := mw.w
	userID, m, err := job.Args.message()
	if err != nil {
		return w.cancel(ctx, job.ID, err)
	}
	ctx, st := withSendState(ctx)
	_, err = w.messages.Send(ctx, userID, m)
	return w.outcome(ctx, job.ID, st, err)
}

type eventWorker struct {
	river.WorkerDefaults[EventArgs]
	w *Worker
}

func (ew *eventWorker) Work(ctx context.Context, job *river.Job[EventArgs]) error {
	w := ew.w
	stage, err := checkStage(job.Args.Stage)
	if err != nil {
		return w.cancel(ctx, job.ID, err)
	}
	req, err := job.Args.request(time.Now(), w.q.checks.events)
	if err != nil {
		return w.cancel(ctx, job.ID, err)
	}
	ctx, st := withSendState(ctx)
	_, err = w.events.Create(ctx, req, stage)
	var ae *alexa.Error
	if errors.As(err, &ae) && ae.StatusCode == http.StatusConflict {
		// The referenceId is there already: an earlier attempt (whose
		// answer was lost, or whose worker died) delivered it.
		w.duplicates.Add(1)
		_ = river.RecordOutput(ctx, map[string]string{"outcome": "duplicate"})
		return nil
	}
	return w.outcome(ctx, job.ID, st, err)
}

func (w *Worker) cancel(ctx context.Context, id int64, err error) error {
	w.cancelled.Add(1)
	w.log.LogAttrs(ctx, slog.LevelInfo, "queue: job cancelled", slog.Int64("job", id), slog.String("error", err.Error()))
	return river.JobCancel(err)
}

// outcome maps the result of one send to River's verdict.
func (w *Worker) outcome(ctx context.Context, id int64, st *sendState, err error) error {
	if err == nil {
		w.sent.Add(1)
		return nil
	}
	var (
		ve *alexa.ValidationError
		ae *alexa.Error
	)
	switch {
	case !st.sent.Load() && !errors.As(err, &ve):
		// Nothing left this process.
		var le *lwa.Error
		if errors.As(err, &le) && errors.Is(err, alexa.ErrUnauthorized) {
			// Every job would fail alike: stop, and put this one back.
			if stop := w.stop.Load(); stop != nil {
				(*stop)(fmt.Errorf("queue: %w: %w", ErrCredentialsRefused, err))
			}
			w.requeued.Add(1)
			return river.JobSnooze(0)
		}
		if ctx.Err() == nil {
			// A token or database failure before sending: back off.
			w.retried.Add(1)
			return err
		}
		// The job ended while waiting for a permit or a token: another
		// worker may take it at once, without spending an attempt.
		w.requeued.Add(1)
		return river.JobSnooze(0)
	case errors.As(err, &ve):
		return w.cancel(ctx, id, err)
	case errors.As(err, &ae):
		switch {
		case ae.StatusCode == http.StatusTooManyRequests:
			wait := ae.RetryAfter
			if wait <= 0 {
				wait = DefaultThrottleWait
			}
			w.throttled.Add(1)
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if perr := w.limiter.pause(pctx, wait); perr != nil {
				w.log.Warn("queue: could not pause the shared rate limit", "error", perr.Error())
			}
			return river.JobSnooze(wait)
		case ae.StatusCode >= 500, ae.StatusCode < 400:
			w.retried.Add(1)
			return err
		default:
			return w.cancel(ctx, id, err)
		}
	}
	w.retried.Add(1)
	return err
}

// sendState tells the worker whether a job's request left the process.
type sendState struct{ sent atomic.Bool }

type sendStateKey struct{}

func withSendState(ctx context.Context) (context.Context, *sendState) {
	st := &sendState{}
	return context.WithValue(ctx, sendStateKey{}, st), st
}

// gate sends every API request under the shared rate limit and marks the
// job's request as sent.
type gate struct {
	next alexa.HTTPClient
	l    *limiter
}

func (g *gate) Do(req *http.Request) (*http.Response, error) {
	if err := g.l.wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if st, ok := req.Context().Value(sendStateKey{}).(*sendState); ok {
		st.sent.Store(true)
	}
	return g.next.Do(req)
}
