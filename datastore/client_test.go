package datastore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/google/go-cmp/cmp"
)

// setup starts an emulator with opts and returns a client of it that makes
// one attempt per call.
func setup(t *testing.T, opts alexatest.Options) (*alexatest.Server, *datastore.Client) {
	t.Helper()
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Retry = alexa.NoRetry()
	return srv, datastore.NewClient(cfg)
}

// clock is a settable emulator clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestEveryCommandOnEveryTarget(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ds := srv.DataStore()
	ctx := context.Background()
	const user = "amzn1.ask.account.U"
	for _, id := range []string{"dev-1", "dev-2"} {
		if err := ds.AddDevice(user, id); err != nil {
			t.Fatal(err)
		}
	}
	ok := func(res *datastore.Response, err error, devices ...string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var want []datastore.DispatchResult
		for _, d := range devices {
			want = append(want, datastore.DispatchResult{DeviceID: d, Type: datastore.Success})
		}
		if diff := cmp.Diff(want, res.Results); diff != "" || res.QueuedResultID != "" || len(res.Failed()) != 0 {
			t.Errorf("results (-want +got):\n%s queued %q", diff, res.QueuedResultID)
		}
	}
	store := func(dev string) map[string]map[string]json.RawMessage {
		d, _ := ds.Device(dev)
		return d.Store
	}

	res, err := c.Commands(ctx, datastore.User(user), []datastore.Command{
		datastore.PutNamespace("empty"),
		datastore.PutObject("scores", "match", map[string]int{"home": 2}),
		datastore.PutObject("scores", "raw", json.RawMessage(` [1, 2] `)),
		datastore.PutObject("todo", "count", 3),
	})
	ok(res, err, "dev-1", "dev-2")
	want := map[string]map[string]json.RawMessage{
		"empty":  {},
		"scores": {"match": json.RawMessage(`{"home":2}`), "raw": json.RawMessage(`[1,2]`)},
		"todo":   {"count": json.RawMessage(`3`)},
	}
	for _, d := range []string{"dev-1", "dev-2"} {
		if diff := cmp.Diff(want, store(d)); diff != "" {
			t.Errorf("%s store (-want +got):\n%s", d, diff)
		}
	}

	res, err = c.Commands(ctx, datastore.Devices("dev-2"), []datastore.Command{datastore.RemoveObject("scores", "raw"), datastore.RemoveNamespace("todo")})
	ok(res, err, "dev-2")
	if diff := cmp.Diff(map[string]map[string]json.RawMessage{"empty": {}, "scores": {"match": json.RawMessage(`{"home":2}`)}}, store("dev-2")); diff != "" {
		t.Errorf("dev-2 after removals (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, store("dev-1")); diff != "" {
		t.Errorf("dev-1 changed by a command for dev-2:\n%s", diff)
	}
	res, err = c.Commands(ctx, datastore.Devices("dev-1", "dev-2"), []datastore.Command{datastore.Clear()})
	ok(res, err, "dev-1", "dev-2")
	for _, d := range []string{"dev-1", "dev-2"} {
		if got := store(d); len(got) != 0 {
			t.Errorf("%s after CLEAR: %v", d, got)
		}
		if dev, _ := ds.Device(d); dev.StoredBytes != 0 {
			t.Errorf("%s holds %d bytes after CLEAR", d, dev.StoredBytes)
		}
	}

	calls := ds.Calls()
	if len(calls) != 3 || calls[0].Request.Target.ID != user || calls[1].Request.Commands[1].Type != datastore.TypeRemoveNamespace || calls[2].Status != 200 {
		t.Errorf("recorded calls: %+v", calls)
	}
}

// fakeTokens hands out one fixed token.
type fakeTokens struct{}

func (fakeTokens) Token(context.Context, string) (string, error) { return "tok", nil }
func (fakeTokens) Invalidate(string, string)                     {}

// recorded is one request a raw server received.
type recorded struct {
	Method, URI, Auth, Body string
}

// rawServer answers every request with handler and records it.
func rawServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) (*datastore.Client, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var reqs []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, recorded{r.Method, r.RequestURI, r.Header.Get("Authorization"), string(b)})
		mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	c := datastore.NewClient(alexa.Config{Endpoint: srv.URL, Tokens: fakeTokens{}, Retry: alexa.NoRetry()})
	return c, func() []recorded { mu.Lock(); defer mu.Unlock(); return append([]recorded(nil), reqs...) }
}

