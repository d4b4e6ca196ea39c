package bulk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
)

const header2 = `{"journal":"alexa-oos bulk journal","version":2,"kind":"message"}` + "\n"

func id(s string) bulk.ItemID { return bulk.LineID([]byte(s)) }

func openJournal(t *testing.T, path string) *bulk.Journal {
	t.Helper()
	j, err := bulk.OpenJournal(path, bulk.KindMessage, "")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Records are group-committed from many goroutines and read back; a torn
// last record is cut off; a journal of the other kind, or a file that is
// not a journal, is refused and left alone.
func TestJournalFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "j")
	j := openJournal(t, path)
	if j.Resumed() || j.Loaded() != 0 {
		t.Errorf("new journal: resumed %v, loaded %d", j.Resumed(), j.Loaded())
	}
	var wg sync.WaitGroup
	for i := 1; i <= 100; i++ {
		wg.Go(func() {
			if err := j.Record(id(messageLine(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if j.Recorded() != 100 {
		t.Errorf("Recorded() = %d", j.Recorded())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(id("x")); !errors.Is(err, bulk.ErrJournalClosed) {
		t.Errorf("Record after Close: %v", err)
	}
	// A kill in mid-write leaves a torn record.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(id(messageLine(101)).String()[:20])
	f.Close()

	j = openJournal(t, path)
	if !j.Resumed() || j.Loaded() != 100 {
		t.Errorf("resumed %v loaded %d", j.Resumed(), j.Loaded())
	}
	if err := j.Record(id("seven")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), header2) {
		t.Errorf("header: %.80s", data)
	}
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(data), header2), "\n"), "\n")
	if len(lines) != 101 || lines[100] != id("seven").String() {
		t.Errorf("torn record not cut off, or the new one not appended: %d records, last %q", len(lines), lines[len(lines)-1])
	}

	if _, err := bulk.OpenJournal(path, bulk.KindProactive, ""); !errors.Is(err, bulk.ErrJournalMismatch) {
		t.Errorf("proactive job on a message journal: %v", err)
	}
	live := filepath.Join(dir, "live")
	openJournalKind(t, live, bulk.KindProactive, proactive.Live).Close()
	if _, err := bulk.OpenJournal(live, bulk.KindProactive, proactive.Development); !errors.Is(err, bulk.ErrJournalMismatch) || !strings.Contains(err.Error(), "LIVE") {
		t.Errorf("development job on a live journal: %v", err)
	}
	other := filepath.Join(dir, "input.jsonl")
	os.WriteFile(other, []byte(messageLine(1)), 0o644)
	if _, err := bulk.OpenJournal(other, bulk.KindMessage, ""); err == nil || !strings.Contains(err.Error(), "not a bulk journal") {
		t.Errorf("an input file was taken for a journal: %v", err)
	}
	if data, _ := os.ReadFile(other); string(data) != messageLine(1) {
		t.Errorf("input file changed: %s", data)
	}
	// A header torn before its newline is rewritten.
	torn := filepath.Join(dir, "torn")
	os.WriteFile(torn, []byte(`{"journal":"alexa-oos bu`), 0o644)
	j, err := bulk.OpenJournal(torn, bulk.KindMessage, "")
	if err != nil || j.Resumed() {
		t.Fatalf("torn header: %v", err)
	}
	j.Close()
	if data, _ := os.ReadFile(torn); string(data) != header2 {
		t.Errorf("torn header rewritten as %q", data)
	}
}

func openJournalKind(t *testing.T, path string, kind bulk.Kind, stage proactive.Stage) *bulk.Journal {
	t.Helper()
	j, err := bulk.OpenJournal(path, kind, stage)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A damaged record is refused in one short line, whatever its size, and
// costs nothing to reject: a line number far out of range (which a
// version 1 journal would have allocated a bitmap for) or a float (which
// made it panic). Only a damaged last line is taken for a torn write and
// cut off.
func TestJournalDamaged(t *testing.T) {
	t.Parallel()
	good := id(messageLine(1)).String() + "\n"
	tests := map[string]struct {
		body    string
		wantErr error
		want    string // in the error
		records int    // loaded, when no error
	}{
		"huge number mid-file":  {good + "1000000000000\n" + good, bulk.ErrJournalCorrupt, `line 3 is not a journal record (want 32 hex digits, got "1000000000000")`, 0},
		"float mid-file":        {good + "1e17\n" + good, bulk.ErrJournalCorrupt, `got "1e17"`, 0},
		"negative mid-file":     {"-1\n" + good, bulk.ErrJournalCorrupt, `line 2 `, 0},
		"upper-case hex":        {strings.ToUpper(good) + good, bulk.ErrJournalCorrupt, `line 2 `, 0},
		"64 KB of garbage":      {good + strings.Repeat("garbage ", 8<<10) + "\n" + good, bulk.ErrJournalCorrupt, `got "garbage garbage garbage "… (65537 bytes)`, 0},
		"garbage last line":     {good + good + "1e17\n", nil, "", 2},
		"huge number last line": {good + "1000000000000\n", nil, "", 1},
		"NUL padding":           {good + strings.Repeat("\x00", 4096), nil, "", 1},
		"long garbage at end":   {good + strings.Repeat("z", 100<<10), nil, "", 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "j")
			os.WriteFile(path, []byte(header2+tt.body), 0o644)
			j, err := bulk.OpenJournal(path, bulk.KindMessage, "")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.want)
				}
				if len(err.Error()) > 300 || strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one short line (%d bytes): %.400s", len(err.Error()), err)
				}
				if data, _ := os.ReadFile(path); string(data) != header2+tt.body {
					t.Error("a damaged journal was modified")
				}
				// And it is unlocked again: a fixed file can be opened.
				os.WriteFile(path, []byte(header2+good), 0o644)
				openJournal(t, path).Close()
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if j.Loaded() != tt.records {
				t.Errorf("loaded %d records, want %d", j.Loaded(), tt.records)
			}
			if data, _ := os.ReadFile(path); string(data) != header2+strings.Repeat(good, tt.records) {
				t.Errorf("the damaged tail was not cut off: %.100q", data)
			}
		})
	}
}

