package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/queue"
)

const dsScoreLine = `{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT_NAMESPACE", "namespace": "scores"}, {"type": "PUT_OBJECT", "namespace": "scores", "key": "match", "content": {"home": 2, "away": 1}}], "attemptDeliveryUntil": "2099-01-01T00:00:00+00:00"}`

func dataStoreJob(t *testing.T, line string) *queue.DataStoreArgs {
	t.Helper()
	j, err := queue.ParseDataStore([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// jobOutput returns the DataStore outcome a job recorded.
func jobOutput(t *testing.T, q *queue.Queue, id int64) bulk.DataStoreResult {
	t.Helper()
	row, err := q.River().JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out bulk.DataStoreResult
	if err := json.Unmarshal(row.Output(), &out); err != nil {
		t.Fatalf("output %s: %v", row.Output(), err)
	}
	return out
}

// jsonEqual reports whether got is the JSON value want: River stores
// job args as jsonb, which keeps no key order.
func jsonEqual(got []byte, want string) bool {
	var g, w any
	return json.Unmarshal(got, &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
}

// ParseDataStore takes "bulk datastore" lines with datastore's rules, and
// stores them in one form: compact contents, the deadline as Amazon's
// SDKs write it.
func TestParseDataStore(t *testing.T) {
	t.Parallel()
	j := dataStoreJob(t, dsScoreLine)
	if j.Target.Type != datastore.TargetUser || j.Target.ID != "u1" || len(j.Commands) != 2 || j.Commands[1].Type != datastore.TypePutObject ||
		string(j.Commands[1].Content) != `{"home":2,"away":1}` || j.AttemptDeliveryUntil != "2099-01-01T00:00:00.000Z" || j.Key != "" {
		t.Errorf("got %+v", j)
	}
	// NewDataStore copies: changing the caller's request later changes
	// nothing in the job.
	req := datastore.NewRequest(datastore.Devices("d1", "d2"), []datastore.Command{datastore.PutObject("ns", "k", map[string]int{"n": 1})})
	n, err := queue.NewDataStore(req)
	if err != nil {
		t.Fatal(err)
	}
	req.Target.Items[0], req.Commands[0].Key = "other", "changed"
	if n.Target.Items[0] != "d1" || n.Commands[0].Key != "k" {
		t.Errorf("the job shares the caller's slices: %+v", n)
	}
	if _, err := queue.NewDataStore(nil); err == nil {
		t.Error("a nil request was accepted")
	}
}

// Invalid DataStore jobs are refused at enqueue, naming the field, before
// the database is reached.
func TestEnqueueRefusesInvalidDataStoreJobs(t *testing.T) {
	t.Parallel()
	q := offlineQueue(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, line string
		opts       *queue.EnqueueOptions
		field      string
	}{
		{"no target", `{"commands": [{"type": "CLEAR"}]}`, nil, "target.type"},
		{"no commands", `{"target": {"type": "USER", "id": "u1"}, "commands": []}`, nil, "commands"},
		{"put without content", `{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT_OBJECT", "namespace": "n", "key": "k"}]}`, nil, "commands[0].content"},
		{"unknown command", `{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "PUT"}]}`, nil, "commands[0].type"},
		{"target not an object", `{"target": "u1", "commands": [{"type": "CLEAR"}]}`, nil, "target"},
		{"deadline passed", `{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2001-01-01T00:00:00Z"}`, nil, "attemptDeliveryUntil"},
		{"deadline before the schedule", `{"target": {"type": "USER", "id": "u1"}, "commands": [{"type": "CLEAR"}], "attemptDeliveryUntil": "2090-01-01T00:00:00Z"}`,
			&queue.EnqueueOptions{At: time.Date(2091, 1, 1, 0, 0, 0, 0, time.UTC)}, "attemptDeliveryUntil"},
	} {
		job, err := queue.ParseDataStore([]byte(tc.line))
		if tc.opts == nil {
			if vs := violations(t, err); vs[0].Field != tc.field {
				t.Errorf("%s: ParseDataStore: violations %v, want the first on %s", tc.name, vs, tc.field)
			}
			// The same content filled in by hand is refused by Enqueue.
			job = &queue.DataStoreArgs{}
			if json.Unmarshal([]byte(tc.line), &job.Request) != nil {
				continue
			}
		} else if err != nil {
			t.Fatal(err)
		}
		_, err = q.Enqueue(ctx, job, tc.opts)
		if vs := violations(t, err); vs[0].Field != tc.field {
			t.Errorf("%s: Enqueue: violations %v, want the first on %s", tc.name, vs, tc.field)
		}
	}
	big := datastore.NewRequest(datastore.User("u1"), []datastore.Command{datastore.PutObject("n", "k", strings.Repeat("x", datastore.DefaultMaxPayloadBytes))})
	if _, err := q.Enqueue(ctx, &queue.DataStoreArgs{Request: *big}, nil); !errors.Is(err, datastore.ErrPayloadTooLarge) {
		t.Errorf("payload too large: %v, want datastore.ErrPayloadTooLarge", err)
	}
	// The queue's own limits apply.
	strict, err := queue.New(q.Pool(), queue.Options{DataStoreLimits: datastore.Limits{MaxDevices: 1}})
	if err != nil {
		t.Fatal(err)
	}
	two := dataStoreJob(t, `{"target": {"type": "DEVICES", "items": ["d1", "d2"]}, "commands": [{"type": "CLEAR"}]}`)
	if vs := violations(t, strict.Check(two, nil)); vs[0].Field != "target.items" {
		t.Errorf("with MaxDevices 1: %v", vs)
	}
}

// A DataStore job is delivered to the emulator's devices: online ones
// store the object, offline ones have it queued (and the job counts as
// delivered, its queuedResultId in its output), with one token for the
// DataStore scope.
func TestDataStoreJobDelivered(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	ds := srv.DataStore()
	for _, d := range [][2]string{{"u1", "d1"}, {"u1", "d2"}, {"u2", "d3"}} {
		if err := ds.AddDevice(d[0], d[1]); err != nil {
			t.Fatal(err)
		}
	}
	ds.SetOnline("d2", false)
	ctx := context.Background()
	user, err := q.Enqueue(ctx, dataStoreJob(t, dsScoreLine), nil)
	if err != nil {
		t.Fatal(err)
	}
	devices, err := q.Enqueue(ctx, dataStoreJob(t, `{"target": {"type": "DEVICES", "items": ["d3"]}, "commands": [{"type": "PUT_OBJECT", "namespace": "todo", "key": "count", "content": 3}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := startWorker(t, q, srv.Config(), fastOptions())
	for _, id := range []int64{user.ID, devices.ID} {
		waitFor(t, "completion", func() bool { s, _ := jobState(t, db, id); return s == "completed" })
	}
	if v, _ := ds.Object("d1", "scores", "match"); !jsonEqual(v, `{"home":2,"away":1}`) {
		t.Errorf("d1 stores %s", v)
	}
	if v, _ := ds.Object("d3", "todo", "count"); string(v) != `3` {
		t.Errorf("d3 stores %s", v)
	}
	if _, ok := ds.Object("d2", "scores", "match"); ok {
		t.Error("offline d2 stores the object already")
	}
	out := jobOutput(t, q, user.ID)
	if len(out.Devices) != 2 || out.Devices[0].Type != datastore.Success || out.Devices[1].QueuedResultID == "" || len(out.QueuedResultIDs) != 1 {
		t.Errorf("output %+v, want d1 delivered and d2 queued", out)
	}
	ds.SetOnline("d2", true)
	if v, _ := ds.Object("d2", "scores", "match"); !jsonEqual(v, `{"home":2,"away":1}`) {
		t.Errorf("d2, back online, stores %s", v)
	}
	if st := w.Stats(); st.Sent != 2 {
		t.Errorf("stats %+v, want 2 sent", st)
	}
	var dsTokens int
	for _, r := range srv.TokenRequests() {
		if r.Scope == lwa.ScopeDataStore {
			dsTokens++
		}
	}
	if dsTokens != 1 {
		t.Errorf("%d token requests for %s, want 1", dsTokens, lwa.ScopeDataStore)
	}
	// Two calls, in either order; the deadline as Amazon's SDKs write it.
	calls := ds.Calls()
	i := slices.IndexFunc(calls, func(c alexatest.DataStoreCall) bool { return c.Request.Target.Type == datastore.TargetUser })
	if len(calls) != 2 || i < 0 || calls[i].Request.AttemptDeliveryUntil != "2099-01-01T00:00:00.000Z" {
		t.Errorf("calls %+v", calls)
	}
}

// Enqueuing the same DataStore content twice (other spacing, other key
// order in a content) adds one job; other content, or a key, adds another.
func TestDataStoreUniqueness(t *testing.T) {
	t.Parallel()
	_, q := newTestQueue(t)
	ctx := context.Background()
	first, err := q.Enqueue(ctx, dataStoreJob(t, dsScoreLine), nil)
	if err != nil || first.Duplicate {
		t.Fatalf("first: %+v, %v", first, err)
	}
	same := `{ "attemptDeliveryUntil": "2099-01-01T00:00:00Z", "commands": [{"type": "PUT_NAMESPACE", "namespace": "scores"}, {"key": "match", "type": "PUT_OBJECT", "namespace": "scores", "content": { "away": 1, "home": 2 }}], "target": {"id": "u1", "type": "USER"} }`
	other := strings.Replace(dsScoreLine, `"home": 2`, `"home": 3`, 1)
	res, err := q.EnqueueMany(ctx, []queue.Job{dataStoreJob(t, same), dataStoreJob(t, other), dataStoreJob(t, other)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[0].ID != first.ID || res[1].Duplicate || !res[2].Duplicate || res[2].ID != res[1].ID {
		t.Errorf("results %+v; want the first a duplicate of job %d, the second new, the third its duplicate", res, first.ID)
	}
	keyed, err := q.Enqueue(ctx, dataStoreJob(t, dsScoreLine), &queue.EnqueueOptions{UniqueKey: "score-update-2"})
	if err != nil || keyed.Duplicate {
		t.Errorf("with its own key: %+v, %v; want a new job", keyed, err)
	}
	st, err := q.Status(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.States["available"] != 3 {
		t.Errorf("states %v, want 3 jobs", st.States)
	}
}

// A device answered CONCURRENCY_ERROR fails the job, which River retries:
// the next attempt sends the commands to that device alone. A device that
// cannot be served (INVALID_DEVICE) cancels its job as a dead letter.
func TestDataStoreDeviceFailures(t *testing.T) {
	t.Parallel()
	db, q := newTestQueue(t)
	srv := newServer(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true}})
	ds := srv.DataStore()
	ds.AddDevice("u1", "d1")
	ds.AddDevice("u1", "d2")
	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: http.StatusOK, Times: 1,
		Body: `{"results": [{"deviceId": "d1", "type": "SUCCESS"}, {"deviceId": "d2", "type": "CONCURRENCY_ERROR", "message": "busy"}]}`})
	ctx := context.Background()
	busy, err := q.Enqueue(ctx, dataStoreJob(t, dsScoreLine), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := startWorker(t, q, srv.Config(), fastOptions())
	waitFor(t, "the retried job", func() bool { s, _ := jobState(t, db, busy.ID); return s == "completed" })
	if _, attempt := jobState(t, db, busy.ID); attempt != 2 {
		t.Errorf("completed after %d attempts, want 2", attempt)
	}
	// The injected answer served nobody; the retry went to d2 alone.
	calls := ds.Calls()
	if len(calls) != 1 || calls[0].Request.Target.Type != datastore.TargetDevices || !slices.Equal(calls[0].Request.Target.Items, []string{"d2"}) {
		t.Fatalf("served calls %+v, want one to d2 alone", calls)
	}
	if _, ok := ds.Object("d1", "scores", "match"); ok {
		t.Error("d1, answered SUCCESS, was sent the commands again")
	}
	if out := jobOutput(t, q, busy.ID); len(out.Devices) != 2 || out.Devices[1].DeviceID != "d2" || out.Devices[1].Type != datastore.Success {
		t.Errorf("output %+v, want both devices served", out)
	}

	unknown, err := q.Enqueue(ctx, dataStoreJob(t, `{"target": {"type": "DEVICES", "items": ["d1", "nope"]}, "commands": [{"type": "CLEAR"}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", func() bool { s, _ := jobState(t, db, unknown.ID); return s == "cancelled" })
	dl, err := q.DeadLetters(ctx, 10)
	if err != nil || len(dl) != 1 || dl[0].Kind != queue.KindDataStore || !strings.Contains(dl[0].Error, "nope INVALID_DEVICE") {
		t.Errorf("dead letters %+v, %v; want the job with nope INVALID_DEVICE", dl, err)
	}
	if st := w.Stats(); st.Retried != 1 || st.Cancelled != 1 || st.Sent != 1 {
		t.Errorf("stats %+v, want 1 retried, 1 cancelled, 1 sent", st)
	}
}
