package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/datastore"
)

// writeJSONL writes lines to a new file in dir and returns its name.
func writeJSONL(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readLines returns the JSON lines of a file, decoded.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		out = append(out, m)
	}
	return out
}

// bulk datastore sends each line, queues for offline devices (listed in
// --queued), reports a device that is not the skill's and a bad line (in
// --failures), and a rerun with the journal and the fixed lines sends
// only those.
func TestBulkDataStore(t *testing.T) {
	t.Parallel()
	srv, vars := dsEmulator(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	ds := srv.DataStore()
	ds.AddDevice("u1", "d1")
	ds.AddDevice("u1", "d2")
	ds.AddDevice("u2", "d3")
	ds.SetOnline("d2", false)
	dir := t.TempDir()
	input := writeJSONL(t, dir, "in.jsonl",
		`{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "m", "content": {"home": 1}}]}`,
		`{"target": {"type": "DEVICES", "items": ["d3", "nope"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "n", "content": 2}]}`,
		`{"target": {"type": "USER", "id": "u2"}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo"}]}`,
		`{"target": {"type": "USER", "id": "u2"}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2099-01-01T00:00:00Z"}`,
	)
	journal, failures, queued := filepath.Join(dir, "j"), filepath.Join(dir, "failures.jsonl"), filepath.Join(dir, "queued.jsonl")
	start := time.Now()
	code, stdout, stderr := runIn(t, vars, "bulk", "datastore", "--input", input, "--journal", journal, "--failures", failures, "--queued", queued, "--attempt-delivery-until", "2h")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"read 4, delivered 2 (sent 2,", "failed 1, invalid 1", "queued 1 (a device offline", "INVALID_DEVICE 1", "failures: 2 written to", "queued: 1 written to " + queued} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, stdout)
		}
	}
	for _, want := range []string{"alexa-oos: line 2: datastore: 1 of 2 devices did not get the commands: nope INVALID_DEVICE", "alexa-oos: line 3: commands[0].key: is required for PUT_OBJECT", "2 of 4 items not delivered"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, stderr)
		}
	}

	// --queued lists line 1 with the id Alexa keeps trying d2 under.
	q := readLines(t, queued)
	if len(q) != 1 || q[0]["line"] != 1.0 {
		t.Fatalf("queued file %v", q)
	}
	ids, _ := q[0]["datastore"].(map[string]any)["queuedResultIds"].([]any)
	if len(ids) != 1 {
		t.Fatalf("queued file %v", q)
	}
	code, stdout, _ = runIn(t, vars, "datastore", "queue", ids[0].(string))
	if code != ExitOK || !strings.Contains(stdout, "d2  DEVICE_UNAVAILABLE") {
		t.Errorf("datastore queue of the listed id: exit %d\n%s", code, stdout)
	}
	// --attempt-delivery-until went to the lines without their own.
	calls := ds.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d commands calls, want 3", len(calls))
	}
	for _, c := range calls {
		at, err := datastore.ParseTime(c.Request.AttemptDeliveryUntil)
		switch c.Request.Commands[0].Type {
		case datastore.TypeClear:
			if c.Request.AttemptDeliveryUntil != "2099-01-01T00:00:00Z" {
				t.Errorf("a line's own attemptDeliveryUntil became %q", c.Request.AttemptDeliveryUntil)
			}
		default:
			if err != nil || at.Before(start.Add(2*time.Hour-time.Minute)) || at.After(time.Now().Add(2*time.Hour)) {
				t.Errorf("attemptDeliveryUntil %q, want two hours from now", c.Request.AttemptDeliveryUntil)
			}
		}
	}
	f := readLines(t, failures)
	if len(f) != 2 || f[0]["reason"] == f[1]["reason"] {
		t.Fatalf("failures %v", f)
	}

	// The fixed lines, fed back with the journal: only they are sent.
	fixed := writeJSONL(t, dir, "fixed.jsonl",
		`{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "m", "content": {"home": 1}}]}`,
		`{"target": {"type": "DEVICES", "items": ["d3"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "n", "content": 2}]}`,
		`{"target": {"type": "USER", "id": "u2"}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "k", "content": 3}]}`,
	)
	code, stdout, stderr = runIn(t, vars, "-o", "json", "bulk", "datastore", "--input", fixed, "--journal", journal)
	var sum bulk.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != ExitOK {
		t.Fatalf("rerun: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if sum.Kind != bulk.KindDataStore || sum.Skipped != 1 || sum.Sent != 2 || !sum.Resumed {
		t.Errorf("rerun summary %+v", sum)
	}
	if n := len(ds.Calls()); n != 5 {
		t.Errorf("%d commands calls in all, want 5", n)
	}
	n, _ := ds.Object("d3", "todo", "n")
	k, _ := ds.Object("d3", "todo", "k")
	if string(n) != "2" || string(k) != "3" {
		t.Errorf("d3 stores n %s, k %s", n, k)
	}
}

