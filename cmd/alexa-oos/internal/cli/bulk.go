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
cannot be reached stops the job too: every item would fail the same way.

A line that is not JSON or breaks the API's rules is reported on stderr as
"alexa-oos: line N: reason", and so is an item the API refused; the rest go
on. --failures FILE receives each of them as one JSON line
({"line","status","reason","error","input"}), so that they can be fixed and
fed back: jq -c .input FILE > retry.jsonl.

--journal FILE makes a job resumable: every item the API acknowledged is
recorded durably, by its content. Run the command again after a crash, a
kill -9 or Ctrl-C, with the same journal, and only what was not acknowledged
is sent, even if the input was edited, reordered or replaced in between (at
most --concurrency items in flight at the kill can go twice; proactive
events keep their referenceId, so Alexa refuses the second copy). The
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

Progress goes to stderr: a progress bar on a terminal (done, rate, failures,
ETA when --input is a file), else a line every 5 seconds (set
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

func (a *app) bulkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bulk",
		Short: "Send skill messages, proactive events or DataStore commands in bulk, from JSON lines",
		Long:  bulkLong,
	}
	cmd.AddCommand(a.bulkMessageCommand(), a.bulkProactiveCommand(), a.bulkDataStoreCommand())
	return group(cmd)
}

// bulkFlags are the flags of both bulk commands.
type bulkFlags struct {
	input       string
	journal     string
	failures    string
	concurrency int
	rate        float64
	maxThrottle time.Duration
	atMostOnce  bool
	hooks       bulkHooks // the kind's own flags, if any
}

func (bf *bulkFlags) register(f *pflag.FlagSet) {
	f.StringVar(&bf.input, "input", "", "JSONL file, one item per line (- for stdin; required)")
	f.IntVar(&bf.concurrency, "concurrency", bulk.DefaultConcurrency, "items in flight at most")
	f.Float64Var(&bf.rate, "rate", 0, "requests per second across all workers, retries included (0: no cap)")
	f.StringVar(&bf.journal, "journal", "", "journal file: record delivered items, skip those already recorded")
	f.StringVar(&bf.failures, "failures", "", "write every item not delivered to this file, as JSON lines")
	f.DurationVar(&bf.maxThrottle, "max-throttle-wait", bulk.DefaultMaxThrottleWait, "longest pause of the whole job when Alexa throttles it; a longer Retry-After stops the job (0: stop at once)")
}

func (a *app) bulkMessageCommand() *cobra.Command {
	var bf bulkFlags
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			return a.runBulk(cmd, bulk.KindMessage, "", &bf, bulk.SendMessages)
		}),
	}
	bf.register(cmd.Flags())
	cmd.Flags().BoolVar(&bf.atMostOnce, "at-most-once", false, "never send a message again once it was sent without an answer: report its outcome unknown")
	return cmd
}

func (a *app) bulkProactiveCommand() *cobra.Command {
	var bf bulkFlags
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
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			st, err := proactive.ParseStage(stage)
			if err != nil {
				return usagef("--%v", err)
			}
			return a.runBulk(cmd, bulk.KindProactive, st, &bf, bulk.SendEvents)
		}),
	}
	bf.register(cmd.Flags())
	cmd.Flags().StringVar(&stage, "stage", "development", "skill stage: development or live")
	return cmd
}

// sendFunc is bulk.SendMessages or bulk.SendEvents.
type sendFunc func(context.Context, alexa.Config, io.Reader, bulk.Options) (*bulk.Summary, error)

