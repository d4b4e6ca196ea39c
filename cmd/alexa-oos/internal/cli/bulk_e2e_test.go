package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
)

// writeLines writes lines, one per line, to a new file and returns its name.
func writeLines(t *testing.T, name string, lines []string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func userN(prefix string, i int) string { return fmt.Sprintf("amzn1.ask.account.%s%05d", prefix, i) }

// messageLines returns n message lines, line i (from 1) to userN(prefix, i).
func messageLines(prefix string, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"userId": %q, "data": {"n": %d}}`, userN(prefix, i+1), i+1)
	}
	return lines
}

// eventLines returns n unicast MessageAlert events without timestamps or
// ids, line i (from 1) to userN(prefix, i).
func eventLines(prefix string, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"event": {"name": "AMAZON.MessageAlert.Activated", "payload": {"state": {"status": "UNREAD", "freshness": "NEW"}, "messageGroup": {"creator": {"name": "Andy"}, "count": %d}}}, "localizedAttributes": [{"locale": "en-US"}], "relevantAudience": {"type": "Unicast", "payload": {"user": %q}}}`, i+1, userN(prefix, i+1))
	}
	return lines
}

// perUser counts the emulator's messages by user.
func perUser(srv *alexatest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.UserID]++
	}
	return got
}

// bulkConcurrency is the default --concurrency.
const bulkConcurrency = 16

func TestBulkMessageBadLines(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	lines := messageLines("M", 200)
	lines[2] = `{"userId": "amzn1.ask.account.BAD3", "data": {` // not JSON
	lines[6] = fmt.Sprintf(`{"userId": %q, "data": {}, "expiresAfterSeconds": 5}`, userN("M", 7))
	input := writeLines(t, "messages.jsonl", lines)
	failures := filepath.Join(t.TempDir(), "failures.jsonl")

	r := run(t, emulatorEnv(srv), "", "bulk", "message", "--input", input, "--failures", failures)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	for _, want := range []string{"alexa-oos: line 3: ", "alexa-oos: line 7: expiresAfterSeconds: must be 60 to 86400 (got 5)", "2 of 200 items not delivered"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, r)
		}
	}
	for _, want := range []string{"read 200, delivered 198 (sent 198, already delivered 0, skipped 0), failed 0, invalid 2", "not delivered by reason: invalid 2", "failures: 2 written to " + failures} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r)
		}
	}

	b, err := os.ReadFile(failures)
	if err != nil {
		t.Fatal(err)
	}
	recs := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var got []int
	for _, rec := range recs {
		var f struct {
			Line   int
			Status string
			Reason string
			Input  json.RawMessage
		}
		if err := json.Unmarshal([]byte(rec), &f); err != nil {
			t.Fatalf("failures line %q: %v", rec, err)
		}
		if f.Status != "invalid" || f.Reason != "invalid" || len(f.Input) == 0 {
			t.Errorf("failures record %s", rec)
		}
		got = append(got, f.Line)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{3, 7}) {
		t.Errorf("failures file holds lines %v, want [3 7]:\n%s", got, b)
	}

	users := perUser(srv)
	if len(srv.Messages()) != 198 || len(users) != 198 {
		t.Errorf("emulator got %d messages for %d users, want 198 once each", len(srv.Messages()), len(users))
	}
	for i := 1; i <= 200; i++ {
		want := 1
		if i == 3 || i == 7 {
			want = 0
		}
		if n := users[userN("M", i)]; n != want {
			t.Errorf("user of line %d got %d messages, want %d", i, n, want)
		}
	}
}

