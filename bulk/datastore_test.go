package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/datastore"
)

// dsLine is line i of a generated DataStore input: a score put on every
// device of userID(i).
func dsLine(i int) string {
	return fmt.Sprintf(`{"target": {"type": "USER", "id": %q}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match", "content": {"home": %d}}]}`, userID(i), i)
}

// collect returns an OnResult that keeps the results by line.
func collect() (func(bulk.Result), func() map[int]bulk.Result) {
	var mu sync.Mutex
	got := map[int]bulk.Result{}
	return func(r bulk.Result) {
			mu.Lock()
			defer mu.Unlock()
			got[r.Line] = r
		}, func() map[int]bulk.Result {
			mu.Lock()
			defer mu.Unlock()
			return got
		}
}

// Devices online get the commands, offline ones have them queued (the
// item is delivered and its queued id reported), an unknown device fails
// its item while its sibling gets the commands, and bad lines are Invalid
// with their field named; all of it in the failures file.
func TestDataStoreDevices(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	ds := srv.DataStore()
	for _, d := range [][2]string{{"u1", "d1"}, {"u1", "d2"}, {"u2", "d3"}, {"u3", "d4"}} {
		if err := ds.AddDevice(d[0], d[1]); err != nil {
			t.Fatal(err)
		}
	}
	ds.SetOnline("d2", false)
	input := strings.Join([]string{
		`{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT_NAMESPACE", "namespace": "todo"}, {"type": "PUT_OBJECT", "namespace": "todo", "key": "count", "content": 3}], "attemptDeliveryUntil": "2099-01-01T00:00:00Z"}`,
		`{"target": {"type": "DEVICES", "items": ["d3"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "count", "content": {"n": 1}}]}`,
		`not json`,
		`{"target": {"type": "DEVICES", "items": ["d4", "nope"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "count", "content": 4}]}`,
		`{"target": {"type": "USER", "id": "u3"}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": ""}]}`,
		`{"target": "u3", "commands": [{"type": "CLEAR"}]}`,
		``,
		`{"target": {"type": "USER", "id": "u2"}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2001-01-01T00:00:00Z"}`,
	}, "\n")
	var failures bytes.Buffer
	onResult, results := collect()
	sum, err := bulk.SendDataStore(context.Background(), fastConfig(srv), strings.NewReader(input), bulk.Options{
		Failures: bulk.NewFailureWriter(&failures),
		OnResult: onResult,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := results()
	want := map[int]bulk.Status{1: bulk.Sent, 2: bulk.Sent, 3: bulk.Invalid, 4: bulk.Failed, 5: bulk.Invalid, 6: bulk.Invalid, 8: bulk.Invalid}
	if len(got) != len(want) {
		t.Errorf("results for %d lines, want %d", len(got), len(want))
	}
	for line, st := range want {
		if got[line].Status != st {
			t.Errorf("line %d: %s (%v), want %s", line, got[line].Status, got[line].Err, st)
		}
	}

	// Nothing was sent for the bad lines: three commands calls in all.
	if n := srv.Calls(datastore.PathCommands); n != 3 {
		t.Errorf("%d commands calls, want 3", n)
	}

	// Line 1: d1 got it, d2 has it queued under the reported id.
	r1 := got[1]
	if r1.UserID != "u1" || r1.DataStore == nil || len(r1.DataStore.Devices) != 2 || len(r1.DataStore.QueuedResultIDs) != 1 {
		t.Fatalf("line 1: %+v %+v", r1, r1.DataStore)
	}
	q := r1.DataStore.Queued()
	if len(q) != 1 || q[0].DeviceID != "d2" || q[0].Type != datastore.DeviceUnavailable || q[0].QueuedResultID != r1.DataStore.QueuedResultIDs[0] {
		t.Errorf("line 1 queued %+v", q)
	}
	if v, _ := ds.Object("d1", "todo", "count"); string(v) != "3" {
		t.Errorf("d1 stores %s", v)
	}
	if _, ok := ds.Object("d2", "todo", "count"); ok {
		t.Error("offline d2 stores the object")
	}
	// The queued id is Alexa's: it lists d2 until d2 comes online.
	client := datastore.NewClient(srv.Config())
	var pending []string
	for r, err := range client.QueuedResult(context.Background(), q[0].QueuedResultID) {
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, r.DeviceID)
	}
	if !slices.Equal(pending, []string{"d2"}) {
		t.Errorf("queue lists %v", pending)
	}
	ds.SetOnline("d2", true)
	if v, _ := ds.Object("d2", "todo", "count"); string(v) != "3" {
		t.Errorf("d2 online stores %s", v)
	}

	// Line 4: d4 got it, "nope" is no device of the skill.
	r4 := got[4]
	var de *bulk.DeviceError
	if !errors.As(r4.Err, &de) || de.Devices != 2 || len(de.Failed) != 1 || de.Failed[0].DeviceID != "nope" || de.Failed[0].Type != datastore.InvalidDevice {
		t.Fatalf("line 4: %v", r4.Err)
	}
	if r4.Reason() != "INVALID_DEVICE" || r4.Attempts != 1 {
		t.Errorf("line 4: reason %q, %d attempts (an invalid device is not retried)", r4.Reason(), r4.Attempts)
	}
	if v, _ := ds.Object("d4", "todo", "count"); string(v) != "4" {
		t.Errorf("d4 stores %s", v)
	}

	// Bad lines name the field and the rule.
	for line, field := range map[int]string{3: "line", 5: "commands[0].key", 6: "target", 8: "attemptDeliveryUntil"} {
		var ve *alexa.ValidationError
		if !errors.As(got[line].Err, &ve) || !slices.ContainsFunc(ve.Violations, func(v alexa.Violation) bool { return v.Field == field }) {
			t.Errorf("line %d: %v, want a violation of %s", line, got[line].Err, field)
		}
	}
	if got[6].Err.Error() != "bulk: invalid request: target: must be a JSON object (got a JSON string)" {
		t.Errorf("line 6: %v", got[6].Err)
	}
	if v, _ := ds.Object("d3", "todo", "count"); string(v) != `{"n":1}` {
		t.Errorf("d3 stores %s", v)
	}

	if sum.Sent != 2 || sum.Queued != 1 || sum.Failed != 1 || sum.Invalid != 4 || sum.Reasons["INVALID_DEVICE"] != 1 || sum.Reasons["invalid"] != 4 || sum.AllDelivered() || !sum.Complete || sum.Kind != bulk.KindDataStore {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(sum.String(), "queued 1 ") {
		t.Errorf("summary text:\n%s", sum)
	}

	// The failures file has the failed and invalid lines, input as given.
	var lines []bulk.Failure
	for _, l := range strings.Split(strings.TrimSpace(failures.String()), "\n") {
		var f bulk.Failure
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("failures line %q: %v", l, err)
		}
		lines = append(lines, f)
	}
	slices.SortFunc(lines, func(a, b bulk.Failure) int { return a.Line - b.Line })
	if len(lines) != 5 || lines[1].Line != 4 || lines[1].Reason != "INVALID_DEVICE" || !strings.Contains(lines[1].Error, "nope INVALID_DEVICE") {
		t.Fatalf("failures file:\n%s", failures.String())
	}
	var in bulk.DataStoreLine
	if err := json.Unmarshal(lines[1].Input, &in); err != nil || !slices.Equal(in.Target.Items, []string{"d4", "nope"}) {
		t.Errorf("failure input %s", lines[1].Input)
	}

	// A result's JSON carries the devices and queued ids.
	b, _ := json.Marshal(r1)
	var rj struct {
		DataStore struct {
			Target          datastore.Target `json:"target"`
			Devices         []map[string]string
			QueuedResultIDs []string `json:"queuedResultIds"`
		} `json:"datastore"`
	}
	if err := json.Unmarshal(b, &rj); err != nil || rj.DataStore.Target.ID != "u1" || len(rj.DataStore.Devices) != 2 || rj.DataStore.Devices[1]["queuedResultId"] == "" || len(rj.DataStore.QueuedResultIDs) != 1 {
		t.Errorf("result JSON %s", b)
	}
}

// A device answered CONCURRENCY_ERROR is sent the commands again, alone;
// one that keeps failing with INTERNAL_ERROR fails its item after the
// policy's attempts.
func TestDataStoreRetriesFailedDevices(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	ds := srv.DataStore()
	ds.AddDevice("u1", "d1")
	ds.AddDevice("u1", "d2")
	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: http.StatusOK, Times: 1,
		Body: `{"results": [{"deviceId": "d1", "type": "SUCCESS"}, {"deviceId": "d2", "type": "CONCURRENCY_ERROR", "message": "busy"}]}`})
	cfg := fastConfig(srv)
	cfg.Retry.MaxAttempts = 3
	onResult, results := collect()
	sum, err := bulk.SendDataStore(context.Background(), cfg, strings.NewReader(dsLine(1)+"\n"), bulk.Options{OnResult: onResult})
	if err != nil {
		t.Fatal(err)
	}
	r := results()[1]
	if r.Status != bulk.Sent || r.Attempts != 2 || sum.Retried != 1 || !sum.AllDelivered() {
		t.Fatalf("%s %v, %d attempts; summary %+v", r.Status, r.Err, r.Attempts, sum)
	}
	// The injected answer served nobody; the retry went to d2 alone.
	calls := ds.Calls()
	if len(calls) != 1 || calls[0].Request.Target.Type != datastore.TargetDevices || !slices.Equal(calls[0].Request.Target.Items, []string{"d2"}) {
		t.Fatalf("served calls %+v", calls)
	}
	if _, ok := ds.Object("d1", "scores", "match"); ok {
		t.Error("d1, answered SUCCESS, was sent the commands again")
	}
	if v, _ := ds.Object("d2", "scores", "match"); string(v) != `{"home":1}` {
		t.Errorf("d2 stores %s", v)
	}
	if got := r.DataStore.Devices; len(got) != 2 || got[0].DeviceID != "d1" || got[1].DeviceID != "d2" || got[1].Type != datastore.Success {
		t.Errorf("devices %+v", got)
	}

	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: http.StatusOK,
		Body: `{"results": [{"deviceId": "d2", "type": "INTERNAL_ERROR", "message": "STORAGE_LIMIT_EXCEEDED"}]}`})
	defer srv.ClearFaults()
	before := srv.Calls(datastore.PathCommands)
	var failures bytes.Buffer
	sum, err = bulk.SendDataStore(context.Background(), cfg, strings.NewReader(dsLine(2)+"\n"), bulk.Options{OnResult: onResult, Failures: bulk.NewFailureWriter(&failures)})
	if err != nil {
		t.Fatal(err)
	}
	r = results()[1]
	var de *bulk.DeviceError
	if r.Status != bulk.Failed || !errors.As(r.Err, &de) || de.Failed[0].Type != datastore.InternalError || r.Reason() != "INTERNAL_ERROR" || r.Attempts != 3 {
		t.Fatalf("%s %v, %d attempts", r.Status, r.Err, r.Attempts)
	}
	if n := srv.Calls(datastore.PathCommands) - before; n != 3 || sum.Retried != 2 || sum.Failed != 1 {
		t.Errorf("%d calls, summary %+v; want 3 calls, 2 retries", n, sum)
	}
	if !strings.Contains(failures.String(), `"reason":"INTERNAL_ERROR"`) || !strings.Contains(failures.String(), "STORAGE_LIMIT_EXCEEDED") {
		t.Errorf("failures file: %s", failures.String())
	}
}

