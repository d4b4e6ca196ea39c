package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

func TestBulkKillAndResume(t *testing.T) {
	t.Parallel()
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
	m := regexp.MustCompile(`alexa-oos: resumed: (\d+) already delivered`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("rerun does not say it resumed\n%s", r)
	}
	journaled, _ := strconv.Atoi(m[1])
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
	// Every item acknowledged but not yet durable in the journal at the
	// kill is sent again, and nothing else but the items whose
	// acknowledgement was still in flight (at most the concurrency).
	if lost := killedAt - journaled; twice < lost || twice > lost+16 {
		t.Errorf("%d users got two messages; %d were acknowledged and not journaled at the kill, want that many, plus at most 16 in flight", twice, lost)
	}
	t.Logf("killed after %d accepted, %d journaled; %d sent twice", killedAt, journaled, twice)
}

func TestBulkInterrupt(t *testing.T) {
	t.Parallel()
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

// startWithStdin is start with a pipe to the command's standard input.
func startWithStdin(t *testing.T, vars map[string]string, args ...string) (*started, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot
	cmd.Env = cleanEnv(vars)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	return s, stdin
}

// A second job on a journal in use is refused at once with exit 2, naming
// the journal, and sends nothing; the first job goes on.
func TestBulkJournalLocked(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)
	journal := filepath.Join(t.TempDir(), "shared.journal")
	lines := messageLines("L", 10)

	first, stdin := startWithStdin(t, env, "bulk", "message", "--input", "-", "--journal", journal)
	io.WriteString(stdin, lines[0]+"\n")
	first.waitFor(t, "the first job sent its first message", func() bool { return srv.Accepted() >= 1 })

	r := run(t, env, "", "bulk", "message", "--input", writeLines(t, "in.jsonl", lines), "--journal", journal)
	if r.code != 2 || !strings.Contains(r.stderr, "alexa-oos: --journal: journal "+journal+" is in use by another job") || strings.Count(r.stderr, "\n") != 2 || !strings.Contains(r.stderr, "\nalexa-oos: hint: ") {
		t.Errorf("second job: want exit 2, one line naming the journal and a hint line\n%s", r)
	}
	if srv.Accepted() != 1 {
		t.Errorf("the second job sent %d messages", srv.Accepted()-1)
	}

	io.WriteString(stdin, strings.Join(lines[1:], "\n")+"\n")
	stdin.Close()
	if r := first.wait(t); r.code != 0 || !strings.Contains(r.stdout, "sent 10") {
		t.Errorf("first job:\n%s", r)
	}
	// The journal is free again, and knows all ten.
	r = run(t, env, "", "bulk", "message", "--input", writeLines(t, "again.jsonl", lines), "--journal", journal)
	if r.code != 0 || !strings.Contains(r.stdout, "skipped 10") || srv.Accepted() != 10 {
		t.Errorf("after the first job:\n%s", r)
	}
}