func TestBulkProactiveJournal(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	input := writeLines(t, "events.jsonl", eventLines("P", 25))
	journal := filepath.Join(t.TempDir(), "events.journal")

	r := run(t, env, "", "bulk", "proactive", "--input", input, "--journal", journal)
	if r.code != 0 {
		t.Fatalf("first run: %s", r)
	}
	evs := srv.Events()
	if len(evs) != 25 {
		t.Fatalf("emulator got %d events, want 25", len(evs))
	}
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.Request.ReferenceID] = true
		if ev.Request.Timestamp.IsZero() || ev.Request.ExpiryTime.IsZero() {
			t.Errorf("event to %s lacks its timestamp or expiryTime", ev.Audience)
		}
	}
	if len(ids) != 25 {
		t.Errorf("%d distinct referenceIds, want 25", len(ids))
	}
	if !strings.Contains(r.stdout, "read 25, delivered 25 (sent 25,") {
		t.Errorf("first run summary\n%s", r)
	}

	r = run(t, env, "", "bulk", "proactive", "--input", input, "--journal", journal)
	if r.code != 0 {
		t.Fatalf("second run: %s", r)
	}
	if n := len(srv.Events()); n != 25 {
		t.Errorf("the rerun sent %d new events, want 0", n-25)
	}
	if !strings.Contains(r.stdout, "all 25 items were already delivered") || !strings.Contains(r.stdout, "skipped 25") {
		t.Errorf("second run output\n%s", r)
	}
	if !strings.Contains(r.stderr, "alexa-oos: resumed: 25 already delivered") {
		t.Errorf("second run stderr\n%s", r)
	}

	// Without the journal, and in another order, the derived referenceIds
	// make Alexa refuse the events it already has (409): they count as
	// already delivered.
	lines := eventLines("P", 25)
	slices.Reverse(lines)
	r = run(t, env, strings.Join(lines, "\n"), "bulk", "proactive", "--input", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "read 25, delivered 25 (sent 0, already delivered 25, skipped 0), failed 0") ||
		!strings.Contains(r.stdout, "all 25 items were already delivered (25 already had by Alexa, 0 in the journal)") || len(srv.Events()) != 25 {
		t.Errorf("a rerun without the journal: want exit 0 and 25 already delivered\n%s", r)
	}
}

func TestBulkStdinJSON(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	stdin := strings.Join(messageLines("S", 10), "\n\n") // blank lines are not items
	r := run(t, emulatorEnv(srv), stdin, "-o", "json", "bulk", "message", "--input", "-")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var sum struct {
		Kind         string
		Read, Sent   int
		Complete     bool
		AllDelivered bool
		Rate         *float64
		Reasons      map[string]int
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r)
	}
	if !sum.AllDelivered || !sum.Complete || sum.Read != 10 || sum.Sent != 10 || sum.Kind != "message" || sum.Rate == nil {
		t.Errorf("summary %+v", sum)
	}
	if len(srv.Messages()) != 10 {
		t.Errorf("emulator got %d messages, want 10", len(srv.Messages()))
	}
}

func TestBulkUsage(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	messages := writeLines(t, "messages.jsonl", messageLines("U", 3))
	events := writeLines(t, "events.jsonl", eventLines("U", 3))
	messageJournal := filepath.Join(t.TempDir(), "messages.journal")
	if r := run(t, env, "", "bulk", "message", "--input", messages, "--journal", messageJournal); r.code != 0 {
		t.Fatalf("%s", r)
	}
	liveJournal := filepath.Join(t.TempDir(), "live.journal")
	if r := run(t, env, "", "bulk", "proactive", "--stage", "live", "--input", events, "--journal", liveJournal); r.code != 0 {
		t.Fatalf("%s", r)
	}
	oldJournal := writeLines(t, "v1.journal", []string{`{"journal":"alexa-oos bulk journal","version":1,"kind":"message"}`, "1", "1000000000000"})
	damaged := writeLines(t, "damaged.journal", []string{`{"journal":"alexa-oos bulk journal","version":2,"kind":"message"}`, "1e17", strings.Repeat("0", 32)})
	emptyFile := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(emptyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	blankFile := filepath.Join(t.TempDir(), "blank.jsonl")
	if err := os.WriteFile(blankFile, []byte("\n  \n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := srv.Accepted()
	tokens := len(srv.TokenRequests())

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing input", []string{"bulk", "message"}, "--input: is required"},
		{"missing input file", []string{"bulk", "message", "--input", "no/such.jsonl"}, "no such file"},
		{"empty input file", []string{"bulk", "message", "--input", emptyFile}, "is empty: nothing to send"},
		{"blank lines only", []string{"bulk", "proactive", "--input", blankFile}, "holds no line: nothing sent"},
		{"empty standard input", []string{"bulk", "message", "--input", "-"}, "standard input holds no line: nothing sent"},
		{"input is a directory", []string{"bulk", "message", "--input", filepath.Join(repoRoot, "examples")}, "is a directory"},
		{"journal of another kind", []string{"bulk", "proactive", "--input", events, "--journal", messageJournal}, "journal belongs to another kind of job"},
		{"journal of another stage", []string{"bulk", "proactive", "--input", events, "--journal", liveJournal}, "is for bulk proactive (stage LIVE)"},
		{"journal is not one", []string{"bulk", "message", "--input", messages, "--journal", events}, "is not a bulk journal"},
		{"journal of version 1", []string{"bulk", "message", "--input", messages, "--journal", oldJournal}, "format version 1"},
		{"journal damaged", []string{"bulk", "message", "--input", messages, "--journal", damaged}, `line 2 is not a journal record (want 32 hex digits, got "1e17")`},
		{"negative max throttle wait", []string{"bulk", "message", "--input", messages, "--max-throttle-wait", "-1s"}, "--max-throttle-wait"},
		{"failures file is the input", []string{"bulk", "message", "--input", messages, "--failures", messages}, "name the same file"},
		{"bad concurrency", []string{"bulk", "message", "--input", messages, "--concurrency", "0"}, "--concurrency"},
		{"negative rate", []string{"bulk", "message", "--input", messages, "--rate", "-1"}, "--rate"},
		{"rate not a number", []string{"bulk", "message", "--input", messages, "--rate", "fast"}, "--rate"},
		{"bad stage", []string{"bulk", "proactive", "--input", events, "--stage", "prod"}, "--stage"},
		{"argument", []string{"bulk", "message", messages}, "no arguments"},
		{"unknown bulk command", []string{"bulk", "messages"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, env, "", tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\n%s", r.code, r)
			}
			if !strings.HasPrefix(r.stderr, "alexa-oos: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q\n%s", tt.want, r)
			}
		})
	}
	if srv.Accepted() != before || len(srv.TokenRequests()) != tokens {
		t.Errorf("usage errors sent %d items and %d token requests", srv.Accepted()-before, len(srv.TokenRequests())-tokens)
	}
	if b, err := os.ReadFile(messages); err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("the input was damaged: %v\n%s", err, b)
	}
}

