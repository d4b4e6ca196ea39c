package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"riverqueue.com/riverui"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/jsonl"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/queue"
)

// EnvDatabaseURL is the PostgreSQL URL of the queue commands (flag
// --database-url).
const EnvDatabaseURL = "DATABASE_URL"

// DefaultUIAddr is where "alexa-oos queue ui" listens by default.
const DefaultUIAddr = "127.0.0.1:8935"

// enqueueBatch is how many lines "queue enqueue" adds per transaction.
const enqueueBatch = 500

const queueLong = `Deliver skill messages, proactive events and DataStore commands from many
machines, through a River job queue in PostgreSQL:

  queue migrate    create or update the tables (River's and the queue's)
  queue enqueue    add one job per line of a JSONL file ("bulk" input shapes)
  queue work       run jobs until interrupted: start one per machine
  queue status     counts by state, the recent rate, the last errors
  queue ui         serve River's web UI

Every worker draws from one rate limit stored in the database (queue work
--rate N sets it for all of them) and shares one Login-with-Amazon token
per scope, so a fleet makes one token request per scope and token
lifetime. A worker killed at any moment loses nothing: its jobs are run
again by the others once they count as stuck.

Outcomes: 2xx delivered; a proactive event answered 409 was delivered
already; 429 waits for the Retry-After, every worker with it; 5xx, network
and token errors are retried with backoff; any other 4xx (or an invalid
line) cancels the job, which "queue status" lists as a dead letter. A
DataStore job is delivered when every device got the commands or has them
queued (offline); a device answered CONCURRENCY_ERROR or INTERNAL_ERROR is
retried alone with backoff; any other device failure cancels the job.

The database is --database-url URL or ` + EnvDatabaseURL + ` (a PostgreSQL URL such as
postgres://user:password@host:5432/db). There is no embedded default: the
queue exists to share one database among machines; for one machine,
"bulk --journal" needs no database.

"queue work" sends where the other commands do: with no credentials and
no endpoint, to the built-in emulator.`

// QueueDB is the queue the queue commands work on: the queue group's
// flags.
type QueueDB struct {
	// URL is --database-url; "" for EnvDatabaseURL, read by the run.
	URL string
	// Schema is --schema; "" for the connection's search_path.
	Schema string
	// Queue is --queue, the River queue's name.
	Queue string
}

// QueueOptions are what every queue command works with.
type QueueOptions struct {
	IO *IOStreams
	// Getenv looks up EnvDatabaseURL when DB.URL is "".
	Getenv func(string) string

	DB QueueDB
	// Verbose shows River's informational logs (-v).
	Verbose bool
}

// newQueueOptions returns the queue options of f, flags not yet parsed.
func newQueueOptions(f *Factory) QueueOptions {
	return QueueOptions{IO: f.IO, Getenv: f.Getenv}
}

// fill takes the queue group's flags and -v from f, once parsed.
func (o *QueueOptions) fill(f *Factory) {
	o.DB, o.Verbose = f.queueDB, f.verbose
}

// NewCmdQueue returns the queue command group.
func NewCmdQueue(f *Factory) *cobra.Command {
	return queueGroup(f, NewCmdQueueMigrate(f, nil), NewCmdQueueEnqueue(f, nil), NewCmdQueueWork(f, nil),
		NewCmdQueueStatus(f, nil), NewCmdQueueUI(f, nil))
}

// queueGroup returns the queue group holding cmds, with the flags they
// share: --database-url, --schema and --queue.
func queueGroup(f *Factory, cmds ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Deliver from many machines through a River job queue in PostgreSQL",
		Long:  queueLong,
	}
	fs := cmd.PersistentFlags()
	fs.StringVar(&f.queueDB.URL, "database-url", "", "PostgreSQL URL (env "+EnvDatabaseURL+")")
	fs.StringVar(&f.queueDB.Schema, "schema", "", "PostgreSQL schema of the queue's tables (default: the connection's search_path)")
	fs.StringVar(&f.queueDB.Queue, "queue", queue.DefaultQueue, "River queue name")
	cmd.AddCommand(cmds...)
	return group(cmd)
}

