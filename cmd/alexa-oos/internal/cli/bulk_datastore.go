package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/spf13/cobra"
)

// bulkHooks adds a kind's own flags to the steps runBulk takes for every
// kind. Nil for skill messages and proactive events.
type bulkHooks interface {
	// open checks the kind's flags and opens its files: after the shared
	// ones, before anything is sent.
	open(opts *BulkOptions) error
	// options sets the kind's options.
	options(opts *bulk.Options)
	// summary prints the kind's lines after the text summary; srv is the
	// embedded emulator, or nil.
	summary(w io.Writer, srv *alexatest.Server)
	// close closes the kind's files.
	close()
}

// newBulkHooks returns the hooks of the kind of job opts runs, or nil.
func newBulkHooks(opts *BulkOptions) bulkHooks {
	if opts.Kind == bulk.KindDataStore {
		return &bulkDataStore{queuedPath: opts.Queued, until: opts.AttemptDeliveryUntil}
	}
	return nil
}

// bulkDataStore is what "bulk datastore" adds to the steps of a job.
type bulkDataStore struct {
	queuedPath string
	until      string
	at         time.Time

	// The --queued file: one line per item with devices queued.
	mu       sync.Mutex
	queued   *os.File
	nQueued  int
	writeErr error
}

// NewCmdBulkDataStore returns bulk datastore; runF, when not nil, runs
// instead of runBulk.
func NewCmdBulkDataStore(f *Factory, runF func(*BulkOptions) error) *cobra.Command {
	opts := &BulkOptions{IO: f.IO, Target: f.Target, Kind: bulk.KindDataStore}
	cmd := &cobra.Command{
		Use:   "datastore --input FILE|- [--rate N] [--concurrency N] [--journal FILE] [--failures FILE] [--queued FILE] [--attempt-delivery-until T]",
		Short: "Send one DataStore commands call per line of a JSONL file",
		Long: `Send one DataStore commands call per line of --input: a target and the
commands every device of it runs in order, as "datastore put", "remove" and
"clear" send them, on one line:

  {"target": {"type": "USER", "id": "USER_ID"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match-42", "content": {"home": 2}}]}
  {"target": {"type": "DEVICES", "items": ["DEVICE_ID", ...]}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2026-11-25T18:30:00Z"}

Commands are PUT_NAMESPACE {namespace}, PUT_OBJECT {namespace, key,
content}, REMOVE_NAMESPACE {namespace}, REMOVE_OBJECT {namespace, key} and
CLEAR {}. --attempt-delivery-until (a time, or a duration from now such as
2h) is given to the lines without an attemptDeliveryUntil of their own.

The job sends at most 25 calls per second by default (--rate), Alexa's
documented DataStore write limit; --rate 0 removes the cap.

A line counts as delivered when every device of its target got the
commands or has them queued because it is offline: Alexa keeps trying it
until attemptDeliveryUntil. --queued FILE receives each such line's result
as one JSON line, with its queuedResultIds, to follow with "alexa-oos
datastore queue ID" or stop with "datastore cancel ID". A device answered
CONCURRENCY_ERROR or INTERNAL_ERROR is sent the commands again, alone. A
line with a device still failing, or failing otherwise (INVALID_DEVICE,
DEVICE_PERMANENTLY_UNAVAILABLE, PENDING_REQUEST_COUNT_EXCEEDS_LIMIT), is not
delivered: it goes to the failures file, and a rerun sends it to all its
devices again (harmless: each command sets a state). A skill without
DataStore support (403 DATASTORE_SUPPORT_REQUIRED) stops the job.

See "alexa-oos bulk --help" for the journal, the failures file, progress and
exit statuses.`,
		Example: `  alexa-oos bulk datastore --input examples/bulk/datastore.jsonl
  alexa-oos bulk datastore --input scores.jsonl --journal scores.journal --failures failed.jsonl --queued queued.jsonl --attempt-delivery-until 2h`,
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
	fs := cmd.Flags()
	registerBulkFlags(fs, opts)
	// Alexa's documented write limit, not the other kinds' "no cap".
	opts.Rate = bulk.DefaultDataStoreRate
	rate := fs.Lookup("rate")
	rate.DefValue = strconv.FormatFloat(bulk.DefaultDataStoreRate, 'g', -1, 64)
	rate.Usage = "commands calls per second across all workers, retries included (0: no cap); 25 is Alexa's documented DataStore write limit"
	fs.StringVar(&opts.Queued, "queued", "", "write the result of every line with devices queued (offline) to this file, as JSON lines")
	fs.StringVar(&opts.AttemptDeliveryUntil, "attempt-delivery-until", "", "for lines without one: keep trying offline devices until this time (RFC 3339) or for this long (2h)")
	return cmd
}

func (ds *bulkDataStore) open(opts *BulkOptions) error {
	if ds.until != "" {
		at, err := parseUntil(ds.until, time.Now())
		if err != nil {
			return usagef("--attempt-delivery-until: %v", err)
		}
		ds.at = at
	}
	if ds.queuedPath == "" {
		return nil
	}
	for _, o := range []struct{ flag, name string }{{"--input", opts.Input}, {"--journal", opts.Journal}, {"--failures", opts.Failures}} {
		if o.name != "" && o.name != "-" && sameFile(o.name, ds.queuedPath) {
			return usagef("%s and --queued name the same file %s", o.flag, ds.queuedPath)
		}
	}
	f, err := os.OpenFile(ds.queuedPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return usagef("--queued: %v", err)
	}
	ds.queued = f
	return nil
}

func (ds *bulkDataStore) options(opts *bulk.Options) {
	if opts.Rate == 0 {
		opts.Rate = math.Inf(1) // the flag's 0 is "no cap"; the option's is 25/s
	}
	opts.DataStore.AttemptDeliveryUntil = ds.at
	if ds.queued == nil {
		return
	}
	next := opts.OnResult
	opts.OnResult = func(r bulk.Result) {
		if r.Status == bulk.Sent && r.DataStore != nil && len(r.DataStore.QueuedResultIDs) > 0 {
			ds.write(r)
		}
		if next != nil {
			next(r)
		}
	}
}

// write appends r to the --queued file, in one Write so that a killed job
// leaves whole lines.
func (ds *bulkDataStore) write(r bulk.Result) {
	b, err := json.Marshal(r)
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if err == nil {
		_, err = ds.queued.Write(append(b, '\n'))
	}
	if err != nil {
		if ds.writeErr == nil {
			ds.writeErr = err
		}
		return
	}
	ds.nQueued++
}

func (ds *bulkDataStore) summary(w io.Writer, srv *alexatest.Server) {
	ds.mu.Lock()
	n, werr := ds.nQueued, ds.writeErr
	ds.mu.Unlock()
	if n > 0 {
		fmt.Fprintf(w, "queued: %d written to %s (follow with \"alexa-oos datastore queue ID\")\n", n, ds.queuedPath)
	}
	if werr != nil {
		fmt.Fprintf(w, "queued: writing %s failed: %v\n", ds.queuedPath, werr)
	}
	if srv != nil {
		devices := srv.DataStore().Devices()
		offline := 0
		for _, d := range devices {
			if !d.Online {
				offline++
			}
		}
		fmt.Fprintf(w, "emulator devices: %d, %d of them offline\n", len(devices), offline)
	}
}

func (ds *bulkDataStore) close() {
	if ds.queued != nil {
		ds.queued.Close()
	}
}
