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
	"github.com/alexa-oos/alexa/datastore"
)

// dsEmulator starts an emulator and returns the variables that point the
// command at it.
func dsEmulator(t *testing.T, opts alexatest.Options) (*alexatest.Server, map[string]string) {
	t.Helper()
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv, map[string]string{EnvEndpoint: srv.URL, EnvTokenURL: srv.TokenURL, EnvClientID: "id", EnvClientSecret: "s"}
}

func TestDatastorePutRemoveClear(t *testing.T) {
	t.Parallel()
	srv, vars := dsEmulator(t, alexatest.Options{})
	ds := srv.DataStore()
	ds.AddDevice("u", "d1")
	ds.AddDevice("u", "d2")
	file := filepath.Join(t.TempDir(), "count.json")
	os.WriteFile(file, []byte("{\n  \"count\": 3\n}\n"), 0o600)

	code, stdout, stderr := runIn(t, vars, "datastore", "put", "--user", "u", "--namespace", "todo", "--key", "k", "--content", file, "--create-namespace")
	if code != ExitOK || stderr != "" || !strings.Contains(stdout, "sent to user u: HTTP 200, 1 attempt, 2 devices") || !strings.Contains(stdout, "d2  SUCCESS") {
		t.Fatalf("put: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, d := range []string{"d1", "d2"} {
		if v, _ := ds.Object(d, "todo", "k"); string(v) != `{"count":3}` {
			t.Errorf("%s stores %s", d, v)
		}
	}
	calls := ds.Calls()
	if got := calls[0].Request.Commands; len(got) != 2 || got[0].Type != datastore.TypePutNamespace || got[1].Type != datastore.TypePutObject {
		t.Errorf("--create-namespace sent %+v", got)
	}

	code, stdout, _ = runIn(t, vars, "-o", "json", "datastore", "put", "--device", "d1", "--namespace", "todo", "--key", "k2", "--content-json", `"x"`)
	var out datastoreResult
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitOK || out.Result != "sent" || out.Target.Type != datastore.TargetDevices || len(out.Results) != 1 || out.Emulator != nil {
		t.Fatalf("put -o json: exit %d %v\n%s", code, err, stdout)
	}

	code, _, _ = runIn(t, vars, "datastore", "remove", "--device", "d1", "--namespace", "todo", "--key", "k")
	if _, ok := ds.Object("d1", "todo", "k"); code != ExitOK || ok {
		t.Errorf("remove --key: exit %d, object still there %v", code, ok)
	}
	if _, ok := ds.Object("d1", "todo", "k2"); !ok {
		t.Error("remove --key removed a sibling")
	}
	code, _, _ = runIn(t, vars, "datastore", "remove", "--device", "d1", "--namespace", "todo")
	if d, _ := ds.Device("d1"); code != ExitOK || len(d.Store) != 0 {
		t.Errorf("remove namespace: exit %d, store %v", code, d.Store)
	}
	code, _, _ = runIn(t, vars, "datastore", "clear", "--user", "u")
	if d, _ := ds.Device("d2"); code != ExitOK || len(d.Store) != 0 {
		t.Errorf("clear: exit %d, store %v", code, d.Store)
	}
	var types []string
	for _, c := range ds.Calls()[2:] {
		types = append(types, string(c.Request.Commands[0].Type))
	}
	if got := strings.Join(types, " "); got != "REMOVE_OBJECT REMOVE_NAMESPACE CLEAR" {
		t.Errorf("sent %s", got)
	}
}

func TestDatastoreQueueAndCancel(t *testing.T) {
	t.Parallel()
	srv, vars := dsEmulator(t, alexatest.Options{})
	ds := srv.DataStore()
	for i := range 12 {
		id := fmt.Sprintf("off-%02d", i)
		ds.AddDevice("u", id)
		ds.SetOnline(id, false)
	}
	code, stdout, stderr := runIn(t, vars, "-o", "json", "datastore", "put", "--user", "u", "--namespace", "n", "--key", "k", "--content-json", "1", "--attempt-delivery-until", "2h")
	var out datastoreResult
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitOK || out.QueuedResultID == "" || out.Failed != 0 {
		t.Fatalf("put to offline devices: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	until, _ := datastore.ParseTime(ds.Calls()[0].Request.AttemptDeliveryUntil)
	if d := time.Until(until); d < time.Hour || d > 3*time.Hour {
		t.Errorf("--attempt-delivery-until 2h sent %s", ds.Calls()[0].Request.AttemptDeliveryUntil)
	}
	id := out.QueuedResultID

	before := srv.Calls(datastore.QueuePath(id)) // every DataStore path counts together
	code, stdout, _ = runIn(t, vars, "datastore", "queue", id, "--page-size", "5")
	if code != ExitOK || !strings.Contains(stdout, id+": 12 deliveries not made") || !strings.Contains(stdout, "off-11  DEVICE_UNAVAILABLE") {
		t.Errorf("queue: exit %d\n%s", code, stdout)
	}
	if n := srv.Calls(datastore.QueuePath(id)) - before; n != 3 {
		t.Errorf("queue made %d calls, want 3 pages of 5", n)
	}
	code, stdout, _ = runIn(t, vars, "-o", "json", "datastore", "queue", id)
	var q queueResult
	if err := json.Unmarshal([]byte(stdout), &q); err != nil || code != ExitOK || len(q.Items) != 12 {
		t.Errorf("queue -o json: exit %d %v\n%s", code, err, stdout)
	}

	code, stdout, _ = runIn(t, vars, "datastore", "cancel", id)
	if code != ExitOK || stdout != "cancelled: "+id+"\n" {
		t.Errorf("cancel: exit %d %q", code, stdout)
	}
	ds.SetOnline("off-00", true)
	if _, ok := ds.Object("off-00", "n", "k"); ok {
		t.Error("delivered after cancel")
	}
	code, stdout, stderr = runIn(t, vars, "-o", "json", "datastore", "cancel", id)
	var je jsonError
	if err := json.Unmarshal([]byte(stdout), &je); err != nil || code != ExitFailure || je.Kind != kindNotFound || !strings.Contains(je.Hint, "queuedResultId") {
		t.Errorf("second cancel: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
}

func TestDatastoreFailures(t *testing.T) {
	t.Parallel()
	srv, vars := dsEmulator(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	srv.DataStore().AddDevice("u", "d1")
	code, stdout, stderr := runIn(t, vars, "datastore", "clear", "--device", "d1", "--device", "stranger")
	if code != ExitFailure || !strings.Contains(stdout, "stranger  INVALID_DEVICE") || !strings.Contains(stderr, "1 of 2 devices did not get the commands") {
		t.Errorf("a failed device: exit %d\n%s\n%s", code, stdout, stderr)
	}

	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: 403, Times: 2, Body: `{"type":"DATASTORE_SUPPORT_REQUIRED","message":"not opted in"}`})
	code, _, stderr = runIn(t, vars, "datastore", "clear", "--user", "u")
	if code != ExitFailure || !strings.Contains(stderr, "DATASTORE_SUPPORT_REQUIRED") || !strings.Contains(stderr, "\nalexa-oos: hint: declare the ALEXA_DATA_STORE") {
		t.Errorf("support required: exit %d\n%s", code, stderr)
	}
}

func TestDatastoreUsageSendsNothing(t *testing.T) {
	t.Parallel()
	srv, vars := dsEmulator(t, alexatest.Options{})
	big := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(big, []byte(`"`+strings.Repeat("x", datastore.DefaultMaxPayloadBytes)+`"`), 0o600)
	put := []string{"datastore", "put", "--namespace", "n", "--key", "k"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", append(put, "--content-json", "1"), "needs --user"},
		{"both targets", append(put, "--user", "u", "--device", "d", "--content-json", "1"), "exclude each other"},
		{"no content", append(put, "--user", "u"), "content"},
		{"both contents", append(put, "--user", "u", "--content-json", "1", "--content", big), "content"},
		{"bad JSON", append(put, "--user", "u", "--content-json", "{"), `--content-json: not JSON: unexpected end of JSON input, at line 1, column 2 (got "{")`},
		{"null", append(put, "--user", "u", "--content-json", "null"), "any JSON value but null"},
		{"too large", append(put, "--user", "u", "--content", big), "commands: must be at most 1048576 bytes"},
		{"missing file", append(put, "--user", "u", "--content", "/nonexistent/x.json"), "--content"},
		{"empty namespace", []string{"datastore", "remove", "--user", "u", "--namespace", ""}, "commands[0].namespace: is required"},
		{"no namespace", []string{"datastore", "remove", "--user", "u"}, "namespace"},
		{"empty device", []string{"datastore", "clear", "--device", ""}, "target.items[0]: must not be empty"},
		{"past", []string{"datastore", "clear", "--user", "u", "--attempt-delivery-until", "2001-01-01T00:00:00Z"}, "attemptDeliveryUntil: must lie in the future"},
		{"bad until", []string{"datastore", "clear", "--user", "u", "--attempt-delivery-until", "-2h"}, "--attempt-delivery-until"},
		{"queue without id", []string{"datastore", "queue"}, "QUEUED_RESULT_ID"},
		{"bad page size", []string{"datastore", "queue", "q", "--page-size", "1000"}, "--page-size"},
		{"cancel two ids", []string{"datastore", "cancel", "a", "b"}, "QUEUED_RESULT_ID"},
		{"unknown subcommand", []string{"datastore", "push"}, "unknown command"},
	}
	for _, tt := range tests {
		code, _, stderr := runIn(t, vars, tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.name, code, stderr, tt.want)
		}
	}
	if n := len(srv.TokenRequests()); n != 0 {
		t.Errorf("%d token requests: a refused command reached the network", n)
	}
}

func TestDatastoreEmbeddedEmulator(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runIn(t, nil, "-o", "json", "datastore", "put", "--user", "amzn1.ask.account.X", "--namespace", "scores", "--key", "m", "--content-json", `{"home":2}`)
	var out datastoreResult
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitOK {
		t.Fatalf("exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if !strings.Contains(stderr, "built-in emulator") || out.Emulator == nil || len(out.Emulator.Devices) != 1 {
		t.Fatalf("embedded emulator: %s\n%s", stdout, stderr)
	}
	d := out.Emulator.Devices[0]
	if d.ID != alexatest.DefaultDeviceID("amzn1.ask.account.X") || d.UserID != "amzn1.ask.account.X" || d.StoredBytes != len("scores")+len("m")+len(`{"home":2}`) {
		t.Errorf("emulator device %+v", d)
	}
	code, stdout, _ = runIn(t, nil, "datastore", "clear", "--device", "kitchen")
	if code != ExitOK || !strings.Contains(stdout, "emulator device kitchen (online, 0 bytes): {}") {
		t.Errorf("clear: exit %d\n%s", code, stdout)
	}
}

func TestParseUntil(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2h":                        now.Add(2 * time.Hour),
		" 90m ":                     now.Add(90 * time.Minute),
		"2026-11-25T18:30:00Z":      time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC),
		"2026-11-25T18:30:00+01:00": time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC),
	} {
		if got, err := parseUntil(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseUntil(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0s", "-1h", "tomorrow", "2026-11-25"} {
		if _, err := parseUntil(in, now); err == nil {
			t.Errorf("parseUntil(%q) accepted", in)
		}
	}
}