// openQueue connects to the database. Errors never show the URL: it may
// hold a password.
func openQueue(ctx context.Context, opts *QueueOptions) (*queue.Queue, error) {
	url, source := opts.DB.URL, "--database-url"
	if url == "" {
		url, source = opts.Getenv(EnvDatabaseURL), EnvDatabaseURL
	}
	if url == "" {
		return nil, &cliError{code: ExitUsage, kind: kindUsage,
			msg:  fmt.Sprintf("queue: no database: give --database-url URL or set %s", EnvDatabaseURL),
			hint: "a PostgreSQL URL such as postgres://user:password@localhost:5432/app; River's SQLite driver is not offered, since the queue is for machines sharing one database"}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, usagef("%s: not a PostgreSQL URL or connection string (such as postgres://user:password@localhost:5432/app)", source)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	q, err := queue.New(pool, queue.Options{Schema: opts.DB.Schema, Queue: opts.DB.Queue, Logger: riverLogger(opts)})
	if err != nil {
		pool.Close()
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "queue.New: "))
	}
	return q, nil
}

// riverLogger shows River's warnings and errors on stderr, and more with -v.
func riverLogger(opts *QueueOptions) *slog.Logger {
	level := slog.LevelWarn
	if opts.Verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: level}))
}

// queueError classifies the errors particular to the queue.
func queueError(err error) error {
	if errors.Is(err, queue.ErrNotMigrated) {
		return &cliError{code: ExitUsage, kind: kindUsage, msg: "queue: the database has no queue tables (or not in --schema): nothing done",
			hint: `run "alexa-oos queue migrate" once per database`, err: err}
	}
	return err
}

// QueueMigrateOptions are the inputs of queue migrate.
type QueueMigrateOptions struct {
	QueueOptions
	Timeout time.Duration
}

// NewCmdQueueMigrate returns queue migrate; runF, when not nil, runs
// instead of runQueueMigrate.
func NewCmdQueueMigrate(f *Factory, runF func(*QueueMigrateOptions) error) *cobra.Command {
	opts := &QueueMigrateOptions{QueueOptions: newQueueOptions(f)}
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the queue's tables (River's and its own)",
		Long: `Create or update River's tables and the queue's own in the database:
` + queue.RateLimitTable + ` (the shared rate limits) and ` + queue.TokenTable + `
(the shared access tokens: SECRET, encrypted with a key derived from the
skill's credentials; grant it to the workers' role only). Safe to run at
every deploy and from several machines at once.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.fill(f)
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runQueueMigrate(cmd.Context(), opts)
		},
	}
}

// runQueueMigrate migrates the database and says what it applied.
func runQueueMigrate(ctx context.Context, opts *QueueMigrateOptions) error {
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	q, err := openQueue(ctx, &opts.QueueOptions)
	if err != nil {
		return err
	}
	defer q.Pool().Close()
	applied, err := q.Migrate(ctx)
	if err != nil {
		return err
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(struct {
			Applied []int `json:"appliedRiverVersions"`
		}{applied})
		return nil
	}
	if len(applied) == 0 {
		fmt.Fprintln(opts.IO.Out, "queue: up to date")
	} else {
		fmt.Fprintf(opts.IO.Out, "queue: applied River migrations %v; queue tables ready\n", applied)
	}
	return nil
}

// enqueueSummary is the outcome of "queue enqueue".
type enqueueSummary struct {
	Read       int        `json:"read"`
	Enqueued   int        `json:"enqueued"`
	Duplicates int        `json:"duplicates"`
	Invalid    int        `json:"invalid"`
	At         *time.Time `json:"scheduledAt,omitempty"`
}

// queueKinds are the values of queue enqueue --kind.
var queueKinds = []string{"auto", "message", "proactive", "datastore"}

// QueueEnqueueOptions are the inputs of queue enqueue.
type QueueEnqueueOptions struct {
	QueueOptions
	// Input is the JSONL file (--input; "-" for IO.In).
	Input string
	// Kind is --kind: one of queueKinds.
	Kind string
	// Stage is the skill stage of proactive events (--stage).
	Stage proactive.Stage
	// At is --at resolved; zero for now.
	At time.Time
	// Priority is --priority; 0 for River's default.
	Priority int
	// Timeout is --timeout; it applies only when TimeoutGiven.
	Timeout      time.Duration
	TimeoutGiven bool
}

// NewCmdQueueEnqueue returns queue enqueue; runF, when not nil, runs
// instead of runQueueEnqueue.
func NewCmdQueueEnqueue(f *Factory, runF func(*QueueEnqueueOptions) error) *cobra.Command {
	opts := &QueueEnqueueOptions{QueueOptions: newQueueOptions(f)}
	var stage, at string
	cmd := &cobra.Command{
		Use:   "enqueue --input FILE|- [--kind auto|message|proactive|datastore] [--stage development|live] [--at TIME] [--priority N]",
		Short: "Add one job per line of a JSONL file",
		Long: `Add one job per line of --input (a file, or - for standard input), in the