func TestBulkProgressLine(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	// A line every 50ms, for jobs that last at least 150ms.
	env["ALEXA_OOS_PROGRESS_INTERVAL"] = "50ms"
	input := writeLines(t, "messages.jsonl", append(messageLines("G", 75), "", "  ")) // trailing blank lines are not items
	r := run(t, env, "", "bulk", "message", "--input", input, "--rate", "200")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	line := regexp.MustCompile(`(?m)^alexa-oos: \d+ done \(\d+ delivered, \d+ failed\), \d+/s, \d+% done(, ETA \S+)?$`)
	if !line.MatchString(r.stderr) {
		t.Errorf("no progress line on stderr\n%s", r)
	}

	// Standard input has no total.
	r = run(t, env, strings.Join(messageLines("H", 30), "\n"), "bulk", "message", "--input", "-", "--rate", "200")
	line = regexp.MustCompile(`(?m)^alexa-oos: \d+ done \(\d+ delivered, \d+ failed\), \d+/s$`)
	if r.code != 0 || !line.MatchString(r.stderr) {
		t.Errorf("no progress line on stderr\n%s", r)
	}

	env["ALEXA_OOS_PROGRESS_INTERVAL"] = "soon"
	if r := run(t, env, "", "bulk", "message", "--input", input); r.code != 2 || !strings.Contains(r.stderr, "ALEXA_OOS_PROGRESS_INTERVAL") {
		t.Errorf("a bad interval: want exit 2\n%s", r)
	}
}

func TestBulkEmbeddedEmulatorExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bulk", "message", "--input", example("bulk/messages.jsonl")}, "read 5, delivered 5 (sent 5,"},
		{[]string{"bulk", "proactive", "--input", example("bulk/events.jsonl")}, "read 3, delivered 3 (sent 3,"},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, "", tt.args...)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			if !strings.HasPrefix(r.stderr, "alexa-oos: no credentials set: sending to the built-in emulator at http://127.0.0.1:") {
				t.Errorf("want the one-line notice on stderr\n%s", r)
			}
			if !strings.Contains(r.stdout, tt.want) || !strings.Contains(r.stdout, "emulator accepted ") {
				t.Errorf("stdout lacks %q\n%s", tt.want, r)
			}
		})
	}
}

func TestBulkTimeout(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	input := writeLines(t, "messages.jsonl", messageLines("T", 200))
	failures := filepath.Join(t.TempDir(), "failures.jsonl")
	r := run(t, emulatorEnv(srv), "", "--timeout", "300ms", "bulk", "message", "--input", input, "--rate", "50", "--failures", failures)
	if r.code != 1 || !strings.Contains(r.stderr, "alexa-oos: timed out (--timeout 300ms): ") || !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("want exit 1, timed out\n%s", r)
	}
	// The items not reached are left for a rerun, not failed one by one.
	// A request the timeout cut off in flight is of unknown outcome, as
	// "bulk --help" says, and reported as such.
	failed := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "alexa-oos: line ") && !strings.Contains(line, ": outcome unknown (sent, no answer; not sent again): ") {
			failed++
		}
	}
	if failed > 0 || srv.Accepted() >= 200 {
		t.Errorf("the timeout failed items instead of stopping the job (%d accepted)\n%s", srv.Accepted(), r)
	}
}