// Journals of another format version are refused, naming the version:
// version 1 recorded line numbers, which an edited input would have
// matched to the wrong items.
func TestJournalVersion(t *testing.T) {
	t.Parallel()
	for v, want := range map[int]string{1: "format version 1, written by an earlier alexa-oos", 3: "format version 3; this alexa-oos reads version 2"} {
		path := filepath.Join(t.TempDir(), "j")
		os.WriteFile(path, fmt.Appendf(nil, `{"journal":"alexa-oos bulk journal","version":%d,"kind":"message"}`+"\n1\n2\n1000000000000\n", v), 0o644)
		_, err := bulk.OpenJournal(path, bulk.KindMessage, "")
		if !errors.Is(err, bulk.ErrJournalVersion) || !strings.Contains(err.Error(), want) {
			t.Errorf("version %d: err = %v, want ErrJournalVersion saying %q", v, err, want)
		}
	}
}

// Records are appended at the end of the file as it is when written, not
// at an offset the journal remembered.
func TestJournalAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	j := openJournal(t, path)
	if err := j.Record(id("a")); err != nil {
		t.Fatal(err)
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	// Something else extends the file meanwhile (the lock is advisory).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(id("b").String() + "\n")
	f.Close()
	if err := j.Record(id("c")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, _ := os.ReadFile(path)
	if want := header2 + id("a").String() + "\n" + id("b").String() + "\n" + id("c").String() + "\n"; string(data) != want {
		t.Errorf("journal:\n%s\nwant:\n%s", data, want)
	}
}

// A journal is locked while open: a second open, in this process or
// another, is refused at once; Close releases it.
func TestJournalLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	j := openJournal(t, path)
	if _, err := bulk.OpenJournal(path, bulk.KindMessage, ""); !errors.Is(err, bulk.ErrJournalLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second open in the same process: %v", err)
	}
	// One Journal, two jobs at once.
	srv := newServer(t, alexatest.Options{})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := bulk.SendMessages(context.Background(), fastConfig(srv), pr, bulk.Options{Journal: j})
		done <- err
	}()
	pw.Write([]byte(messageLine(1) + "\n"))
	for srv.Accepted() < 1 { // the first job is running
		time.Sleep(time.Millisecond)
	}
	if _, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(messageLine(2)), bulk.Options{Journal: j}); !errors.Is(err, bulk.ErrJournalLocked) {
		t.Errorf("second job on a Journal in use: %v", err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	j.Close()
	openJournal(t, path).Close()
}

// TestHelperHoldJournal is not a test: TestJournalLockedAcrossProcesses
// runs the test binary again with BULK_HOLD set, and this function then
// opens the journal, says so, and holds it until its standard input ends.
func TestHelperHoldJournal(t *testing.T) {
	path := os.Getenv("BULK_HOLD")
	if path == "" {
		t.Skip("helper process for TestJournalLockedAcrossProcesses")
	}
	j, err := bulk.OpenJournal(path, bulk.KindMessage, "")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Println("holding")
	bufio.NewReader(os.Stdin).ReadString('\n')
	j.Close()
	os.Exit(0)
}

// Two processes on one journal: the second is refused while the first
// holds it, and gets it once the first is gone.
func TestJournalLockedAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldJournal$")
	cmd.Env = append(os.Environ(), "BULK_HOLD="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "holding\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	_, err := bulk.OpenJournal(path, bulk.KindMessage, "")
	if !errors.Is(err, bulk.ErrJournalLocked) {
		t.Errorf("journal held by another process: %v", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	openJournal(t, path).Close()
}

// Whatever follows the header, OpenJournal loads it or refuses it with
// ErrJournalCorrupt; it never panics, and a journal it loads holds only
// whole records.
func FuzzOpenJournal(f *testing.F) {
	good := id("a").String() + "\n"
	for _, s := range []string{"", good, good + "1e17\n" + good, "1000000000000\n", "-1\n", good + "\x00\x00", good[:10], strings.Repeat("9", 70000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(t.TempDir(), "j")
		os.WriteFile(path, []byte(header2+body), 0o644)
		j, err := bulk.OpenJournal(path, bulk.KindMessage, "")
		if err != nil {
			if !errors.Is(err, bulk.ErrJournalCorrupt) || len(err.Error()) > 400 {
				t.Fatalf("err = %.500v", err)
			}
			return
		}
		n := j.Loaded()
		j.Close()
		data, _ := os.ReadFile(path)
		rest, ok := strings.CutPrefix(string(data), header2)
		records := strings.Split(rest, "\n")
		if !ok || records[len(records)-1] != "" || len(records)-1 != n {
			t.Fatalf("%d records loaded; after open the file is %q", n, data)
		}
		for _, r := range records[:n] {
			if r = strings.TrimSpace(r); len(r) != 32 || strings.Trim(r, "0123456789abcdef") != "" {
				t.Fatalf("record %q kept", r)
			}
		}
	})
}