shapes "bulk" reads: a skill message {"userId": "...", "data": {...},
"expiresAfterSeconds": N}, a Proactive Events request body, or DataStore
commands {"target": {...}, "commands": [...], "attemptDeliveryUntil": "..."}
(as "bulk datastore" reads them). With --kind auto (the default) a line
with "event" is a proactive event, one with "commands" DataStore commands,
any other a skill message. Proactive events go to --stage (default
development).

Each line is checked before anything is added; an invalid line is reported
as "alexa-oos: line N: reason" and skipped. Lines are added in
transactions of ` + fmt.Sprint(enqueueBatch) + `. An item already in the queue (waiting, running, or
delivered within the last day) is not added again: enqueuing the same file
twice sends each item once. A proactive event without referenceId gets
one derived from its content, so that a retry is refused by Alexa instead
of notifying twice. A DataStore line whose attemptDeliveryUntil comes
before --at is invalid.

--at schedules every line: an RFC 3339 time with its zone
(2026-06-01T08:00:00+02:00, or ...Z), or a delay from now (90m, 24h).

Exit status: 0 when every line was added (or already there); 1 when some
were invalid; 2 for usage errors.`,
		Example: `  alexa-oos queue enqueue --input examples/bulk/messages.jsonl
  alexa-oos queue enqueue --input events.jsonl --kind proactive --stage live --at 2026-06-01T08:00:00Z
  alexa-oos queue enqueue --input scores.jsonl --kind datastore`,
		Args: exactArgs(0, "no arguments (the input is --input FILE)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Input == "" {
				return usagef("--input: is required: a JSONL file, or - for standard input")
			}
			opts.Stage = parseStage(stage)
			if at != "" {
				t, err := parseAt(at, f.Now())
				if err != nil {
					return err
				}
				opts.At = t
			}
			if opts.Priority < 0 || opts.Priority > 4 {
				return usagef("--priority: must be 1 (first) to 4 (got %d)", opts.Priority)
			}
			opts.fill(f)
			opts.Timeout, opts.TimeoutGiven = f.timeout, f.timeoutGiven()
			if runF != nil {
				return runF(opts)
			}
			return runQueueEnqueue(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Input, "input", "", "JSONL file, one job per line (- for stdin; required)")
	stringEnumFlag(cmd, fs, &opts.Kind, "kind", "", "auto", queueKinds, nil, "what the lines are (auto: by their fields)")
	stageFlag(cmd, &stage)
	fs.StringVar(&at, "at", "", "send time: RFC 3339 with zone, or a delay such as 90m (default: now)")
	fs.IntVar(&opts.Priority, "priority", 0, "River priority, 1 (first) to 4 (default 1)")
	return cmd
}

// runQueueEnqueue adds the lines of the input and says how many.
func runQueueEnqueue(ctx context.Context, opts *QueueEnqueueOptions) error {
	var in io.Reader = opts.IO.In
	if opts.Input != "-" {
		f, err := os.Open(opts.Input)
		if err != nil {
			return usagef("--input: %v", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return usagef("--input: %s is a directory", opts.Input)
		}
		in = f
	}
	ctx, cancel := bulkContext(ctx, &BulkOptions{Timeout: opts.Timeout, TimeoutGiven: opts.TimeoutGiven})
	defer cancel(nil)
	q, err := openQueue(ctx, &opts.QueueOptions)
	if err != nil {
		return err
	}
	defer q.Pool().Close()
	eo := &queue.EnqueueOptions{Priority: opts.Priority, At: opts.At}
	sum, err := enqueueLines(ctx, opts.IO.ErrOut, q, in, opts.Kind, opts.Stage, eo)
	if err != nil {
		return queueError(err)
	}
	if !eo.At.IsZero() {
		sum.At = &eo.At
	}
	if opts.IO.JSON() {
		opts.IO.printJSON(sum)
	} else {
		line := fmt.Sprintf("enqueued %d, duplicates %d (already queued or delivered), invalid %d, of %d lines", sum.Enqueued, sum.Duplicates, sum.Invalid, sum.Read)
		if sum.At != nil {
			line += "; scheduled at " + sum.At.Format(time.RFC3339)
		}
		fmt.Fprintln(opts.IO.Out, line)
	}
	if sum.Read == 0 {
		// A truncated export must not pass for a job well done.
		name := opts.Input
		if name == "-" {
			name = "standard input"
		}
		return usagef("--input: %s holds no line: nothing enqueued", name)
	}
	if sum.Invalid > 0 {
		return &cliError{code: ExitFailure, kind: kindValidation, quiet: true,
			msg: fmt.Sprintf("%d of %d lines invalid, not enqueued", sum.Invalid, sum.Read)}
	}
	return nil
}

// parseAt reads --at: an RFC 3339 time with zone, or a delay from now.
func parseAt(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		if d < 0 {
			return time.Time{}, usagef("--at: a delay must not be negative (got %q)", s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, usagef("--at: must be an RFC 3339 time with its zone, such as 2026-06-01T08:00:00+02:00 or 2026-06-01T06:00:00Z, or a delay such as 90m (got %q)", s)
	}
	return t, nil
}

// enqueueLines adds the lines of in, in batches, reporting invalid ones
// to errOut.
func enqueueLines(ctx context.Context, errOut io.Writer, q *queue.Queue, in io.Reader, kind string, stage proactive.Stage, opts *queue.EnqueueOptions) (*enqueueSummary, error) {
	sum := &enqueueSummary{}
	lr := jsonl.NewReader(in)
	batch := make([]queue.Job, 0, enqueueBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := q.EnqueueMany(ctx, batch, opts)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Duplicate {
				sum.Duplicates++
			} else {
				sum.Enqueued++
			}
		}
		batch = batch[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		l, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, usagef("--input: %v", err)
		}
		sum.Read++
		if l.Err != nil {
			sum.Invalid++
			fmt.Fprintf(errOut, "alexa-oos: line %d: %v\n", l.N, l.Err)
			continue
		}
		job, err := parseJob(l.Data, kind, stage)
		if err == nil {
			// With the options: a proactive event must not expire
			// before --at. One bad line must not fail its batch.
			err = q.Check(job, opts)
		}
		if err != nil {
			sum.Invalid++
			fmt.Fprintf(errOut, "alexa-oos: line %d: %s\n", l.N, lineReason(err))
			continue
		}
		batch = append(batch, job)
		if len(batch) == enqueueBatch {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush()
}

// parseJob reads one line as kind ("auto": by its fields).
func parseJob(line []byte, kind string, stage proactive.Stage) (queue.Job, error) {
	if kind == "auto" {
		kind = "message"
		var probe map[string]json.RawMessage
		if json.Unmarshal(line, &probe) == nil {
			if _, ok := probe["event"]; ok {
				kind = "proactive"
			} else if _, ok := probe["commands"]; ok {
				kind = "datastore"
			}
		}
	}
	switch kind {
	case "proactive":
		return queue.ParseEvent(line, stage)
	case "datastore":
		return queue.ParseDataStore(line)
	}
	return queue.ParseMessage(line)
}

// lineReason is an invalid line's problems on one line.
func lineReason(err error) string {
	var ve *alexa.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			parts[i] = v.String()
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// workSummary is what "queue work" prints when it stops.
type workSummary struct {
	queue.WorkerStats
	Elapsed time.Duration `json:"-"`
	Seconds float64       `json:"elapsedSeconds"`
}

// QueueWorkOptions are the inputs of queue work.
type QueueWorkOptions struct {
	QueueOptions
	Target func(needRefresh bool) (*target, error)

	// Concurrency is --concurrency, jobs run at once.
	Concurrency int
	// Rate is --rate, requests per second stored as the shared limit; 0
	// keeps the stored one.
	Rate float64
	// Burst is --burst, of the limit set with Rate.
	Burst int
	// ProgressInterval is the period of the progress line
	// (EnvProgressInterval).
	ProgressInterval time.Duration
	// Timeout is --timeout; it applies only when TimeoutGiven.
	Timeout      time.Duration
	TimeoutGiven bool
}

// NewCmdQueueWork returns queue work; runF, when not nil, runs instead of
// runQueueWork.
func NewCmdQueueWork(f *Factory, runF func(*QueueWorkOptions) error) *cobra.Command {
	opts := &QueueWorkOptions{QueueOptions: newQueueOptions(f), Target: f.Target}
	cmd := &cobra.Command{
		Use:   "work [--concurrency N] [--rate N] [--burst N]",
		Short: "Run the queue's jobs until interrupted",
		Long: `Run the queue's jobs until SIGINT or SIGTERM (or --timeout, when given),