// The requests are those of Amazon's Python DatastoreServiceClient:
// same paths, methods, query names and JSON field names.
func TestWireForm(t *testing.T) {
	t.Parallel()
	c, reqs := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == datastore.PathCommands:
			io.WriteString(w, `{"results":[{"deviceId":"d1","type":"SUCCESS"},{"deviceId":"d2","type":"DEVICE_UNAVAILABLE","message":"offline"}],"queuedResultId":"q-1"}`)
		case strings.HasSuffix(r.URL.Path, "/cancel"):
			w.WriteHeader(http.StatusNoContent)
		default:
			io.WriteString(w, `{"items":[{"deviceId":"d2","type":"DEVICE_UNAVAILABLE"}],"paginationContext":{"totalCount":1}}`)
		}
	})
	ctx := context.Background()
	until := time.Date(2099, 11, 25, 18, 30, 0, 0, time.FixedZone("CET", 3600))
	res, err := c.Commands(ctx, datastore.User("amzn1.ask.account.U"), []datastore.Command{
		datastore.PutNamespace("ns"),
		datastore.PutObject("ns", "k", map[string]any{"a": []int{1}}),
		datastore.RemoveObject("ns", "k"),
		datastore.RemoveNamespace("ns"),
		datastore.Clear(),
	}, datastore.AttemptDeliveryUntil(until))
	if err != nil {
		t.Fatal(err)
	}
	wantRes := &datastore.Response{Results: []datastore.DispatchResult{{DeviceID: "d1", Type: datastore.Success}, {DeviceID: "d2", Type: datastore.DeviceUnavailable, Message: "offline"}}, QueuedResultID: "q-1", Attempts: 1}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if _, err := c.Commands(ctx, datastore.Devices("d1", "d2"), []datastore.Command{datastore.Clear()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueuedResultPage(ctx, "q-123/x", datastore.Page{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueuedResultPage(ctx, "q-1", datastore.Page{MaxResults: 5, NextToken: "a+b&c=d"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, "q-123/x"); err != nil {
		t.Fatal(err)
	}
	want := []recorded{
		{"POST", "/v1/datastore/commands", "Bearer tok", `{"commands":[{"type":"PUT_NAMESPACE","namespace":"ns"},{"type":"PUT_OBJECT","namespace":"ns","key":"k","content":{"a":[1]}},{"type":"REMOVE_OBJECT","namespace":"ns","key":"k"},{"type":"REMOVE_NAMESPACE","namespace":"ns"},{"type":"CLEAR"}],"target":{"type":"USER","id":"amzn1.ask.account.U"},"attemptDeliveryUntil":"2099-11-25T17:30:00.000Z"}`},
		{"POST", "/v1/datastore/commands", "Bearer tok", `{"commands":[{"type":"CLEAR"}],"target":{"type":"DEVICES","items":["d1","d2"]}}`},
		{"GET", "/v1/datastore/queue/q-123%2Fx", "Bearer tok", ""},
		{"GET", "/v1/datastore/queue/q-1?maxResults=5&nextToken=a%2Bb%26c%3Dd", "Bearer tok", ""},
		{"POST", "/v1/datastore/queue/q-123%2Fx/cancel", "Bearer tok", ""},
	}
	if diff := cmp.Diff(want, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestInvalidRequestsSendNothing(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	big := strings.Repeat("x", datastore.DefaultMaxPayloadBytes)
	long := strings.Repeat("n", datastore.DefaultMaxNameLength+1)
	many := make([]string, datastore.DefaultMaxDevices+1)
	for i := range many {
		many[i] = fmt.Sprint("d", i)
	}
	put := datastore.PutObject("ns", "k", 1)
	tests := []struct {
		name    string
		target  datastore.Target
		cmds    []datastore.Command
		opts    []datastore.Option
		fields  string
		tooBig  bool
		payload bool
	}{
		{"no commands", datastore.User("u"), nil, nil, "commands", false, false},
		{"no target", datastore.Target{}, []datastore.Command{put}, nil, "target.type", false, false},
		{"bad target type", datastore.Target{Type: "SKILL"}, []datastore.Command{put}, nil, "target.type", false, false},
		{"user without id", datastore.User(""), []datastore.Command{put}, nil, "target.id", false, false},
		{"user with items", datastore.Target{Type: datastore.TargetUser, ID: "u", Items: []string{"d"}}, []datastore.Command{put}, nil, "target.items", false, false},
		{"no devices", datastore.Devices(), []datastore.Command{put}, nil, "target.items", false, false},
		{"empty device", datastore.Devices("d", ""), []datastore.Command{put}, nil, "target.items[1]", false, false},
		{"devices with id", datastore.Target{Type: datastore.TargetDevices, ID: "u", Items: []string{"d"}}, []datastore.Command{put}, nil, "target.id", false, false},
		{"too many devices", datastore.Devices(many...), []datastore.Command{put}, nil, "target.items", false, false},
		{"missing type", datastore.User("u"), []datastore.Command{{Namespace: "ns"}}, nil, "commands[0].type", false, false},
		{"unknown type", datastore.User("u"), []datastore.Command{{Type: "PUT"}}, nil, "commands[0].type", false, false},
		{"empty namespace and key", datastore.User("u"), []datastore.Command{datastore.PutObject("", "", 1)}, nil, "commands[0].namespace commands[0].key", false, false},
		{"empty namespace", datastore.User("u"), []datastore.Command{datastore.PutNamespace(""), datastore.RemoveNamespace("")}, nil, "commands[0].namespace commands[1].namespace", false, false},
		{"remove object without key", datastore.User("u"), []datastore.Command{datastore.RemoveObject("ns", "")}, nil, "commands[0].key", false, false},
		{"long name", datastore.User("u"), []datastore.Command{datastore.PutObject(long, "k", 1)}, nil, "commands[0].namespace", false, false},
		{"nil content", datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", nil)}, nil, "commands[0].content", false, false},
		{"null content", datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", json.RawMessage("null"))}, nil, "commands[0].content", false, false},
		{"invalid raw content", datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", json.RawMessage("{"))}, nil, "commands[0].content", false, false},
		{"unencodable content", datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", func() {})}, nil, "commands[0].content", false, false},
		{"clear with namespace", datastore.User("u"), []datastore.Command{{Type: datastore.TypeClear, Namespace: "ns"}}, nil, "commands[0].namespace", false, false},
		{"content on remove", datastore.User("u"), []datastore.Command{{Type: datastore.TypeRemoveObject, Namespace: "ns", Key: "k", Content: json.RawMessage("1")}}, nil, "commands[0].content", false, false},
		{"key on namespace", datastore.User("u"), []datastore.Command{{Type: datastore.TypePutNamespace, Namespace: "ns", Key: "k"}}, nil, "commands[0].key", false, false},
		{"past delivery", datastore.User("u"), []datastore.Command{put}, []datastore.Option{datastore.AttemptDeliveryUntil(time.Now().Add(-time.Minute))}, "attemptDeliveryUntil", false, false},
		{"payload too large", datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", big)}, nil, "commands", true, true},
	}
	for _, tt := range tests {
		_, err := c.Commands(context.Background(), tt.target, tt.cmds, tt.opts...)
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: err %v, want *alexa.ValidationError", tt.name, err)
		}
		var fields []string
		for _, v := range ve.Violations {
			fields = append(fields, v.Field)
		}
		if got := strings.Join(fields, " "); got != tt.fields {
			t.Errorf("%s: violations on %q, want %q: %v", tt.name, got, tt.fields, err)
		}
		if errors.Is(err, datastore.ErrPayloadTooLarge) != tt.payload {
			t.Errorf("%s: errors.Is(err, ErrPayloadTooLarge) = %v", tt.name, !tt.payload)
		}
		if errors.Is(err, datastore.ErrTooManyTargets) != (tt.name == "too many devices") {
			t.Errorf("%s: errors.Is(err, ErrTooManyTargets) = %v", tt.name, errors.Is(err, datastore.ErrTooManyTargets))
		}
		if len(err.Error()) > 2000 {
			t.Errorf("%s: error of %d bytes: values are not shortened", tt.name, len(err.Error()))
		}
	}
	// Every other limit is checked on the wire form: a bad string time.
	err := datastore.DefaultLimits().Validate(&datastore.Request{Commands: []datastore.Command{put}, Target: datastore.User("u"), AttemptDeliveryUntil: "tomorrow"})
	if err == nil || !strings.Contains(err.Error(), "attemptDeliveryUntil: must be an ISO-8601") {
		t.Errorf("bad attemptDeliveryUntil: %v", err)
	}
	if err := c.Cancel(context.Background(), ""); err == nil {
		t.Error("Cancel with no id accepted")
	}
	if _, err := c.QueuedResultPage(context.Background(), "q", datastore.Page{MaxResults: -1}); err == nil {
		t.Error("negative maxResults accepted")
	}
	if n := len(srv.TokenRequests()); n != 0 || srv.Calls(datastore.PathCommands) != 0 {
		t.Errorf("an invalid request reached the network: %d token requests, %d calls", n, srv.Calls(datastore.PathCommands))
	}
}

// The limit is inclusive, counts the commands as compact JSON, and a
// client can raise it.
func TestPayloadLimitBoundary(t *testing.T) {
	t.Parallel()
	filler := `{"type":"PUT_OBJECT","namespace":"n","key":"k","content":""}`
	exact := strings.Repeat("x", datastore.DefaultMaxPayloadBytes-len("[]")-len(filler))
	r := &datastore.Request{Commands: []datastore.Command{datastore.PutObject("n", "k", exact)}, Target: datastore.User("u")}
	if err := datastore.DefaultLimits().Validate(r); err != nil {
		t.Errorf("exactly %d bytes refused: %v", datastore.DefaultMaxPayloadBytes, err)
	}
	r.Commands[0] = datastore.PutObject("n", "k", exact+"x")
	if err := datastore.DefaultLimits().Validate(r); !errors.Is(err, datastore.ErrPayloadTooLarge) {
		t.Errorf("one byte over: %v", err)
	}
	if err := (datastore.Limits{MaxPayloadBytes: 2 << 20}).Validate(r); err != nil {
		t.Errorf("raised limit: %v", err)
	}
}

func TestOfflineDeviceQueuesUntilOnline(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ds := srv.DataStore()
	ctx := context.Background()
	ds.AddDevice("u", "on")
	ds.AddDevice("u", "off")
	ds.SetOnline("off", false)
	res, err := c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", "v")}, datastore.AttemptDeliveryUntil(time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 2 || res.Results[0].Type != datastore.Success || res.Results[1].Type != datastore.DeviceUnavailable || res.QueuedResultID == "" {
		t.Fatalf("response %+v", res)
	}
	if len(res.Failed()) != 0 {
		t.Errorf("a queued device counts as failed: %+v", res.Failed())
	}
	if _, ok := ds.Object("off", "ns", "k"); ok {
		t.Error("an offline device got the object")
	}
	if d, _ := ds.Device("off"); d.Pending != 1 {
		t.Errorf("pending = %d, want 1", d.Pending)
	}
	items := collect(t, c.QueuedResult(ctx, res.QueuedResultID))
	if len(items) != 1 || items[0].DeviceID != "off" || items[0].Type != datastore.DeviceUnavailable {
		t.Errorf("queued items %+v", items)
	}

	ds.SetOnline("off", true)
	if v, ok := ds.Object("off", "ns", "k"); !ok || string(v) != `"v"` {
		t.Errorf("after coming online: %s, %v", v, ok)
	}
	if items := collect(t, c.QueuedResult(ctx, res.QueuedResultID)); len(items) != 0 {
		t.Errorf("delivered yet still queued: %+v", items)
	}
	err = c.Cancel(ctx, res.QueuedResultID)
	if !errors.Is(err, datastore.ErrCommandsDelivered) || !errors.Is(err, alexa.ErrNotFound) {
		t.Errorf("cancel after delivery: %v", err)
	}
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.Code != datastore.ErrorCommandsDelivered {
		t.Errorf("cancel error %#v", err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ds := srv.DataStore()
	ctx := context.Background()
	ds.AddDevice("u", "off")
	ds.SetOnline("off", false)
	res, err := c.Commands(ctx, datastore.Devices("off"), []datastore.Command{datastore.PutObject("ns", "k", 1)})
	if err != nil || res.QueuedResultID == "" {
		t.Fatalf("%+v, %v", res, err)
	}
	if err := c.Cancel(ctx, res.QueuedResultID); err != nil {
		t.Fatal(err)
	}
	ds.SetOnline("off", true)
	if _, ok := ds.Object("off", "ns", "k"); ok {
		t.Error("a cancelled delivery was made")
	}
	items := collect(t, c.QueuedResult(ctx, res.QueuedResultID))
	if len(items) != 1 || !strings.Contains(items[0].Message, "cancelled") {
		t.Errorf("items after cancel %+v", items)
	}
	err = c.Cancel(ctx, res.QueuedResultID)
	if !errors.Is(err, alexa.ErrNotFound) || errors.Is(err, datastore.ErrCommandsDelivered) {
		t.Errorf("second cancel: %v", err)
	}
	err = c.Cancel(ctx, "no-such-id")
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Code != datastore.ErrorNotFound || !strings.HasPrefix(hint(err), "no queued commands") || strings.Contains(err.Error(), hint(err)) {
		t.Errorf("unknown id: %v", err)
	}
	for _, err := range c.QueuedResult(ctx, "no-such-id") {
		if !errors.Is(err, alexa.ErrNotFound) {
			t.Errorf("queued results of unknown id: %v", err)
		}
	}
}

func TestDeliveryExpires(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	srv, c := setup(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{Now: clk.Now}})
	ds := srv.DataStore()
	ds.AddDevice("u", "off")
	ds.SetOnline("off", false)
	res, err := c.Commands(context.Background(), datastore.Devices("off"), []datastore.Command{datastore.PutObject("ns", "k", 1)},
		datastore.AttemptDeliveryUntil(clk.Now().Add(10*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Minute)
	ds.SetOnline("off", true)
	if _, ok := ds.Object("off", "ns", "k"); ok {
		t.Error("delivered after attemptDeliveryUntil")
	}
	items := collect(t, c.QueuedResult(context.Background(), res.QueuedResultID))
	if len(items) != 1 || !strings.Contains(items[0].Message, "passed") {
		t.Errorf("items %+v", items)
	}
	if err := c.Cancel(context.Background(), res.QueuedResultID); !errors.Is(err, alexa.ErrNotFound) {
		t.Errorf("cancel of expired deliveries: %v", err)
	}
}

func collect(t *testing.T, seq func(func(datastore.DispatchResult, error) bool)) []datastore.DispatchResult {
	t.Helper()
	var out []datastore.DispatchResult
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestPagination(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{})
	ds := srv.DataStore()
	ctx := context.Background()
	const n = 23
	for i := range n {
		id := fmt.Sprintf("dev-%02d", i)
		ds.AddDevice("u", id)
		ds.SetOnline(id, false)
	}
	res, err := c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.PutNamespace("ns")})
	if err != nil || len(res.Results) != n || res.QueuedResultID == "" {
		t.Fatalf("%+v, %v", res, err)
	}
	id := res.QueuedResultID

	// Page by page: the tokens chain and the total is on every page.
	p1, err := c.QueuedResultPage(ctx, id, datastore.Page{MaxResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Items) != 10 || p1.Items[0].DeviceID != "dev-00" || p1.PaginationContext.TotalCount != n || p1.PaginationContext.NextToken == "" || p1.PaginationContext.PreviousToken != "" {
		t.Fatalf("page 1: %+v", p1)
	}
	p2, err := c.QueuedResultPage(ctx, id, datastore.Page{MaxResults: 10, NextToken: p1.PaginationContext.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 10 || p2.Items[0].DeviceID != "dev-10" || p2.PaginationContext.PreviousToken == "" {
		t.Fatalf("page 2: %+v", p2)
	}
	p3, err := c.QueuedResultPage(ctx, id, datastore.Page{MaxResults: 10, NextToken: p2.PaginationContext.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.Items) != 3 || p3.Items[2].DeviceID != "dev-22" || p3.PaginationContext.NextToken != "" {
		t.Fatalf("page 3: %+v", p3)
	}

	// The iterator walks every page: the emulator's default size is 10.
	before := srv.Calls(datastore.QueuePath(id))
	all := collect(t, c.QueuedResult(ctx, id))
	if len(all) != n || all[n-1].DeviceID != "dev-22" {
		t.Errorf("iterated %d items", len(all))
	}
	if got := srv.Calls(datastore.QueuePath(id)) - before; got != 3 {
		t.Errorf("iteration made %d calls, want 3 pages", got)
	}
	all = collect(t, c.QueuedResultPages(ctx, id, 5))
	if len(all) != n {
		t.Errorf("pages of 5: %d items", len(all))
	}

	// Breaking out of the loop stops fetching.
	before = srv.Calls(datastore.QueuePath(id))
	for range c.QueuedResult(ctx, id) {
		break
	}
	if got := srv.Calls(datastore.QueuePath(id)) - before; got != 1 {
		t.Errorf("a loop stopped at once made %d calls", got)
	}
	_, err = c.QueuedResultPage(ctx, id, datastore.Page{NextToken: "forged"})
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != datastore.ErrorInvalidRequest {
		t.Errorf("a forged token: %v", err)
	}
}

func TestIteratorStopsOnRepeatedToken(t *testing.T) {
	t.Parallel()
	c, reqs := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"items":[{"deviceId":"d","type":"DEVICE_UNAVAILABLE"}],"paginationContext":{"totalCount":9,"nextToken":"same"}}`)
	})
	var n int
	var last error
	for _, err := range c.QueuedResult(context.Background(), "q") {
		n++
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "repeated nextToken") || len(reqs()) != 2 || n != 3 {
		t.Errorf("%d yields, %d requests, last error %v", n, len(reqs()), last)
	}
}

func TestDeviceOutcomes(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{KnownDevicesOnly: true, MaxPending: 1}})
	ds := srv.DataStore()
	ctx := context.Background()
	ds.AddDevice("u", "gone")
	ds.RemoveDevice("gone")
	ds.AddDevice("u", "off")
	ds.SetOnline("off", false)
	cmds := []datastore.Command{datastore.PutNamespace("ns")}
	if _, err := c.Commands(ctx, datastore.Devices("off"), cmds); err != nil {
		t.Fatal(err)
	}
	res, err := c.Commands(ctx, datastore.Devices("stranger", "gone", "off"), cmds)
	if err != nil {
		t.Fatal(err)
	}
	var got []datastore.DispatchType
	for _, r := range res.Results {
		got = append(got, r.Type)
	}
	want := []datastore.DispatchType{datastore.InvalidDevice, datastore.DevicePermanentlyUnavailable, datastore.PendingRequestCountExceedsLimit}
	if diff := cmp.Diff(want, got); diff != "" || res.QueuedResultID != "" || len(res.Failed()) != 3 {
		t.Errorf("outcomes (-want +got):\n%s%+v", diff, res)
	}
	// A user unknown to an emulator that knows its devices has none.
	res, err = c.Commands(ctx, datastore.User("nobody"), cmds)
	if err != nil || len(res.Results) != 0 {
		t.Errorf("unknown user: %+v, %v", res, err)
	}
}

func TestStorageLimit(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{Limits: datastore.Limits{MaxStoreBytes: 20}}})
	ds := srv.DataStore()
	ctx := context.Background()
	// "ns" + "k" + `"12345678901234"` = 2 + 1 + 16 = 19 bytes: fits.
	res, err := c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k", "12345678901234")})
	if err != nil || res.Results[0].Type != datastore.Success {
		t.Fatalf("%+v, %v", res, err)
	}
	dev := alexatest.DefaultDeviceID("u")
	if d, _ := ds.Device(dev); d.StoredBytes != 19 {
		t.Errorf("StoredBytes = %d, want 19", d.StoredBytes)
	}
	// Two more bytes, counted with the key name: refused, store unchanged.
	res, err = c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.PutObject("ns", "k2", 1)})
	if err != nil || res.Results[0].Type != datastore.InternalError || !strings.HasPrefix(res.Results[0].Message, "STORAGE_LIMIT_EXCEEDED") {
		t.Fatalf("%+v, %v", res, err)
	}
	if _, ok := ds.Object(dev, "ns", "k2"); ok {
		t.Error("an object over the storage limit was stored")
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{Limits: datastore.Limits{MaxPayloadBytes: 100}}})
	ctx := context.Background()
	cmds := []datastore.Command{datastore.PutObject("ns", "k", strings.Repeat("x", 200))}
	// The client allows more than the emulator: Alexa's refusal is told
	// apart the same way as the client's.
	_, err := c.Commands(ctx, datastore.User("u"), cmds)
	var ae *alexa.Error
	var ve *alexa.ValidationError
	if !errors.Is(err, datastore.ErrPayloadTooLarge) || !errors.As(err, &ae) || errors.As(err, &ve) || ae.StatusCode != 400 || ae.Code != datastore.ErrorPayloadExceedsLimit {
		t.Errorf("payload refused by Alexa: %#v", err)
	}

	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: 403, Times: 2,
		Body: `{"type":"DATASTORE_SUPPORT_REQUIRED","message":"Client has not opted into DataStore interface in skill manifest."}`})
	_, err = c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.Clear()})
	if !errors.Is(err, datastore.ErrSupportRequired) || !errors.Is(err, alexa.ErrUnauthorized) || !strings.Contains(hint(err), "ALEXA_DATA_STORE") || strings.Contains(err.Error(), "ALEXA_DATA_STORE") {
		t.Errorf("support required: %v", err)
	}

	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: 400, Times: 1, Body: `{"type":"TOO_MANY_TARGETS","message":"x"}`})
	_, err = c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.Clear()})
	if !errors.Is(err, datastore.ErrTooManyTargets) || errors.Is(err, datastore.ErrPayloadTooLarge) {
		t.Errorf("too many targets: %v", err)
	}

	srv.InjectFault(alexatest.Fault{Path: datastore.PathCommands, Status: 200, Times: 1, Body: `<html>`})
	if _, err = c.Commands(ctx, datastore.User("u"), []datastore.Command{datastore.Clear()}); err == nil || !strings.Contains(err.Error(), "want a JSON object") {
		t.Errorf("a 200 that is not JSON: %v", err)
	}
}

func TestWriteLimit(t *testing.T) {
	t.Parallel()
	// One write, then none for a thousand seconds.
	srv, c := setup(t, alexatest.Options{DataStore: alexatest.DataStoreOptions{WritesPerSecond: 0.001}})
	ctx := context.Background()
	cmds := []datastore.Command{datastore.Clear()}
	if _, err := c.Commands(ctx, datastore.User("u"), cmds); err != nil {
		t.Fatal(err)
	}
	_, err := c.Commands(ctx, datastore.User("u"), cmds)
	var ae *alexa.Error
	if !errors.Is(err, alexa.ErrThrottled) || !errors.As(err, &ae) || ae.Code != datastore.ErrorTooManyRequests || ae.RetryAfter != time.Second {
		t.Errorf("second write: %#v", err)
	}
	calls := srv.DataStore().Calls()
	if len(calls) != 2 || calls[1].Status != 429 || calls[1].ErrorType != datastore.ErrorTooManyRequests {
		t.Errorf("recorded %+v", calls)
	}
	// Reads are not writes.
	if _, err := c.QueuedResultPage(ctx, "x", datastore.Page{}); !errors.Is(err, alexa.ErrNotFound) {
		t.Errorf("read while writes are throttled: %v", err)
	}
}

func TestWrongScopeIsRefused(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{Scopes: []string{"alexa:skill_messaging"}})
	defer srv.Close()
	cfg := srv.Config()
	cfg.Retry = alexa.NoRetry()
	_, err := datastore.NewClient(cfg).Commands(context.Background(), datastore.User("u"), []datastore.Command{datastore.Clear()})
	if err == nil || !strings.Contains(err.Error(), "alexa::datastore") {
		t.Errorf("err = %v, want the datastore scope refused", err)
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	if got := datastore.QueuePath("q-123/x"); got != "/v1/datastore/queue/q-123%2Fx" {
		t.Errorf("QueuePath = %s", got)
	}
	if got := datastore.CancelPath("a b"); got != "/v1/datastore/queue/a%20b/cancel" {
		t.Errorf("CancelPath = %s", got)
	}
	if datastore.Scope != "alexa::datastore" {
		t.Errorf("Scope = %s", datastore.Scope)
	}
}

// hint is the Hint of the first error in err's chain that gives one: the
// DataStore hint, kept out of Error().
func hint(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