// By default the job keeps to Alexa's 25 writes per second, which the
// emulator enforces, and is never throttled; --rate 0 removes the cap.
func TestBulkDataStoreRate(t *testing.T) {
	t.Parallel()
	clears := func(n int) string {
		var lines []string
		for i := range n {
			lines = append(lines, fmt.Sprintf(`{"target": {"type": "USER", "id": "u%d"}, "commands": [{"type": "CLEAR"}]}`, i))
		}
		return writeJSONL(t, t.TempDir(), "in.jsonl", lines...)
	}

	_, vars := dsEmulator(t, alexatest.Options{})
	code, stdout, stderr := runIn(t, vars, "-o", "json", "bulk", "datastore", "--input", clears(30))
	var sum bulk.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != ExitOK || sum.Sent != 30 {
		t.Fatalf("exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if sum.Throttled != 0 {
		t.Errorf("throttled %d times at the default rate", sum.Throttled)
	}

	// An emulator taking 10 per second with a burst of 10: 30 calls without
	// a cap are throttled unless they took more than 2 seconds.
	_, vars = dsEmulator(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{WritesPerSecond: 10}})
	code, stdout, stderr = runIn(t, vars, "-o", "json", "bulk", "datastore", "--input", clears(30), "--rate", "0")
	sum = bulk.Summary{}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != ExitOK || sum.Sent != 30 || sum.Throttled == 0 {
		t.Errorf("--rate 0: exit %d %v, summary %+v\n%s", code, err, sum, stderr)
	}

	code, stdout, _ = runIn(t, nil, "bulk", "datastore", "--help")
	if code != ExitOK || !strings.Contains(stdout, "(default 25)") {
		t.Errorf("--help does not show the default rate:\n%s", stdout)
	}
}

// Without credentials the example file goes to the built-in emulator.
func TestBulkDataStoreEmbedded(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runIn(t, nil, "bulk", "datastore", "--input", filepath.Join("..", "..", "..", "..", "examples", "bulk", "datastore.jsonl"))
	if code != ExitOK || !strings.Contains(stderr, "sending to the built-in emulator") || !strings.Contains(stdout, "read 5, delivered 5 (sent 5,") || !strings.Contains(stdout, "emulator devices: 6, 0 of them offline") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestBulkDataStoreUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := writeJSONL(t, dir, "in.jsonl", `{"target": {"type": "USER", "id": "u"}, "commands": [{"type": "CLEAR"}]}`)
	msgJournal := filepath.Join(dir, "messages.journal")
	j, err := bulk.OpenJournal(msgJournal, bulk.KindMessage, "")
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	srv, vars := dsEmulator(t, alexatest.Options{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--queued", input}, "--input and --queued name the same file"},
		{[]string{"--attempt-delivery-until", "soon"}, "--attempt-delivery-until: must be a time"},
		{[]string{"--journal", msgJournal}, "journal belongs to another kind of job"},
		{[]string{"--rate", "-1"}, "--rate"},
	} {
		code, _, stderr := runIn(t, vars, append([]string{"bulk", "datastore", "--input", input}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", tt.args, code, tt.want, stderr)
		}
	}
	if n := srv.Calls(datastore.PathCommands); n != 0 {
		t.Errorf("%d calls made by refused commands", n)
	}
}