then stop cleanly: running jobs finish or go back to the queue. Start one
per machine, with the same flags.

--rate N stores N requests per second as the skill's rate limit, shared by
every worker (each draws permits from the database in small batches);
without --rate the stored limit applies, if any. --concurrency is how many
jobs this worker runs at once (default ` + fmt.Sprint(queue.DefaultConcurrency) + `): near the rate
share × 0.1 s is enough.

Credentials the token endpoint refuses stop the worker at once (exit 1):
every job would fail alike; the jobs are put back, their attempts unspent.
Jobs a worker had running when it was killed (kill -9, a lost machine) run
again on another worker after ` + queue.DefaultRescueAfter.String() + `; "queue status" counts
them as running until then.

Progress goes to stderr every 5 seconds (` + EnvProgressInterval + `
changes that); a summary to stdout when it stops.`,
		Example: `  DATABASE_URL=postgres://localhost/app alexa-oos queue work --rate 50
  alexa-oos queue work --concurrency 64 --timeout 10m`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Concurrency < 1 || opts.Concurrency > MaxConcurrency:
				return usagef("--concurrency: must be 1 to %d (got %d)", MaxConcurrency, opts.Concurrency)
			case opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0):
				return usagef("--rate: must be a number of requests per second (got %v)", opts.Rate)
			case opts.Burst < 1:
				return usagef("--burst: must be at least 1 (got %d)", opts.Burst)
			}
			interval, err := progressInterval(f.Getenv)
			if err != nil {
				return err
			}
			opts.ProgressInterval = interval
			opts.fill(f)
			opts.Timeout, opts.TimeoutGiven = f.timeout, f.timeoutGiven()
			if runF != nil {
				return runF(opts)
			}
			return runQueueWork(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&opts.Concurrency, "concurrency", queue.DefaultConcurrency, "jobs this worker runs at once")
	fs.Float64Var(&opts.Rate, "rate", 0, "store this rate limit (requests/s, all workers together); 0: keep the stored one")
	fs.IntVar(&opts.Burst, "burst", 1, "burst of the rate limit set with --rate")
	return cmd
}

// runQueueWork runs the queue's jobs until ctx ends, then prints a
// summary.
func runQueueWork(ctx context.Context, opts *QueueWorkOptions) error {
	t, err := opts.Target(false)
	if err != nil {
		return err
	}
	ctx, cancel := bulkContext(ctx, &BulkOptions{Timeout: opts.Timeout, TimeoutGiven: opts.TimeoutGiven})
	defer cancel(nil)
	q, err := openQueue(ctx, &opts.QueueOptions)
	if err != nil {
		return err
	}
	defer q.Pool().Close()
	t.connect("sending to the built-in emulator at %s", alexatest.Options{DiscardRecords: true})
	defer t.close()
	w, err := q.NewWorker(t.cfg, queue.WorkerOptions{Concurrency: opts.Concurrency, Rate: opts.Rate, Burst: opts.Burst})
	if err != nil {
		return err
	}
	limit := "the stored rate limit, if any"
	if opts.Rate > 0 {
		limit = fmt.Sprintf("%g requests/s shared by every worker", opts.Rate)
	}
	fmt.Fprintf(opts.IO.ErrOut, "alexa-oos: working queue %s: concurrency %d, %s\n", q.Name(), opts.Concurrency, limit)

	start := time.Now()
	stopProgress := workProgress(opts.IO.ErrOut, w, opts.ProgressInterval)
	err = w.Run(ctx)
	stopProgress()
	if err != nil {
		return queueError(err)
	}
	sum := workSummary{WorkerStats: w.Stats(), Elapsed: time.Since(start)}
	sum.Seconds = sum.Elapsed.Seconds()
	if opts.IO.JSON() {
		opts.IO.printJSON(sum)
	} else {
		fmt.Fprintf(opts.IO.Out, "worked %s: %s\n", sum.Elapsed.Round(time.Millisecond), statsLine(sum.WorkerStats))
		if t.srv != nil {
			fmt.Fprintf(opts.IO.Out, "emulator accepted %d\n", t.srv.Accepted())
		}
	}
	return nil
}

func statsLine(s queue.WorkerStats) string {
	return fmt.Sprintf("sent %d, duplicates %d, throttled %d, retried %d, cancelled %d, requeued %d",
		s.Sent, s.Duplicates, s.Throttled, s.Retried, s.Cancelled, s.Requeued)
}

// workProgress prints a progress line to errOut every interval until
// stopped.
func workProgress(errOut io.Writer, w *queue.Worker, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		last, lastAt := w.Stats(), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				s := w.Stats()
				rate := float64(s.Sent+s.Duplicates-last.Sent-last.Duplicates) / now.Sub(lastAt).Seconds()
				last, lastAt = s, now
				fmt.Fprintf(errOut, "alexa-oos: %s; %.0f/s\n", statsLine(s), rate)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// QueueStatusOptions are the inputs of queue status.
type QueueStatusOptions struct {
	QueueOptions
	// Errors is --errors, how many of the latest failures to show.
	Errors  int
	Timeout time.Duration
}

// NewCmdQueueStatus returns queue status; runF, when not nil, runs instead
// of runQueueStatus.
func NewCmdQueueStatus(f *Factory, runF func(*QueueStatusOptions) error) *cobra.Command {
	opts := &QueueStatusOptions{QueueOptions: newQueueOptions(f)}
	cmd := &cobra.Command{
		Use:   "status [--errors N]",
		Short: "Show the queue: jobs by state, the recent rate, the last errors",
		Long: `Show the jobs of the queue by state (available, scheduled, running,
retryable, completed, cancelled, discarded), how many completed in the last
minute, the stored rate limits, and the --errors N latest failures (default
10), newest first: retryable ones run again; cancelled (refused or invalid)
and discarded (out of attempts) ones are dead letters, shown with their
input. -o json prints it all as one object.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Errors < 0 {
				return usagef("--errors: must not be negative (got %d)", opts.Errors)
			}
			opts.fill(f)
			opts.Timeout = f.timeout
			if runF != nil {
				return runF(opts)
			}
			return runQueueStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Errors, "errors", 10, "how many of the latest failures to show")
	return cmd
}