// A job stopped half way and run again with its journal sends only what
// was not delivered; a journal of another kind is refused.
func TestDataStoreResumeWithJournal(t *testing.T) {
	t.Parallel()
	const n = 40
	// No write limit: the job runs faster than Alexa's 25 per second.
	srv := newServer(t, alexatest.Options{DiscardRecords: true, DataStore: alexatest.DataStoreOptions{WritesPerSecond: -1}})
	path := filepath.Join(t.TempDir(), "journal")
	if j, err := bulk.OpenJournal(path, bulk.KindMessage, ""); err != nil {
		t.Fatal(err)
	} else {
		_, err := bulk.SendDataStore(context.Background(), fastConfig(srv), strings.NewReader(dsLine(1)), bulk.Options{Journal: j})
		j.Close()
		if !errors.Is(err, bulk.ErrJournalMismatch) {
			t.Fatalf("a message journal for a DataStore job: %v", err)
		}
	}
	path = filepath.Join(t.TempDir(), "ds.journal")
	j, err := bulk.OpenJournal(path, bulk.KindDataStore, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var seen int
	sum, err := bulk.SendDataStore(ctx, fastConfig(srv), generate(n, dsLine), bulk.Options{Journal: j, Rate: 200, Concurrency: 4, OnResult: func(bulk.Result) {
		if seen++; seen == 10 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || sum == nil || sum.Complete || sum.Sent < 10 || sum.Sent >= n {
		t.Fatalf("%v %+v", err, sum)
	}
	j.Close()
	first := sum.Sent
	callsBefore := srv.Calls(datastore.PathCommands)

	j, err = bulk.OpenJournal(path, bulk.KindDataStore, "")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	sum, err = bulk.SendDataStore(context.Background(), fastConfig(srv), generate(n, dsLine), bulk.Options{Journal: j, Rate: 200})
	if err != nil || !sum.AllDelivered() || !sum.Resumed || sum.Skipped != first || sum.Sent != n-first {
		t.Fatalf("%v %+v (first run sent %d)", err, sum, first)
	}
	// Only the calls in flight when the first run was cancelled (at most
	// Concurrency, cut off before their answer came) can go twice.
	if calls := srv.Calls(datastore.PathCommands) - callsBefore; calls < n-first || calls > n-first+4 {
		t.Errorf("the rerun made %d calls, want %d to %d", calls, n-first, n-first+4)
	}
	for i := 1; i <= n; i++ {
		if v, _ := srv.DataStore().Object(alexatest.DefaultDeviceID(userID(i)), "scores", "match"); string(v) != fmt.Sprintf(`{"home":%d}`, i) {
			t.Errorf("user %d's device stores %s", i, v)
		}
	}
}

// With Rate 0 the job keeps to Alexa's 25 writes per second, and the
// emulator, which enforces that limit, never throttles it; without a cap
// the same job is throttled.
func TestDataStoreDefaultRate(t *testing.T) {
	t.Parallel()
	const n = 30
	srv := newServer(t, alexatest.Options{DiscardRecords: true})
	var mu sync.Mutex
	var sent []time.Time
	cfg := fastConfig(srv)
	cfg.HTTPClient = recordTimes{next: cfg.HTTPClient, record: func(t time.Time) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, t)
	}}
	sum, err := bulk.SendDataStore(context.Background(), cfg, generate(n, dsLine), bulk.Options{})
	if err != nil || sum.Sent != n {
		t.Fatalf("%v %+v", err, sum)
	}
	if sum.Throttled != 0 {
		t.Errorf("throttled %d times at the default rate", sum.Throttled)
	}
	// The limiter spaces calls 1/25 s apart; allow one interval for the
	// timer that let the first call go late.
	if span, least := sent[len(sent)-1].Sub(sent[0]), time.Duration(float64(n-2)/bulk.DefaultDataStoreRate*float64(time.Second)); span < least {
		t.Errorf("%d calls in %s: faster than %g per second", n, span, bulk.DefaultDataStoreRate)
	}

	// The emulator at 10 writes per second (burst 10), sent to without a
	// cap: throttled unless 30 calls took more than two seconds.
	slow := newServer(t, alexatest.Options{DiscardRecords: true, DataStore: alexatest.DataStoreOptions{WritesPerSecond: 10}})
	sum, err = bulk.SendDataStore(context.Background(), fastConfig(slow), generate(n, dsLine), bulk.Options{Rate: math.Inf(1)})
	if err != nil || sum.Sent != n || sum.Throttled == 0 {
		t.Errorf("uncapped: %v %+v, want some 429s", err, sum)
	}
}

// recordTimes records when each request leaves.
type recordTimes struct {
	next   alexa.HTTPClient
	record func(time.Time)
}

func (r recordTimes) Do(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/v1/") {
		r.record(time.Now())
	}
	return r.next.Do(req)
}

// A skill without DataStore support stops the job at its first call:
// every other item would be refused the same way.
func TestDataStoreSupportRequiredStops(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: http.StatusForbidden,
		Body: `{"type": "DATASTORE_SUPPORT_REQUIRED", "message": "the skill does not support DataStore"}`})
	defer srv.ClearFaults()
	sum, err := bulk.SendDataStore(context.Background(), fastConfig(srv), generate(50, dsLine), bulk.Options{Concurrency: 1})
	var stop *bulk.StopError
	if !errors.As(err, &stop) || !errors.Is(err, datastore.ErrSupportRequired) || sum == nil || sum.Complete {
		t.Fatalf("%v %+v", err, sum)
	}
	if n := srv.Calls(datastore.PathCommands); n > 2 {
		t.Errorf("%d calls after the refusal", n)
	}
}