// A journal reused with another input, here edited and reordered on
// standard input, skips only what was delivered.
func TestBulkJournalEditedInput(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	journal := filepath.Join(t.TempDir(), "j")
	lines := messageLines("E", 30)
	if r := run(t, env, "", "bulk", "message", "--input", writeLines(t, "first.jsonl", lines[:20]), "--journal", journal); r.code != 0 {
		t.Fatalf("first run:\n%s", r)
	}
	// Lines 11 to 30, last first, line 15 with other data.
	next := slices.Clone(lines[10:])
	next[4] = strings.Replace(next[4], `"n": 15`, `"n": 1500`, 1)
	slices.Reverse(next)
	r := run(t, env, strings.Join(next, "\n"), "bulk", "message", "--input", "-", "--journal", journal)
	if r.code != 0 || !strings.Contains(r.stdout, "read 20, delivered 20 (sent 11, already delivered 0, skipped 9)") {
		t.Errorf("second run:\n%s", r)
	}
	users := perUser(srv)
	for i := 1; i <= 30; i++ {
		want := 1
		if i == 15 {
			want = 2
		}
		if users[userN("E", i)] != want {
			t.Errorf("user of line %d got %d messages, want %d", i, users[userN("E", i)], want)
		}
	}
}

// The retry recipe: jq -c .input failures.jsonl > retry.jsonl, run with
// the same journal, sends exactly the items that failed.
func TestBulkRetryRecipe(t *testing.T) {
	t.Parallel()
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed")
	}
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	dir := t.TempDir()
	journal, failures, retry := filepath.Join(dir, "j"), filepath.Join(dir, "failures.jsonl"), filepath.Join(dir, "retry.jsonl")
	lines := messageLines("R", 50)
	failing := []int{2, 3, 30, 50}
	for _, i := range failing {
		srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath + userN("R", i), Status: 500})
	}
	r := run(t, env, "", "bulk", "message", "--input", writeLines(t, "in.jsonl", lines), "--journal", journal, "--failures", failures)
	if r.code != 1 || !strings.Contains(r.stdout, "sent 46,") {
		t.Fatalf("first run:\n%s", r)
	}
	out, err := exec.Command(jq, "-c", ".input", failures).Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(retry, out, 0o600)
	srv.ClearFaults()
	r = run(t, env, "", "bulk", "message", "--input", retry, "--journal", journal)
	if r.code != 0 || !strings.Contains(r.stdout, "read 4, delivered 4 (sent 4, already delivered 0, skipped 0)") {
		t.Errorf("retry:\n%s", r)
	}
	users := perUser(srv)
	for i := 1; i <= 50; i++ {
		if users[userN("R", i)] != 1 {
			t.Errorf("user of line %d got %d messages, want 1", i, users[userN("R", i)])
		}
	}
}

// A Retry-After longer than --max-throttle-wait stops the job at once
// (exit 1), sends nothing more and fails nothing; a rerun sends the rest.
func TestBulkThrottleStops(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{DiscardRecords: true})
	env := emulatorEnv(srv)
	srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath, Status: 429, RetryAfter: 120 * time.Second})
	input := writeLines(t, "in.jsonl", messageLines("T", 500))
	journal := filepath.Join(t.TempDir(), "j")
	r := run(t, env, "", "bulk", "message", "--input", input, "--journal", journal, "--max-throttle-wait", "1m")
	if r.code != 1 || !strings.Contains(r.stderr, "throttled: Alexa asked to wait 2m0s (Retry-After), more than --max-throttle-wait 1m0s; nothing was sent after the 429: 0 items delivered; send the rest later: run the same command again") {
		t.Errorf("want exit 1 and the throttle named\n%s", r)
	}
	if strings.Contains(r.stderr, "alexa-oos: line ") || !strings.Contains(r.stdout, "failed 0") {
		t.Errorf("items were failed instead of left for a rerun\n%s", r)
	}
	if calls := srv.Calls(alexatest.MessagesPath); calls > bulkConcurrency {
		t.Errorf("%d calls under a 429 with Retry-After 120", calls)
	}
	srv.ClearFaults()
	r = run(t, env, "", "bulk", "message", "--input", input, "--journal", journal)
	if r.code != 0 || srv.Accepted() != 500 {
		t.Errorf("rerun: %d accepted\n%s", srv.Accepted(), r)
	}
}

