package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const bulkLong = `Send skill messages, proactive events or DataStore commands in bulk: one
item per line of a JSONL file (--input FILE, or - for standard input), read
as a stream so that memory stays flat however long the input is.

  bulk message     {"userId": "...", "data": {...}, "expiresAfterSeconds": N} per line
  bulk proactive   one Proactive Events request body per line
  bulk datastore   {"target": {...}, "commands": [...]} per line

Up to --concurrency items are in flight (default 16); --rate N caps the
requests per second across all of them, retries included (0: no cap; the
default, except for bulk datastore, which keeps to Alexa's 25 per second).
When Alexa throttles (429), every worker waits for the Retry-After. A
Retry-After longer than the retry policy honours (60s) pauses the whole
job, up to --max-throttle-wait (default 5m); a longer one stops the job,
leaving every unsent item for a rerun. A token endpoint that refuses or
cannot be reached stops the job too, as do credentials the API refuses:
every item would fail the same way. A Unicast proactive event refused 403
fails only its line (Alexa answers 403 to a user who has not subscribed),
unless the first 1000 such refusals come before any delivery.

A line that is not JSON or breaks the API's rules is reported on stderr as
"alexa-oos: line N: reason", and so is an item the API refused; the rest go
on. --failures FILE receives each of them as one JSON line
({"line","status","reason","error","input"}), so that they can be fixed and
fed back: jq -c .input FILE > retry.jsonl.

--journal FILE makes a job resumable: every item the API acknowledged is
recorded durably, by its content (records are fsynced together every 10 ms,
and all of them when the job ends). Run the command again after a crash, a
kill -9 or Ctrl-C, with the same journal, and only what was not acknowledged
is sent, even if the input was edited, reordered or replaced in between (the
items in flight at a kill -9, at most --concurrency, and those acknowledged
in its last 10 ms can go twice; proactive events keep their referenceId, so
Alexa refuses the second copy). The
failures file, fed back with the same journal, sends exactly the items that
were not delivered. A journal belongs to one kind of job (and stage), and
to one job at a time: another kind, or a second job while the first runs,
is refused.

A proactive event Alexa already has (409, duplicate referenceId) counts as
already delivered. Skill messages carry no such id: a message whose
connection failed after it was sent is sent again (at least once), and
counted "possibly duplicated" if the retry is accepted. --at-most-once sends
such a message only once and reports its outcome as unknown instead (in the
failures file, not journaled).

Progress goes to stderr: a progress bar on a terminal (done, rate, failures;
with --input FILE, the share of the file read and the ETA), else a line
every 5 seconds (set
` + EnvProgressInterval + ` to a duration to change that). The summary goes
to stdout: sent, already delivered (409), skipped (already in the journal),
failed by reason, invalid, outcome unknown, possibly duplicated, retried,
throttled, elapsed and rate; with -o json the summary as one JSON object.

With no credentials and no endpoint the job runs against the built-in
emulator, and says so on stderr. A bulk job has no deadline unless --timeout
is given. SIGINT or SIGTERM stops it cleanly: no further item is sent, the
journal is flushed and the summary printed; a request cut off in flight is
left for a rerun (an item whose request was already written counts as of
unknown outcome).

Exit status: 0 when every item was delivered (sent, already delivered or
skipped); 1 when some were not, or the job was stopped (interrupted,
credentials refused, no token, throttled too long, network down); 2 for
usage errors (no --input, bad flags, unreadable input, a journal of another
job, in use or damaged), in which case nothing was sent.`

// NewCmdBulk returns the bulk command group.
func NewCmdBulk(f *Factory) *cobra.Command {
	return bulkGroup(NewCmdBulkMessage(f, nil), NewCmdBulkProactive(f, nil), NewCmdBulkDataStore(f, nil))
}

// bulkGroup returns the bulk group holding cmds.
func bulkGroup(cmds ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bulk",
		Short: "Send skill messages, proactive events or DataStore commands in bulk, from JSON lines",
		Long:  bulkLong,
	}
	cmd.AddCommand(cmds...)
	return group(cmd)
}