func TestParseDataStore(t *testing.T) {
	t.Parallel()
	until := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	req, err := bulk.ParseDataStore([]byte(`{"target": {"type": "DEVICES", "items": ["a"]}, "commands": [{"type": "CLEAR"}]}`), bulk.DataStoreOptions{AttemptDeliveryUntil: until})
	if err != nil || req.AttemptDeliveryUntil != "2099-01-02T03:04:05.000Z" {
		t.Fatalf("%v %+v", err, req)
	}
	req, err = bulk.ParseDataStore([]byte(`{"target": {"type": "DEVICES", "items": ["a"]}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2098-01-01T00:00:00Z"}`), bulk.DataStoreOptions{AttemptDeliveryUntil: until})
	if err != nil || req.AttemptDeliveryUntil != "2098-01-01T00:00:00Z" {
		t.Errorf("a line's own attemptDeliveryUntil was replaced: %v %+v", err, req)
	}
	big := fmt.Sprintf(`{"target": {"type": "USER", "id": "u"}, "commands": [{"type": "PUT_OBJECT", "namespace": "n", "key": "k", "content": %q}]}`, strings.Repeat("x", 2000))
	_, err = bulk.ParseDataStore([]byte(big), bulk.DataStoreOptions{Limits: datastore.Limits{MaxPayloadBytes: 1000}})
	if !errors.Is(err, datastore.ErrPayloadTooLarge) {
		t.Errorf("payload over Limits: %v", err)
	}
	req, err = bulk.ParseDataStore([]byte(`{"target": {"type": "USER", "id": "u", "items": "x"}, "commands": []}`), bulk.DataStoreOptions{})
	if req != nil || err == nil || !strings.Contains(err.Error(), "target.items: must be a JSON array") {
		t.Errorf("%v", err)
	}
}