// A message whose answer is lost after it was sent: sent again by
// default and counted possibly duplicated (exit 0); with --at-most-once
// reported as of unknown outcome, on stderr with its line and in the
// failures file (exit 1).
func TestBulkAtMostOnce(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath + userN("D", 6), Lose: true, Times: 1})
	r := run(t, env, "", "bulk", "message", "--input", writeLines(t, "d.jsonl", messageLines("D", 10)))
	if r.code != 0 || !strings.Contains(r.stdout, "possibly duplicated 1") || perUser(srv)[userN("D", 6)] != 2 {
		t.Errorf("at least once:\n%s", r)
	}

	srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath + userN("A", 4), Lose: true, Times: 1})
	failures := filepath.Join(t.TempDir(), "failures.jsonl")
	r = run(t, env, "", "bulk", "message", "--input", writeLines(t, "a.jsonl", messageLines("A", 10)), "--at-most-once", "--failures", failures)
	if r.code != 1 || !strings.Contains(r.stderr, "alexa-oos: line 4: outcome unknown (sent, no answer; not sent again): ") ||
		!strings.Contains(r.stdout, "failed 0, invalid 0, outcome unknown 1") || !strings.Contains(r.stderr, "1 of 10 items not delivered, 1 of them of unknown outcome") {
		t.Errorf("at most once:\n%s", r)
	}
	if n := perUser(srv)[userN("A", 4)]; n != 1 {
		t.Errorf("user of line 4 got %d messages, want 1", n)
	}
	b, _ := os.ReadFile(failures)
	if !strings.Contains(string(b), `"line":4,"status":"unknown","reason":"unknown"`) {
		t.Errorf("failures file:\n%s", b)
	}
}

// startText runs "alexa-oos args..." in-process until the test ends and
// returns its stdout and stderr as they fill.
func startText(t *testing.T, args ...string) (stdout, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, args, Env{Stdout: stdout, Stderr: stderr}) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("alexa-oos %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
	})
	return stdout, stderr
}

func TestEmulatorRateLimit(t *testing.T) {
	t.Parallel()
	if r := run(t, nil, "", "emulator", "--rate-limit", "-1"); r.code != 2 || !strings.Contains(r.stderr, "--rate-limit") {
		t.Errorf("negative --rate-limit: want exit 2\n%s", r)
	}

	stdout, stderr := startText(t, "emulator", "--addr", "127.0.0.1:0", "--rate-limit", "5")
	var endpoint, tokenURL string
	for endpoint == "" || tokenURL == "" {
		time.Sleep(2 * time.Millisecond)
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(line, "export ALEXA_API_ENDPOINT="); ok {
				endpoint = v
			}
			if v, ok := strings.CutPrefix(line, "export ALEXA_TOKEN_URL="); ok {
				tokenURL = v
			}
		}
	}
	if !strings.Contains(stdout.String(), "5 API calls per second") {
		t.Errorf("the banner does not show the limit:\n%s", stdout.String())
	}
	env := map[string]string{"ALEXA_API_ENDPOINT": endpoint, "ALEXA_TOKEN_URL": tokenURL,
		"ALEXA_CLIENT_ID": alexatest.DefaultClientID, "ALEXA_CLIENT_SECRET": alexatest.DefaultClientSecret}
	input := writeLines(t, "messages.jsonl", messageLines("R", 12))
	r := run(t, env, "", "-o", "json", "bulk", "message", "--input", input)
	var sum struct {
		Sent, Throttled int
		AllDelivered    bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || r.code != 0 {
		t.Fatalf("%v\n%s\nemulator:\n%s", err, r, stderr.String())
	}
	if sum.Sent != 12 || !sum.AllDelivered || sum.Throttled == 0 {
		t.Errorf("summary %+v, want 12 sent after some 429s", sum)
	}
	if !strings.Contains(stderr.String(), " 429 ") {
		t.Errorf("the emulator log shows no 429:\n%s", stderr.String())
	}
}

// Credentials the token endpoint refuses stop the job before any line is
// sent: the message says so, and agrees with the summary's "read 0".
func TestBulkRefusedCredentialsStopBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	env["ALEXA_CLIENT_SECRET"] = "wrong"
	input := writeLines(t, "m.jsonl", messageLines("U", 20))
	r := run(t, env, "", "bulk", "message", "--input", input)
	if r.code != 1 || !regexp.MustCompile(`job stopped before sending line \d+: no access token`).MatchString(r.stderr) || !strings.Contains(r.stdout, "read 0,") {
		t.Errorf("exit %d, want 1, a stop before sending, and read 0\n%s", r.code, r)
	}
	if srv.Accepted() != 0 {
		t.Errorf("%d messages accepted", srv.Accepted())
	}
}