// BulkOptions are the inputs of bulk message, bulk proactive and bulk
// datastore.
type BulkOptions struct {
	IO     *IOStreams
	Target func(needRefresh bool) (*target, error)

	// Kind is the kind of job: messages, proactive events or DataStore
	// commands.
	Kind bulk.Kind
	// Stage is the skill stage of proactive events (--stage).
	Stage proactive.Stage
	// Input is the JSONL file (--input; "-" for IO.In).
	Input string
	// Journal and Failures are the --journal and --failures files; "" when
	// not given.
	Journal, Failures string
	Concurrency       int
	// Rate is --rate, requests per second; 0 is no cap.
	Rate float64
	// MaxThrottleWait is --max-throttle-wait; 0 means stop at the first
	// throttle longer than the retry policy honours.
	MaxThrottleWait time.Duration
	AtMostOnce      bool
	// Queued is bulk datastore's --queued file; "" when not given.
	Queued string
	// AttemptDeliveryUntil is bulk datastore's --attempt-delivery-until as
	// given (a time or a duration), read when the job starts.
	AttemptDeliveryUntil string
	// ProgressInterval is the period of the plain progress line
	// (EnvProgressInterval).
	ProgressInterval time.Duration
	// Timeout is --timeout; a job has no deadline unless TimeoutGiven.
	Timeout      time.Duration
	TimeoutGiven bool
}

// registerBulkFlags defines the flags every bulk command has into opts.
func registerBulkFlags(fs *pflag.FlagSet, opts *BulkOptions) {
	fs.StringVar(&opts.Input, "input", "", "JSONL file, one item per line (- for stdin; required)")
	fs.IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "items in flight at most")
	fs.Float64Var(&opts.Rate, "rate", 0, "requests per second across all workers, retries included (0: no cap)")
	fs.StringVar(&opts.Journal, "journal", "", "journal file: record delivered items, skip those already recorded")
	fs.StringVar(&opts.Failures, "failures", "", "write every item not delivered to this file, as JSON lines")
	fs.DurationVar(&opts.MaxThrottleWait, "max-throttle-wait", bulk.DefaultMaxThrottleWait, "longest pause of the whole job when Alexa throttles it; a longer Retry-After stops the job (0: stop at once)")
}

// MaxConcurrency bounds --concurrency of bulk and queue work: each item in
// flight holds a goroutine, a connection and buffers, and far beyond the
// API's rate limits more only costs memory.
const MaxConcurrency = 4096

// checkBulk checks the flags of a bulk command and reads the progress
// interval from the environment. Nothing is opened or sent.
func checkBulk(cmd *cobra.Command, f *Factory, opts *BulkOptions) error {
	switch {
	case opts.Input == "":
		return usagef("--input: is required: a JSONL file, or - for standard input")
	case opts.Concurrency < 1 || opts.Concurrency > MaxConcurrency:
		return usagef("--concurrency: must be 1 to %d (got %d)", MaxConcurrency, opts.Concurrency)
	case opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0):
		return usagef("--rate: must be a number of requests per second, 0 for no cap (got %v)", opts.Rate)
	case opts.MaxThrottleWait < 0:
		return usagef("--max-throttle-wait: must be a duration such as 5m, 0 to stop at once (got %s)", opts.MaxThrottleWait)
	}
	interval, err := progressInterval(f.Getenv)
	if err != nil {
		return err
	}
	opts.ProgressInterval = interval
	opts.Timeout, opts.TimeoutGiven = f.timeout, f.timeoutGiven()
	return nil
}

// NewCmdBulkMessage returns bulk message; runF, when not nil, runs
// instead of runBulk.
func NewCmdBulkMessage(f *Factory, runF func(*BulkOptions) error) *cobra.Command {
	opts := &BulkOptions{IO: f.IO, Target: f.Target, Kind: bulk.KindMessage}
	cmd := &cobra.Command{
		Use:   "message --input FILE|- [--concurrency N] [--rate N] [--journal FILE] [--failures FILE] [--at-most-once]",
		Short: "Send one skill message per line of a JSONL file",
		Long: `Send one skill message per line of --input, each line
{"userId": "...", "data": {...}, "expiresAfterSeconds": N}: data defaults to
{} and expiresAfterSeconds to 3600. A message whose connection failed after
it was sent is sent again unless --at-most-once is given. See
"alexa-oos bulk --help" for the journal, the failures file, progress and
exit statuses.`,
		Example: `  alexa-oos bulk message --input examples/bulk/messages.jsonl
  alexa-oos bulk message --input users.jsonl --journal users.journal --failures failed.jsonl --rate 200`,
		Args: exactArgs(0, "no arguments (the input is --input FILE)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBulk(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBulk(cmd.Context(), opts)
		},
	}
	registerBulkFlags(cmd.Flags(), opts)
	cmd.Flags().BoolVar(&opts.AtMostOnce, "at-most-once", false, "never send a message again once it was sent without an answer: report its outcome unknown")
	return cmd
}

