package bulk_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
)

// TestHelperProcess is not a test: TestKillAndResume runs the test binary
// again with BULK_HELPER set, and this function then runs a bulk job
// against the emulator at BULK_URL until it is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("BULK_HELPER") != "1" {
		t.Skip("helper process for TestKillAndResume")
	}
	url := os.Getenv("BULK_URL")
	cfg := alexa.Config{
		Credentials: alexa.Credentials{ClientID: alexatest.DefaultClientID, ClientSecret: alexatest.DefaultClientSecret},
		Endpoint:    url,
		TokenURL:    url + alexatest.TokenPath,
		Retry:       fastRetry(),
	}
	in, err := os.Open(os.Getenv("BULK_INPUT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	j, err := bulk.OpenJournal(os.Getenv("BULK_JOURNAL"), bulk.KindMessage, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv("BULK_SYNC_EACH") == "1" {
		j.SetSyncInterval(0)
	}
	rate, _ := strconv.ParseFloat(os.Getenv("BULK_RATE"), 64)
	sum, err := bulk.SendMessages(context.Background(), cfg, in, bulk.Options{Journal: j, Rate: rate})
	j.Close()
	fmt.Fprintln(os.Stderr, sum, err)
	os.Exit(0)
}

// A job killed with SIGKILL mid-way and run again with the same input and
// journal delivers every item, and sends again exactly the items that
// were acknowledged but not yet durable in the journal at the kill: those
// in flight, and those of the last sync interval. Nothing is journaled
// that Alexa did not acknowledge. With a zero sync interval, only the
// items in flight can go twice.
func TestKillAndResume(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a subprocess for seconds")
	}
	t.Run("group-commit", func(t *testing.T) { killAndResume(t, false) })
	t.Run("sync-each", func(t *testing.T) { killAndResume(t, true) })
}

func killAndResume(t *testing.T, syncEach bool) {
	const n, killAt = 10000, 3000
	srv := newServer(t, alexatest.Options{MaxRecords: 2 * n}) // keep the repeats too
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	journal := filepath.Join(dir, "journal")
	if err := os.WriteFile(input, []byte(lines(n, messageLine)), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "BULK_HELPER=1", "BULK_URL="+srv.URL, "BULK_INPUT="+input, "BULK_JOURNAL="+journal, "BULK_RATE=4000", "BULK_SYNC_EACH="+map[bool]string{true: "1"}[syncEach])
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for srv.Accepted() < killAt {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper accepted only %d in 60s", srv.Accepted())
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()
	// Let the requests the helper had in flight land or fail.
	time.Sleep(100 * time.Millisecond)
	atKill := srv.Accepted()
	if atKill >= n {
		t.Fatalf("the helper finished (%d accepted) before it was killed", atKill)
	}

	j, err := bulk.OpenJournal(journal, bulk.KindMessage, "")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t.Logf("killed with %d accepted, %d journaled", atKill, j.Loaded())
	if j.Loaded() > atKill || syncEach && atKill-j.Loaded() > bulk.DefaultConcurrency {
		t.Errorf("journal holds %d, emulator accepted %d", j.Loaded(), atKill)
	}
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), f, bulk.Options{Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", sum)
	if !sum.AllDelivered() || sum.Skipped != j.Loaded() || sum.Sent+sum.Skipped != n {
		t.Fatalf("resumed: %+v", sum)
	}
	per := map[string]int{}
	for _, m := range srv.Messages() {
		per[m.UserID]++
	}
	twice := 0
	for _, c := range per {
		if c > 1 {
			twice++
		}
	}
	t.Logf("%d items accepted more than once", twice)
	if len(per) != n || twice != atKill-j.Loaded() {
		t.Errorf("%d of %d users reached, %d more than once, want the %d acknowledged but not journaled", len(per), n, twice, atKill-j.Loaded())
	}
	if syncEach && twice > bulk.DefaultConcurrency {
		t.Errorf("%d users reached more than once, want at most %d (the concurrency)", twice, bulk.DefaultConcurrency)
	}
}
