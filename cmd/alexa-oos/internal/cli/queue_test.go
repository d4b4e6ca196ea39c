package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/queue"
)

// queueDB returns the test database's URL and a fresh schema in it
// (dropped at the end), or skips without ALEXA_OOS_TEST_DATABASE_URL
// (scripts/with-postgres.sh sets it).
func queueDB(t *testing.T) (url, schema string) {
	t.Helper()
	url = os.Getenv("ALEXA_OOS_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("ALEXA_OOS_TEST_DATABASE_URL is not set (run scripts/with-postgres.sh go test ./cmd/...)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema = "cli_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	return url, schema
}

// Without a database the queue commands are a usage error; a URL is
// never echoed, since it may hold a password.
func TestQueueNeedsDatabase(t *testing.T) {
	t.Parallel()
	code, _, stderr := runIn(t, nil, "queue", "status")
	if code != ExitUsage || !strings.Contains(stderr, EnvDatabaseURL) || !strings.Contains(stderr, "--database-url") {
		t.Errorf("no database: exit %d, stderr %q; want 2 naming --database-url and %s", code, stderr, EnvDatabaseURL)
	}
	code, stdout, stderr := runIn(t, map[string]string{EnvDatabaseURL: "postgres://u:hunter2@host:notaport/db"}, "queue", "migrate", "-o", "json")
	if code != ExitUsage || strings.Contains(stdout+stderr, "hunter2") {
		t.Errorf("bad URL: exit %d, output %q %q; want 2 without the password", code, stdout, stderr)
	}
	code, _, stderr = runIn(t, map[string]string{EnvDatabaseURL: "postgres://u@127.0.0.1:1/db"}, "queue", "enqueue", "--input", "x.jsonl", "--at", "tomorrow")
	if code != ExitUsage || !strings.Contains(stderr, "--at") {
		t.Errorf("bad --at: exit %d, stderr %q", code, stderr)
	}
}

func TestParseAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90m":                       now.Add(90 * time.Minute),
		"+2h":                       now.Add(2 * time.Hour),
		"2026-06-01T08:00:00+02:00": now,
		"2026-06-01T06:00:00Z":      now,
	} {
		got, err := parseAt(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAt(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"2026-06-01T08:00:00", "tomorrow", "-5m", ""} {
		if _, err := parseAt(in, now); err == nil {
			t.Errorf("parseAt(%q) accepted", in)
		}
	}
}

// runUntil runs the command in-process until it returns or done reports
// true, then interrupts it as SIGINT would.
func runUntil(t *testing.T, vars map[string]string, done func() bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		for ctx.Err() == nil && !done() {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errOut.String()
}

// migrate, enqueue (twice: nothing twice), work against an emulator until
// everything is done, and status with the dead letter.
func TestQueueCommands(t *testing.T) {
	t.Parallel()
	url, schema := queueDB(t)
	srv := alexatest.NewServer(alexatest.Options{KnownUsers: []string{"amzn1.ask.account.EXAMPLE-1", "amzn1.ask.account.EXAMPLE-2"}})
	defer srv.Close()
	creds := srv.Credentials()
	env := map[string]string{
		EnvDatabaseURL:  url,
		EnvClientID:     creds.ClientID,
		EnvClientSecret: creds.ClientSecret,
		EnvEndpoint:     srv.URL,
		EnvTokenURL:     srv.TokenURL,
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	lines := []string{
		`{"userId": "amzn1.ask.account.EXAMPLE-1", "data": {"n": 1}}`,
		`{"userId": "", "data": {"n": 2}}`,
		`{"userId": "amzn1.ask.account.EXAMPLE-2", "data": {"n": 3}}`,
		`{"userId": "amzn1.ask.account.UNKNOWN", "data": {"n": 4}}`,
		`{"event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD","freshness":"NEW"},"messageGroup":{"creator":{"name":"Andy"},"count":1}}},"relevantAudience":{"type":"Multicast","payload":{}}}`,
	}
	os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	q := []string{"queue", "--schema", schema}

	code, stdout, stderr := runIn(t, env, append(q, "status")...)
	if code != ExitUsage || !strings.Contains(stderr, "queue migrate") {
		t.Errorf("status before migrate: exit %d, stderr %q; want 2 with a hint to migrate", code, stderr)
	}
	if code, stdout, stderr = runIn(t, env, append(q, "migrate")...); code != ExitOK {
		t.Fatalf("migrate: exit %d: %s%s", code, stdout, stderr)
	}

	code, stdout, stderr = runIn(t, env, append(q, "enqueue", "--input", input, "-o", "json")...)
	var sum enqueueSummary
	json.Unmarshal([]byte(stdout), &sum)
	if code != ExitFailure || sum != (enqueueSummary{Read: 5, Enqueued: 4, Invalid: 1}) || !strings.Contains(stderr, "line 2: userId") {
		t.Errorf("enqueue: exit %d, %+v, stderr %q; want exit 1, 4 enqueued and line 2 reported", code, sum, stderr)
	}
	code, stdout, stderr = runIn(t, env, append(q, "enqueue", "--input", "-")...)
	if code != ExitUsage || !strings.Contains(stdout, "of 0 lines") || !strings.Contains(stderr, "standard input holds no line: nothing enqueued") {
		t.Errorf("empty enqueue: exit %d, %q %q; want exit 2, refused", code, stdout, stderr)
	}
	os.WriteFile(input, []byte(lines[0]+"\n"+lines[4]+"\n"), 0o644)
	code, stdout, _ = runIn(t, env, append(q, "enqueue", "--input", input)...)
	if code != ExitOK || !strings.Contains(stdout, "enqueued 0, duplicates 2") {
		t.Errorf("enqueue again: exit %d, %q; want both duplicates", code, stdout)
	}

	statusJSON := func() queue.Status {
		_, out, _ := runIn(t, env, append(q, "status", "-o", "json")...)
		var st queue.Status
		json.Unmarshal([]byte(out), &st)
		return st
	}
	code, stdout, stderr = runUntil(t, env, func() bool {
		st := statusJSON()
		return st.States["completed"] == 3 && st.States["cancelled"] == 1
	}, append(q, "work", "--rate", "50", "--concurrency", "4")...)
	if code != ExitOK || !strings.Contains(stdout, "sent 3") || !strings.Contains(stdout, "cancelled 1") {
		t.Errorf("work: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := srv.Accepted(); n != 3 {
		t.Errorf("emulator accepted %d, want 3", n)
	}

	code, stdout, _ = runIn(t, env, append(q, "status")...)
	for _, want := range []string{"completed 3", "cancelled 1", "rate limit " + creds.ClientID + ": 50/s", "dead letter", "404", "account.UNKNOWN"} {
		if code != ExitOK || !strings.Contains(stdout, want) {
			t.Errorf("status: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
	if strings.Contains(stdout, creds.ClientSecret) {
		t.Error("status printed the client secret")
	}
	st := statusJSON()
	if len(st.LastErrors) != 1 || !st.LastErrors[0].DeadLetter() || len(st.RateLimits) != 1 {
		t.Errorf("status -o json: %+v", st)
	}
}

// DataStore lines: found by --kind auto, an invalid one reported with its
// field, enqueued once however often the file is, and delivered by
// "queue work" to the emulator's devices.
func TestQueueDataStore(t *testing.T) {
	t.Parallel()
	url, schema := queueDB(t)
	srv := alexatest.NewServer(alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	defer srv.Close()
	ds := srv.DataStore()
	ds.AddDevice("amzn1.ask.account.EXAMPLE-1", "amzn1.ask.device.D1")
	ds.AddDevice("amzn1.ask.account.EXAMPLE-2", "amzn1.ask.device.D2")
	creds := srv.Credentials()
	env := map[string]string{
		EnvDatabaseURL:  url,
		EnvClientID:     creds.ClientID,
		EnvClientSecret: creds.ClientSecret,
		EnvEndpoint:     srv.URL,
		EnvTokenURL:     srv.TokenURL,
	}
	lines := []string{
		`{"target": {"type": "USER", "id": "amzn1.ask.account.EXAMPLE-1"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match", "content": {"home": 1}}]}`,
		`{"target": {"type": "USER", "id": "amzn1.ask.account.EXAMPLE-2"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match"}]}`,
		`{"target": {"type": "DEVICES", "items": ["amzn1.ask.device.D2"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "count", "content": 3}]}`,
	}
	input := filepath.Join(t.TempDir(), "ds.jsonl")
	os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	q := []string{"queue", "--schema", schema}
	if code, stdout, stderr := runIn(t, env, append(q, "migrate")...); code != ExitOK {
		t.Fatalf("migrate: exit %d: %s%s", code, stdout, stderr)
	}
	code, stdout, stderr := runIn(t, env, append(q, "enqueue", "--input", input, "-o", "json")...)
	var sum enqueueSummary
	json.Unmarshal([]byte(stdout), &sum)
	if code != ExitFailure || sum != (enqueueSummary{Read: 3, Enqueued: 2, Invalid: 1}) || !strings.Contains(stderr, "line 2: commands[0].content") {
		t.Errorf("enqueue: exit %d, %+v, stderr %q; want exit 1, 2 enqueued and line 2 reported", code, sum, stderr)
	}
	os.WriteFile(input, []byte(lines[0]+"\n"), 0o644)
	code, stdout, _ = runIn(t, env, append(q, "enqueue", "--input", input, "--kind", "datastore")...)
	if code != ExitOK || !strings.Contains(stdout, "enqueued 0, duplicates 1") {
		t.Errorf("enqueue again: exit %d, %q; want a duplicate", code, stdout)
	}
	// As a skill message, the line lacks its userId.
	code, _, stderr = runIn(t, env, append(q, "enqueue", "--input", input, "--kind", "message")...)
	if code != ExitFailure || !strings.Contains(stderr, "userId") {
		t.Errorf("--kind message: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = runUntil(t, env, func() bool {
		_, ok1 := ds.Object("amzn1.ask.device.D1", "scores", "match")
		_, ok2 := ds.Object("amzn1.ask.device.D2", "todo", "count")
		return ok1 && ok2
	}, append(q, "work", "--concurrency", "2")...)
	if code != ExitOK || !strings.Contains(stdout, "sent 2") {
		t.Errorf("work: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if v, _ := ds.Object("amzn1.ask.device.D1", "scores", "match"); string(v) != `{"home":1}` {
		t.Errorf("D1 stores %s", v)
	}
}
