package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
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

// started is a command running in the background.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
	err            error
}

// start starts the command in repoRoot with a clean environment.
func start(t *testing.T, vars map[string]string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = repoRoot
	cmd.Env = cleanEnv(vars)
	s := &started{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		s.err = cmd.Wait()
		cancel()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	return s
}

// wait waits for the command to end and returns its result.
func (s *started) wait(t *testing.T) result {
	t.Helper()
	<-s.done
	r := result{stdout: s.stdout.String(), stderr: s.stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(s.err, &ee):
		r.code = ee.ExitCode()
	case s.err != nil:
		t.Fatalf("%v", s.err)
	}
	return r
}

// waitFor polls until cond holds, failing if the command ends first.
func (s *started) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-s.done:
			if !cond() {
				t.Fatalf("the command ended before %s:\nstdout:\n%s\nstderr:\n%s", what, s.stdout.String(), s.stderr.String())
			}
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func TestBulkMessageBadLines(t *testing.T) {
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
	for _, want := range []string{"read 200, delivered 198 (sent 198, duplicates 0, skipped 0), failed 0, invalid 2", "not delivered by reason: invalid 2", "failures: 2 written to " + failures} {
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

	// Without the journal, the derived referenceIds make Alexa refuse the
	// events it already has.
	r = run(t, env, "", "bulk", "proactive", "--input", input)
	if r.code != 1 || !strings.Contains(r.stdout, "409 25") || len(srv.Events()) != 25 {
		t.Errorf("a rerun without the journal: want exit 1 and 25 refused as 409\n%s", r)
	}
}

func TestBulkKillAndResume(t *testing.T) {
	const n = 2000
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	input := writeLines(t, "big.jsonl", messageLines("K", n))
	journal := filepath.Join(t.TempDir(), "big.journal")

	s := start(t, env, "bulk", "message", "--input", input, "--journal", journal, "--rate", "500")
	s.waitFor(t, "300 messages were accepted", func() bool { return srv.Accepted() >= 300 })
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	killedAt := srv.Accepted()

	r := run(t, env, "", "bulk", "message", "--input", input, "--journal", journal)
	if r.code != 0 {
		t.Fatalf("rerun: %s", r)
	}
	if !strings.Contains(r.stderr, "alexa-oos: resumed: ") {
		t.Errorf("rerun does not say it resumed\n%s", r)
	}
	users := perUser(srv)
	twice := 0
	for i := 1; i <= n; i++ {
		switch users[userN("K", i)] {
		case 0:
			t.Errorf("user of line %d got nothing", i)
		case 1:
		case 2:
			twice++
		default:
			t.Errorf("user of line %d got %d messages", i, users[userN("K", i)])
		}
	}
	if twice > 16 {
		t.Errorf("%d users got two messages, want at most 16 (the concurrency)", twice)
	}
	t.Logf("killed after %d accepted; %d sent twice", killedAt, twice)
}

func TestBulkInterrupt(t *testing.T) {
	const n = 1000
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	input := writeLines(t, "big.jsonl", messageLines("I", n))
	journal := filepath.Join(t.TempDir(), "big.journal")

	s := start(t, env, "bulk", "message", "--input", input, "--journal", journal, "--rate", "200")
	s.waitFor(t, "50 messages were accepted", func() bool { return srv.Accepted() >= 50 })
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := s.wait(t)
	if r.code != 1 {
		t.Fatalf("exit %d after SIGINT, want 1\n%s", r.code, r)
	}
	if !strings.Contains(r.stdout, "interrupted") || !strings.Contains(r.stdout, "read ") ||
		!strings.Contains(r.stderr, "alexa-oos: interrupted: ") || !strings.Contains(r.stderr, "--journal "+journal) {
		t.Errorf("want the summary and the interrupted line\n%s", r)
	}

	r = run(t, env, "", "bulk", "message", "--input", input, "--journal", journal)
	if r.code != 0 {
		t.Fatalf("rerun: %s", r)
	}
	users := perUser(srv)
	for i := 1; i <= n; i++ {
		if c := users[userN("I", i)]; c < 1 || c > 2 {
			t.Errorf("user of line %d got %d messages", i, c)
		}
	}
}

func TestBulkStdinJSON(t *testing.T) {
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
	before := srv.Accepted()
	tokens := len(srv.TokenRequests())

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing input", []string{"bulk", "message"}, "--input FILE is required"},
		{"missing input file", []string{"bulk", "message", "--input", "no/such.jsonl"}, "no such file"},
		{"input is a directory", []string{"bulk", "message", "--input", "examples"}, "is a directory"},
		{"journal of another kind", []string{"bulk", "proactive", "--input", events, "--journal", messageJournal}, "journal belongs to another kind of job"},
		{"journal of another stage", []string{"bulk", "proactive", "--input", events, "--journal", liveJournal}, "is for bulk proactive (stage LIVE)"},
		{"journal is not one", []string{"bulk", "message", "--input", messages, "--journal", events}, "is not a bulk journal"},
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
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	env["ALEXA_OOS_PROGRESS_INTERVAL"] = "200ms"
	input := writeLines(t, "messages.jsonl", append(messageLines("G", 75), "", "  ")) // trailing blank lines are not items
	r := run(t, env, "", "bulk", "message", "--input", input, "--rate", "50")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	line := regexp.MustCompile(`(?m)^alexa-oos: \d+/75 done \(\d+ delivered, \d+ failed\), \d+/s(, ETA \S+)?$`)
	if !line.MatchString(r.stderr) {
		t.Errorf("no progress line on stderr\n%s", r)
	}

	// Standard input has no total.
	r = run(t, env, strings.Join(messageLines("H", 30), "\n"), "bulk", "message", "--input", "-", "--rate", "50")
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
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bulk", "message", "--input", "examples/bulk/messages.jsonl"}, "read 5, delivered 5 (sent 5,"},
		{[]string{"bulk", "proactive", "--input", "examples/bulk/events.jsonl"}, "read 3, delivered 3 (sent 3,"},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
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

func TestEmulatorRateLimit(t *testing.T) {
	if r := run(t, nil, "", "emulator", "--rate-limit", "-1"); r.code != 2 || !strings.Contains(r.stderr, "--rate-limit") {
		t.Errorf("negative --rate-limit: want exit 2\n%s", r)
	}

	s := start(t, nil, "emulator", "--addr", "127.0.0.1:0", "--rate-limit", "5")
	var endpoint, tokenURL string
	s.waitFor(t, "the banner", func() bool {
		sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(line, "export ALEXA_API_ENDPOINT="); ok {
				endpoint = v
			}
			if v, ok := strings.CutPrefix(line, "export ALEXA_TOKEN_URL="); ok {
				tokenURL = v
			}
		}
		return endpoint != "" && tokenURL != ""
	})
	if !strings.Contains(s.stdout.String(), "5 API calls per second") {
		t.Errorf("the banner does not show the limit:\n%s", s.stdout.String())
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
		t.Fatalf("%v\n%s\nemulator:\n%s", err, r, s.stderr.String())
	}
	if sum.Sent != 12 || !sum.AllDelivered || sum.Throttled == 0 {
		t.Errorf("summary %+v, want 12 sent after some 429s", sum)
	}
	if !strings.Contains(s.stderr.String(), " 429 ") {
		t.Errorf("the emulator log shows no 429:\n%s", s.stderr.String())
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	s.wait(t)
}

func TestBulkTimeout(t *testing.T) {
	srv := newEmulator(t, alexatest.Options{})
	input := writeLines(t, "messages.jsonl", messageLines("T", 200))
	failures := filepath.Join(t.TempDir(), "failures.jsonl")
	r := run(t, emulatorEnv(srv), "", "--timeout", "300ms", "bulk", "message", "--input", input, "--rate", "50", "--failures", failures)
	if r.code != 1 || !strings.Contains(r.stderr, "alexa-oos: timed out (--timeout 300ms): ") || !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("want exit 1, timed out\n%s", r)
	}
	// The items not reached are left for a rerun, not failed one by one.
	if strings.Contains(r.stderr, "alexa-oos: line ") || srv.Accepted() >= 200 {
		t.Errorf("the timeout failed items instead of stopping the job (%d accepted)\n%s", srv.Accepted(), r)
	}
}
