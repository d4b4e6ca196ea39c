package bulk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
)

// records returns the records in the journal file at path.
func records(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	return lines[1:]
}

// waitRecords polls the journal file until it holds n records: the
// writer writes them on its own, whatever the time it takes.
func waitRecords(t *testing.T, path string, n int) {
	t.Helper()
	for len(records(t, path)) < n {
		time.Sleep(time.Millisecond)
	}
	if got := len(records(t, path)); got != n {
		t.Fatalf("journal holds %d records, want %d", got, n)
	}
}

// Record returns before its record is written; the records are written,
// and fsynced, all together: at a Sync, when a batch fills, when the sync
// interval has passed, at Close; and at once with a zero interval.
func TestJournalGroupCommit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	j := openJournal(t, path)
	j.SetSyncInterval(time.Hour)
	if err := j.Record(id("a")); err != nil {
		t.Fatal(err)
	}
	if got := records(t, path); len(got) != 0 {
		t.Fatalf("written before the interval and without Sync: %q", got)
	}
	if j.Recorded() != 1 {
		t.Errorf("Recorded() = %d, want 1", j.Recorded())
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := records(t, path); len(got) != 1 || got[0] != id("a").String() {
		t.Fatalf("after Sync: %q", got)
	}

	// A full batch goes out without waiting for the interval.
	for i := range bulk.MaxBatch {
		if err := j.Record(id(messageLine(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitRecords(t, path, 1+bulk.MaxBatch)

	// A short interval writes on its own.
	j.SetSyncInterval(time.Millisecond)
	if err := j.Record(id("b")); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, path, 2+bulk.MaxBatch)

	// No interval: Record returns once its record is durable.
	j.SetSyncInterval(0)
	if err := j.Record(id("c")); err != nil {
		t.Fatal(err)
	}
	if got := records(t, path); len(got) != 3+bulk.MaxBatch || got[len(got)-1] != id("c").String() {
		t.Fatalf("Record with no interval returned before writing: %d records", len(got))
	}

	// Close writes what is pending.
	j.SetSyncInterval(time.Hour)
	if err := j.Record(id("d")); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := records(t, path); len(got) != 4+bulk.MaxBatch || got[len(got)-1] != id("d").String() {
		t.Fatalf("Close did not write the pending record: %d records", len(got))
	}
	if err := j.Sync(); err == nil {
		t.Error("Sync after Close: no error")
	}
}

// When a job returns, every item it delivered is durable in its journal,
// whatever the sync interval, so that a crash right after loses nothing.
func TestJobEndSyncsJournal(t *testing.T) {
	t.Parallel()
	const n = 40
	srv := newServer(t, alexatest.Options{})
	path := filepath.Join(t.TempDir(), "j")
	j := openJournal(t, path)
	defer j.Close()
	j.SetSyncInterval(time.Hour)
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(n, messageLine)), bulk.Options{Journal: j})
	if err != nil || sum.Sent != n {
		t.Fatalf("%v %+v", err, sum)
	}
	if got := records(t, path); len(got) != n {
		t.Fatalf("journal file holds %d records when the job returned, want %d", len(got), n)
	}
}