func ExampleSendDataStore() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	srv.DataStore().AddDevice("amzn1.ask.account.A", "kitchen")
	srv.DataStore().AddDevice("amzn1.ask.account.A", "bedroom")
	srv.DataStore().SetOnline("bedroom", false)

	input := strings.NewReader(`{"target": {"type": "USER", "id": "amzn1.ask.account.A"}, "commands": [{"type": "PUT_OBJECT", "namespace": "scores", "key": "match-42", "content": {"home": 2, "away": 1}}]}
{"target": {"type": "DEVICES", "items": ["kitchen"]}, "commands": [{"type": "REMOVE_OBJECT", "namespace": "scores"}]}
`)
	sum, err := bulk.SendDataStore(context.Background(), srv.Config(), input, bulk.Options{
		Concurrency: 1, // results in input order
		OnResult: func(r bulk.Result) {
			if r.Err != nil {
				fmt.Printf("line %d: %s: %v\n", r.Line, r.Status, r.Err)
			}
			if ds := r.DataStore; ds != nil {
				for _, d := range ds.Queued() {
					fmt.Printf("line %d: %s offline, queued\n", r.Line, d.DeviceID)
				}
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent", sum.Sent, "queued", sum.Queued, "invalid", sum.Invalid)
	// Output:
	// line 1: bedroom offline, queued
	// line 2: invalid: datastore.Commands: invalid request: commands[0].key: is required for REMOVE_OBJECT
	// sent 1 queued 1 invalid 1
}