// runBulk runs one bulk job: checks, opens the files, sends, prints the
// summary and returns the error that sets the exit status.
func (a *app) runBulk(cmd *cobra.Command, kind bulk.Kind, stage proactive.Stage, bf *bulkFlags, send sendFunc) error {
	switch {
	case bf.input == "":
		return usagef("%s: --input FILE is required (a JSONL file, or - for standard input)", cmd.CommandPath())
	case bf.concurrency < 1:
		return usagef("--concurrency: must be at least 1 (got %d)", bf.concurrency)
	case bf.rate < 0 || math.IsNaN(bf.rate) || math.IsInf(bf.rate, 0):
		return usagef("--rate: must be a number of requests per second, 0 for no cap (got %v)", bf.rate)
	case bf.maxThrottle < 0:
		return usagef("--max-throttle-wait: must be a duration such as 5m, 0 to stop at once (got %s)", bf.maxThrottle)
	}
	interval, err := a.progressInterval()
	if err != nil {
		return err
	}
	t, err := a.resolve(false)
	if err != nil {
		return err
	}

	// The input, and whether it is a regular file whose items can be
	// counted for the ETA.
	var (
		input   io.Reader
		file    *os.File
		counted bool
	)
	if bf.input == "-" {
		input = a.env.Stdin
	} else {
		f, err := os.Open(bf.input)
		if err != nil {
			return usagef("--input: %v", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return usagef("--input: %v", err)
		}
		if fi.IsDir() {
			return usagef("--input: %s is a directory", bf.input)
		}
		input, file, counted = f, f, fi.Mode().IsRegular()
	}
	if err := distinctFiles(bf); err != nil {
		return err
	}

	var journal *bulk.Journal
	if bf.journal != "" {
		journal, err = bulk.OpenJournal(bf.journal, kind, stage)
		if err != nil {
			e := usagef("--journal: %s", strings.TrimPrefix(err.Error(), "bulk: "))
			switch {
			case errors.Is(err, bulk.ErrJournalMismatch):
				e.hint = "give this job a journal of its own"
			case errors.Is(err, bulk.ErrJournalLocked):
				e.hint = "wait for the other job to end; two jobs on one journal would both send everything"
			}
			return e
		}
		defer journal.Close()
	}
	var failures *bulk.FailureWriter
	if bf.failures != "" {
		f, err := os.OpenFile(bf.failures, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return usagef("--failures: %v", err)
		}
		defer f.Close()
		failures = bulk.NewFailureWriter(f)
	}
	if bf.hooks != nil {
		if err := bf.hooks.open(a, bf); err != nil {
			return err
		}
		defer bf.hooks.close()
	}

	var total int64
	if counted {
		if total, err = countItems(file); err != nil {
			return usagef("--input: %v", err)
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return usagef("--input: %v", err)
		}
	}

	a.connectWith(t, "sending to the built-in emulator at %s", alexatest.Options{DiscardRecords: true})
	defer t.close()
	if journal != nil && journal.Resumed() {
		fmt.Fprintf(a.env.Stderr, "alexa-oos: resumed: %d already delivered (journal %s)\n", journal.Loaded(), bf.journal)
	}

	prog := a.startProgress(total, interval)
	defer prog.close()
	maxThrottle := bf.maxThrottle
	if maxThrottle == 0 {
		maxThrottle = -1 // the option's zero is its default; the flag's is "never pause"
	}
	opts := bulk.Options{
		Concurrency:     bf.concurrency,
		Rate:            bf.rate,
		MaxThrottleWait: maxThrottle,
		AtMostOnce:      bf.atMostOnce,
		Journal:         journal,
		Failures:        failures,
		Stage:           stage,
		OnResult: func(r bulk.Result) {
			prog.result(r)
			if msg := a.lineProblem(r); msg != "" {
				prog.println(fmt.Sprintf("alexa-oos: line %d: %s", r.Line, msg))
			}
		},
	}
	if bf.hooks != nil {
		bf.hooks.options(&opts)
	}
	ctx, cancel := a.bulkContext(cmd)
	defer cancel(nil)
	sum, err := send(ctx, t.cfg, input, opts)
	if errors.Is(context.Cause(ctx), errTimedOut) {
		err = errTimedOut
	}
	prog.close()
	if journal != nil {
		if cerr := journal.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if sum == nil {
		return err
	}

	if a.json() {
		a.printJSON(sum)
	} else {
		w := a.env.Stdout
		fmt.Fprintln(w, sum.String())
		if failures != nil && failures.Count() > 0 {
			fmt.Fprintf(w, "failures: %d written to %s\n", failures.Count(), bf.failures)
		}
		if bf.hooks != nil {
			bf.hooks.summary(w, t.srv)
		} else if t.srv != nil {
			fmt.Fprintf(w, "emulator accepted %d\n", t.srv.Accepted())
		}
		switch {
		case err != nil || sum.Read == 0 || sum.Sent > 0 || !sum.AllDelivered():
		case sum.Skipped == sum.Read:
			fmt.Fprintf(w, "all %d items were already delivered (journal %s): nothing sent\n", sum.Read, bf.journal)
		default:
			fmt.Fprintf(w, "all %d items were already delivered (%d already had by Alexa, %d in the journal): nothing new sent\n", sum.Read, sum.Duplicates, sum.Skipped)
		}
	}
	return a.bulkOutcome(sum, err, bf)
}

// bulkOutcome is the error that sets the exit status of a finished job:
// nil when every item was delivered. The summary is already printed, so
// the error is one line on stderr.
func (a *app) bulkOutcome(sum *bulk.Summary, err error, bf *bulkFlags) error {
	rerun := "a rerun sends every item again (--journal FILE makes a job resumable)"
	if bf.journal != "" {
		rerun = fmt.Sprintf("run the same command again (same --input and --journal %s) to send only the rest", bf.journal)
	}
	if err != nil {
		ce := a.classify(err)
		msg := ce.msg
		code := ExitFailure
		var (
			thr  *bulk.ThrottleError
			stop *bulk.StopError
			ie   *alexa.InsecureURLError
		)
		switch {
		case errors.Is(err, errTimedOut):
			msg = fmt.Sprintf("timed out (--timeout %s)", a.timeout)
		case errors.Is(err, context.Canceled):
			msg = "interrupted"
		case errors.As(err, &thr):
			ce.kind = kindThrottled
			msg = fmt.Sprintf("job stopped at line %d: throttled: Alexa asked to wait %s (Retry-After)", thr.Line, thr.RetryAfter.Round(time.Second))
			if thr.Waited > 0 {
				msg += fmt.Sprintf(" after %s of pauses for that item", thr.Waited.Round(time.Second))
			}
			msg += fmt.Sprintf(", more than --max-throttle-wait %s; nothing was sent after the 429", bf.maxThrottle)
			rerun = "send the rest later: " + rerun
		case errors.As(err, &stop):
			ce = a.classify(stop.Err)
			if bf.hooks != nil {
				ce = bf.hooks.classify(a, stop.Err)
			}
			msg = fmt.Sprintf("job stopped at line %d: ", stop.Line)
			if errors.Is(stop.Err, lwa.ErrTokenUnavailable) {
				ce.kind = kindToken
				msg += "no access token, every item would fail the same way: "
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
	if bf.failures != "" {
		msg += " (listed in " + bf.failures + ")"
	}
	if !sum.Complete {
		msg += "; " + rerun
	}
	return &cliError{code: ExitFailure, kind: kindFailed, quiet: true, msg: msg}
}

// lineProblem is what is printed of a result that was not delivered; ""
// for a delivered one, or one cut short by the job's stop (counted in the
// summary, and sent again by a rerun).
func (a *app) lineProblem(r bulk.Result) string {
	if r.Err == nil || r.Status.Delivered() || r.Reason() == "canceled" {
		return ""
	}
	if r.Status == bulk.Unknown {
		return "outcome unknown (sent, no answer; not sent again): " + a.classify(r.Err).msg
	}
	var ve *alexa.ValidationError
	if errors.As(r.Err, &ve) {
		parts := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			parts[i] = v.String()
		}
		return strings.Join(parts, "; ")
	}
	return a.classify(r.Err).msg
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
func (a *app) bulkContext(cmd *cobra.Command) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(cmd.Context())
	if a.flags.Changed("timeout") && a.timeout > 0 {
		t := time.AfterFunc(a.timeout, func() { cancel(errTimedOut) })
		return ctx, func(cause error) {
			t.Stop()
			cancel(cause)
		}
	}
	return ctx, cancel
}

// distinctFiles refuses a journal or failures file that is the input or
// each other: opening it would destroy the other.
func distinctFiles(bf *bulkFlags) error {
	type named struct{ flag, name string }
	files := []named{{"--input", bf.input}, {"--journal", bf.journal}, {"--failures", bf.failures}}
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