// NewCmdBulkProactive returns bulk proactive; runF, when not nil, runs
// instead of runBulk.
func NewCmdBulkProactive(f *Factory, runF func(*BulkOptions) error) *cobra.Command {
	opts := &BulkOptions{IO: f.IO, Target: f.Target, Kind: bulk.KindProactive}
	var stage string
	cmd := &cobra.Command{
		Use:   "proactive --input FILE|- [--stage development|live] [--concurrency N] [--rate N] [--journal FILE] [--failures FILE]",
		Short: "Send one proactive event per line of a JSONL file",
		Long: `Send one proactive event per line of --input, each line a Proactive Events
request body as "proactive send" takes it, on one line. A missing timestamp
and expiryTime are filled (now, one hour later); a missing referenceId is
derived from the line's content, so that a rerun sends the same ids and
Alexa refuses what it already has (counted already delivered) instead of
notifying twice. See "alexa-oos bulk --help" for the journal, the failures
file, progress and exit statuses.`,
		Example: `  alexa-oos bulk proactive --input examples/bulk/events.jsonl
  alexa-oos bulk proactive --stage live --input events.jsonl --journal events.journal`,
		Args: exactArgs(0, "no arguments (the input is --input FILE)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stage = parseStage(stage)
			if err := checkBulk(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBulk(cmd.Context(), opts)
		},
	}
	registerBulkFlags(cmd.Flags(), opts)
	stageFlag(cmd, &stage)
	return cmd
}

// bulkInput is the opened input of a job.
type bulkInput struct {
	r io.Reader
	// size is the size of a regular file, for the progress and ETA; 0
	// when unknown. The items are not counted: that would read the
	// input twice.
	size  int64
	close func()
}

// name is how messages call the input.
func (in *bulkInput) name(opts *BulkOptions) string {
	if opts.Input == "-" {
		return "standard input"
	}
	return opts.Input
}

// openBulkInput opens opts.Input; an empty file is refused.
func openBulkInput(opts *BulkOptions) (*bulkInput, error) {
	if opts.Input == "-" {
		return &bulkInput{r: opts.IO.In, close: func() {}}, nil
	}
	f, err := os.Open(opts.Input)
	if err != nil {
		return nil, usagef("--input: %v", err)
	}
	in := &bulkInput{r: f, close: func() { f.Close() }}
	fi, err := f.Stat()
	if err != nil {
		in.close()
		return nil, usagef("--input: %v", err)
	}
	if fi.IsDir() {
		in.close()
		return nil, usagef("--input: %s is a directory", opts.Input)
	}
	if fi.Mode().IsRegular() {
		in.size = fi.Size()
		if in.size == 0 {
			// A truncated export must not pass for a job well done.
			in.close()
			return nil, usagef("--input: %s is empty: nothing to send", opts.Input)
		}
	}
	return in, nil
}

// openJournal opens the --journal file, an error saying what to do when
// it belongs to another job.
func openJournal(opts *BulkOptions) (*bulk.Journal, error) {
	journal, err := bulk.OpenJournal(opts.Journal, opts.Kind, opts.Stage)
	if err != nil {
		e := usagef("--journal: %s", strings.TrimPrefix(err.Error(), "bulk: "))
		switch {
		case errors.Is(err, bulk.ErrJournalMismatch):
			e.hint = "give this job a journal of its own"
		case errors.Is(err, bulk.ErrJournalLocked):
			e.hint = "wait for the other job to end; two jobs on one journal would both send everything"
		}
		return nil, e
	}
	return journal, nil
}

// runBulk runs one bulk job: opens the files, sends, prints the summary
// and returns the error that sets the exit status.
func runBulk(ctx context.Context, opts *BulkOptions) error {
	t, err := opts.Target(false)
	if err != nil {
		return err
	}
	in, err := openBulkInput(opts)
	if err != nil {
		return err
	}
	defer in.close()
	if err := distinctFiles(opts); err != nil {
		return err
	}
	var journal *bulk.Journal
	if opts.Journal != "" {
		if journal, err = openJournal(opts); err != nil {
			return err
		}
		defer journal.Close()
	}
	var failures *bulk.FailureWriter
	if opts.Failures != "" {
		f, err := os.OpenFile(opts.Failures, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return usagef("--failures: %v", err)
		}
		defer f.Close()
		failures = bulk.NewFailureWriter(f)
	}
	hooks := newBulkHooks(opts)
	if hooks != nil {
		if err := hooks.open(opts); err != nil {
			return err
		}
		defer hooks.close()
	}
	t.connect("sending to the built-in emulator at %s", alexatest.Options{DiscardRecords: true})
	defer t.close()
	if journal != nil && journal.Resumed() {
		fmt.Fprintf(opts.IO.ErrOut, "alexa-oos: resumed: %d already delivered (journal %s)\n", journal.Loaded(), opts.Journal)
	}
	sum, err := sendBulk(ctx, opts, t, in, journal, failures, hooks)
	if journal != nil {
		if cerr := journal.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if sum == nil {
		return err
	}
	printBulkSummary(opts, sum, err, failures, t, hooks)
	if err == nil && sum.Complete && sum.Read == 0 {
		// Standard input, or a file of blank lines, with nothing in it.
		return usagef("--input: %s holds no line: nothing sent", in.name(opts))
	}
	return bulkOutcome(opts, sum, err)
}

// sendBulk sends the job's items, showing progress on stderr.
func sendBulk(ctx context.Context, opts *BulkOptions, t *target, in *bulkInput, journal *bulk.Journal, failures *bulk.FailureWriter, hooks bulkHooks) (*bulk.Summary, error) {
	prog := startProgress(opts.IO, in.size, opts.ProgressInterval)
	defer prog.close()
	maxThrottle := opts.MaxThrottleWait
	if maxThrottle == 0 {
		maxThrottle = -1 // the option's zero is its default; the flag's is "never pause"
	}
	bopts := bulk.Options{
		Concurrency:     opts.Concurrency,
		Rate:            opts.Rate,
		MaxThrottleWait: maxThrottle,
		AtMostOnce:      opts.AtMostOnce,
		Journal:         journal,
		Failures:        failures,
		Stage:           opts.Stage,
		OnResult: func(r bulk.Result) {
			prog.result(r)
			if msg := lineProblem(r); msg != "" {
				prog.println(fmt.Sprintf("alexa-oos: line %d: %s", r.Line, msg))
			}
		},
	}
	if hooks != nil {
		hooks.options(&bopts)
	}
	send := bulk.SendMessages
	switch opts.Kind {
	case bulk.KindProactive:
		send = bulk.SendEvents
	case bulk.KindDataStore:
		send = bulk.SendDataStore
	}
	ctx, cancel := bulkContext(ctx, opts)
	defer cancel(nil)
	sum, err := send(ctx, t.cfg, prog.reading(in.r), bopts)
	if errors.Is(context.Cause(ctx), errTimedOut) {
		err = errTimedOut
	}
	return sum, err
}

// printBulkSummary prints the summary of a job on stdout.
func printBulkSummary(opts *BulkOptions, sum *bulk.Summary, err error, failures *bulk.FailureWriter, t *target, hooks bulkHooks) {
	if opts.IO.JSON() {
		opts.IO.printJSON(sum)
		return
	}
	w := opts.IO.Out
	fmt.Fprintln(w, sum.String())
	if failures != nil && failures.Count() > 0 {
		fmt.Fprintf(w, "failures: %d written to %s\n", failures.Count(), opts.Failures)
	}
	if hooks != nil {
		hooks.summary(w, t.srv)
	} else if t.srv != nil {
		fmt.Fprintf(w, "emulator accepted %d\n", t.srv.Accepted())
	}
	switch {
	case err != nil || sum.Read == 0 || sum.Sent > 0 || !sum.AllDelivered():
	case sum.Skipped == sum.Read:
		fmt.Fprintf(w, "all %d items were already delivered (journal %s): nothing sent\n", sum.Read, opts.Journal)
	default:
		fmt.Fprintf(w, "all %d items were already delivered (%d already had by Alexa, %d in the journal): nothing new sent\n", sum.Read, sum.Duplicates, sum.Skipped)
	}
}

// bulkOutcome is the error that sets the exit status of a finished job:
// nil when every item was delivered. The summary is already printed, so
// the error is one line on stderr.
func bulkOutcome(opts *BulkOptions, sum *bulk.Summary, err error) error {
	rerun := "a rerun sends every item again (--journal FILE makes a job resumable)"
	if opts.Journal != "" {
		rerun = fmt.Sprintf("run the same command again (same --input and --journal %s) to send only the rest", opts.Journal)
	}
	if err != nil {
		ce := classify(err, opts.Timeout)
		msg := ce.msg
		code := ExitFailure
		var (
			thr  *bulk.ThrottleError
			stop *bulk.StopError
			ie   *alexa.InsecureURLError
		)
		switch {
		case errors.Is(err, errTimedOut):
			msg = fmt.Sprintf("timed out (--timeout %s)", opts.Timeout)
		case errors.Is(err, context.Canceled):
			msg = "interrupted"
		case errors.As(err, &thr):
			ce.kind = kindThrottled
			msg = fmt.Sprintf("job stopped at line %d: throttled: Alexa asked to wait %s (Retry-After)", thr.Line, thr.RetryAfter.Round(time.Second))
			if thr.Waited > 0 {
				msg += fmt.Sprintf(" after %s of pauses for that item", thr.Waited.Round(time.Second))
			}
			msg += fmt.Sprintf(", more than --max-throttle-wait %s; nothing was sent after the 429", opts.MaxThrottleWait)
			rerun = "send the rest later: " + rerun
		case errors.As(err, &stop):
			ce = classify(stop.Err, opts.Timeout)
			msg = fmt.Sprintf("job stopped at line %d: ", stop.Line)
			if errors.Is(stop.Err, lwa.ErrTokenUnavailable) {
				// The line was not sent, so not counted as read.
				ce.kind = kindToken
				msg = fmt.Sprintf("job stopped before sending line %d: no access token, every item would fail the same way: ", stop.Line)
			}
			msg += ce.msg
			if ce.hint != "" {
				msg += "; hint: " + ce.hint
			}
			if errors.As(err, &ie) {
				code = ExitUsage
			}
		default:
			msg = "job stopped: " + msg
			if ce.hint != "" {
				msg += "; hint: " + ce.hint
			}
		}
		return &cliError{code: code, kind: ce.kind, quiet: true, err: err,
			msg: fmt.Sprintf("%s: %d items delivered; %s", msg, sum.Delivered(), rerun)}
	}
	if sum.AllDelivered() {
		return nil
	}
	msg := fmt.Sprintf("%d of %d items not delivered", sum.Read-sum.Delivered(), sum.Read)
	if sum.Unknown > 0 {
		msg += fmt.Sprintf(", %d of them of unknown outcome (sent once, no answer)", sum.Unknown)
	}
	if opts.Failures != "" {
		msg += " (listed in " + opts.Failures + ")"
	}
	if !sum.Complete {
		msg += "; " + rerun
	}
	return &cliError{code: ExitFailure, kind: kindFailed, quiet: true, msg: msg}
}

// lineProblem is what is printed of a result that was not delivered; ""
// for a delivered one, or one cut short by the job's stop (counted in the
// summary, and sent again by a rerun).
func lineProblem(r bulk.Result) string {
	if r.Err == nil || r.Status.Delivered() || r.Reason() == "canceled" {
		return ""
	}
	if r.Status == bulk.Unknown {
		return "outcome unknown (sent, no answer; not sent again): " + classify(r.Err, 0).msg
	}
	var ve *alexa.ValidationError
	if errors.As(r.Err, &ve) {
		parts := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			parts[i] = v.String()
		}
		return strings.Join(parts, "; ")
	}
	return classify(r.Err, 0).msg
}

// errTimedOut ends a bulk job that ran past --timeout.
var errTimedOut = errors.New("timed out")

// bulkContext is the context of a bulk job: cmd's (ended by SIGINT and
// SIGTERM), cancelled with errTimedOut only when --timeout was given: the
// default timeout of a single call would cut a long job short.
//
// The timeout cancels rather than sets a deadline: a deadline makes the
// rate limiter fail at once every request it could not let through in
// time, and the job would burn through its input reporting them as
// failures instead of stopping and leaving them for a rerun.
func bulkContext(ctx context.Context, opts *BulkOptions) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if opts.TimeoutGiven && opts.Timeout > 0 {
		t := time.AfterFunc(opts.Timeout, func() { cancel(errTimedOut) })
		return ctx, func(cause error) {
			t.Stop()
			cancel(cause)
		}
	}
	return ctx, cancel
}

// distinctFiles refuses a journal or failures file that is the input or
// each other: opening it would destroy the other.
func distinctFiles(opts *BulkOptions) error {
	type named struct{ flag, name string }
	files := []named{{"--input", opts.Input}, {"--journal", opts.Journal}, {"--failures", opts.Failures}}
	for i, x := range files {
		for _, y := range files[i+1:] {
			if x.name == "" || y.name == "" || x.name == "-" || y.name == "-" {
				continue
			}
			if sameFile(x.name, y.name) {
				return usagef("%s and %s name the same file %s", x.flag, y.flag, y.name)
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}