// runQueueStatus prints the queue's status.
func runQueueStatus(ctx context.Context, opts *QueueStatusOptions) error {
	ctx, cancel := withTimeout(ctx, opts.Timeout)
	defer cancel()
	q, err := openQueue(ctx, &opts.QueueOptions)
	if err != nil {
		return err
	}
	defer q.Pool().Close()
	st, err := q.Status(ctx, opts.Errors)
	if err != nil {
		return queueError(err)
	}
	if opts.IO.JSON() {
		if st.LastErrors == nil {
			st.LastErrors = []queue.JobError{}
		}
		if st.RateLimits == nil {
			st.RateLimits = []queue.RateLimit{}
		}
		opts.IO.printJSON(st)
		return nil
	}
	printStatus(opts.IO.Out, st)
	return nil
}

// stateOrder is the order states are printed in.
var stateOrder = []string{"available", "scheduled", "pending", "running", "retryable", "completed", "cancelled", "discarded"}

// printStatus prints st to w as text.
func printStatus(w io.Writer, st *queue.Status) {
	fmt.Fprintf(w, "queue %s\n", st.Queue)
	var parts []string
	var total int64
	for _, s := range stateOrder {
		parts = append(parts, fmt.Sprintf("%s %d", s, st.States[s]))
		total += st.States[s]
	}
	fmt.Fprintf(w, "  jobs: %s (total %d)\n", strings.Join(parts, ", "), total)
	fmt.Fprintf(w, "  completed in the last minute: %d (%.1f/s)\n", st.CompletedLastMinute, float64(st.CompletedLastMinute)/60)
	if len(st.RateLimits) == 0 {
		fmt.Fprintln(w, "  rate limit: none stored (queue work --rate N sets one)")
	}
	for _, l := range st.RateLimits {
		fmt.Fprintf(w, "  rate limit %s: %g/s, burst %d; unused %s since its first use (no worker ready to send)\n",
			l.Name, l.PerSecond, l.Burst, time.Duration(l.IdleSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	if len(st.LastErrors) == 0 {
		return
	}
	fmt.Fprintln(w, "last errors, newest first:")
	for _, e := range st.LastErrors {
		what := "will run again"
		if e.DeadLetter() {
			what = "dead letter"
		}
		fmt.Fprintf(w, "  job %d %s (%s, %s), attempt %d, %s: %s\n    input: %s\n",
			e.ID, e.Kind, e.State, what, e.Attempt, e.At.Format(time.RFC3339), text.OneLine(e.Error, 300), text.OneLine(string(e.Args), 300))
	}
}

// QueueUIOptions are the inputs of queue ui.
type QueueUIOptions struct {
	QueueOptions
	// Addr is --addr, the listen address.
	Addr string
}

// NewCmdQueueUI returns queue ui; runF, when not nil, runs instead of
// runQueueUI.
func NewCmdQueueUI(f *Factory, runF func(*QueueUIOptions) error) *cobra.Command {
	opts := &QueueUIOptions{QueueOptions: newQueueOptions(f)}
	cmd := &cobra.Command{
		Use:   "ui [--addr HOST:PORT]",
		Short: "Serve River's web UI for the queue",
		Long: `Serve River's web UI (riverui) on --addr (default ` + DefaultUIAddr + `) until
interrupted: jobs by state with their arguments and errors, and buttons to
retry, cancel or delete them. It has no login of its own: keep it on a
loopback address, or behind an authenticating proxy. --timeout does not
apply.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.fill(f)
			if runF != nil {
				return runF(opts)
			}
			return runQueueUI(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", DefaultUIAddr, "listen address; port 0 picks a free one")
	return cmd
}

// runQueueUI serves River's UI until ctx ends; --timeout does not apply.
func runQueueUI(ctx context.Context, opts *QueueUIOptions) error {
	q, err := openQueue(ctx, &opts.QueueOptions)
	if err != nil {
		return err
	}
	defer q.Pool().Close()
	if _, err := q.Status(ctx, 0); err != nil {
		return queueError(err)
	}
	logger := riverLogger(&opts.QueueOptions)
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(q.River(), nil),
		Logger:    logger,
	})
	if err != nil {
		return fmt.Errorf("queue ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return fmt.Errorf("queue ui: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		opts.IO.warnf("River's UI listens beyond this machine on %s, without a login: anyone reaching it can cancel or delete jobs", ln.Addr())
	}
	fmt.Fprintf(opts.IO.Out, "River UI for queue %s at http://%s/ (Ctrl-C to stop)\n", q.Name(), clientAddr(ln.Addr()))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("queue ui: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}
