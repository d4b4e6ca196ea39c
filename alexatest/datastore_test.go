package alexatest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/lwa"
)

// do sends a request with an optional bearer token and returns the status
// and body.
func do(t *testing.T, method, url, tok, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// errType returns the {"type","message"} of a DataStore error body.
func errType(t *testing.T, body string) (typ, msg string) {
	t.Helper()
	var e struct{ Type, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Type, e.Message
}

// A foreign client sees DataStore's own error shape, {"type","message"}.
func TestDataStoreErrorsAsAlexaWordsThem(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	url := srv.URL + datastore.PathCommands
	good := `{"commands":[{"type":"CLEAR"}],"target":{"type":"USER","id":"u"}}`
	tok := token(t, srv, lwa.ScopeDataStore)
	tests := []struct {
		name, tok, body string
		status          int
		typ, msg        string
	}{
		{"no token", "", good, 401, datastore.ErrorInvalidAccessToken, "bearer"},
		{"forged token", "Atza|forged", good, 403, datastore.ErrorInvalidAccessToken, "invalid"},
		{"other scope", token(t, srv, lwa.ScopeSkillMessaging), good, 403, datastore.ErrorInvalidAccessToken, "alexa::datastore"},
		{"not JSON", tok, `{`, 400, datastore.ErrorInvalidRequest, "CommandsRequest"},
		{"no target", tok, `{"commands":[{"type":"CLEAR"}]}`, 400, datastore.ErrorNoTargetDefined, "target.type"},
		{"too many targets", tok, `{"commands":[{"type":"CLEAR"}],"target":{"type":"DEVICES","items":[` + strings.Repeat(`"d",`, datastore.DefaultMaxDevices) + `"d"]}}`, 400, datastore.ErrorTooManyTargets, "target.items"},
		{"payload", tok, `{"commands":[{"type":"PUT_OBJECT","namespace":"n","key":"k","content":"` + strings.Repeat("x", datastore.DefaultMaxPayloadBytes) + `"}],"target":{"type":"USER","id":"u"}}`, 400, datastore.ErrorPayloadExceedsLimit, "bytes"},
		{"null content", tok, `{"commands":[{"type":"PUT_OBJECT","namespace":"n","key":"k","content":null}],"target":{"type":"USER","id":"u"}}`, 400, datastore.ErrorInvalidRequest, "content"},
		{"bad time", tok, `{"commands":[{"type":"CLEAR"}],"target":{"type":"USER","id":"u"},"attemptDeliveryUntil":"2026-13-01"}`, 400, datastore.ErrorInvalidRequest, "attemptDeliveryUntil"},
	}
	for _, tt := range tests {
		status, body := do(t, "POST", url, tt.tok, tt.body)
		typ, msg := errType(t, body)
		if status != tt.status || typ != tt.typ || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: %d %s", tt.name, status, body)
		}
	}
	if status, body := do(t, "GET", srv.URL+datastore.QueuePath("nope")+"?maxResults=0", tok, ""); status != 400 || !strings.Contains(body, "maxResults") {
		t.Errorf("maxResults=0: %d %s", status, body)
	}
	if status, body := do(t, "POST", srv.URL+datastore.CancelPath("nope"), "", ""); status != 401 || !strings.Contains(body, datastore.ErrorInvalidAccessToken) {
		t.Errorf("cancel without token: %d %s", status, body)
	}
	// Refused calls with a valid token are recorded too, with their type.
	calls := srv.DataStore().Calls()
	if len(calls) != 6 || calls[1].ErrorType != datastore.ErrorNoTargetDefined || calls[1].Status != 400 {
		t.Errorf("recorded %d calls: %+v", len(calls), calls)
	}
}

func TestDataStoreAdminEndpoints(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	admin := srv.URL + alexatest.AdminDataStore
	if status, body := do(t, "PUT", admin+"/devices/dev-1", "", `{"userId":"u","online":false}`); status != 200 || !strings.Contains(body, `"online": false`) {
		t.Fatalf("PUT device: %d %s", status, body)
	}
	tok := token(t, srv, lwa.ScopeDataStore)
	status, body := do(t, "POST", srv.URL+datastore.PathCommands, tok, `{"commands":[{"type":"PUT_OBJECT","namespace":"n","key":"k","content":{ "a" : 1 }}],"target":{"type":"USER","id":"u"}}`)
	var res datastore.Response
	json.Unmarshal([]byte(body), &res)
	if status != 200 || res.QueuedResultID == "" || len(res.Results) != 1 || res.Results[0].Type != datastore.DeviceUnavailable {
		t.Fatalf("commands: %d %s", status, body)
	}
	if status, body := do(t, "POST", admin+"/devices/dev-1/online", "", ""); status != 200 || !strings.Contains(body, `"a": 1`) {
		t.Errorf("online: %d %s", status, body)
	}
	var d alexatest.Device
	_, body = do(t, "GET", admin+"/devices/dev-1", "", "")
	json.Unmarshal([]byte(body), &d)
	stored, _ := srv.DataStore().Object("dev-1", "n", "k")
	if d.UserID != "u" || !d.Online || len(d.Store["n"]["k"]) == 0 || string(stored) != `{"a":1}` || d.StoredBytes != len("n")+len("k")+len(`{"a":1}`) {
		t.Errorf("device %+v", d)
	}
	if status, _ := do(t, "POST", admin+"/devices/dev-1/offline", "", ""); status != 200 {
		t.Errorf("offline: %d", status)
	}
	if d, _ := srv.DataStore().Device("dev-1"); d.Online {
		t.Error("still online")
	}
	if status, _ := do(t, "DELETE", admin+"/devices/dev-1", "", ""); status != 204 {
		t.Errorf("DELETE: %d", status)
	}
	if d, _ := srv.DataStore().Device("dev-1"); !d.Removed || d.UserID != "" {
		t.Errorf("removed device %+v", d)
	}
	_, body = do(t, "GET", admin+"/devices", "", "")
	if !strings.Contains(body, `"deviceId": "dev-1"`) {
		t.Errorf("devices: %s", body)
	}
	_, body = do(t, "GET", admin+"/commands", "", "")
	var calls []alexatest.DataStoreCall
	if err := json.Unmarshal([]byte(body), &calls); err != nil || len(calls) != 1 || calls[0].QueuedResultID != res.QueuedResultID {
		t.Errorf("commands: %v %s", err, body)
	}
	for _, path := range []string{"/devices/nope", "/devices/nope/online"} {
		method := map[bool]string{true: "GET", false: "POST"}[!strings.HasSuffix(path, "online")]
		if status, _ := do(t, method, admin+path, "", ""); status != 404 {
			t.Errorf("%s %s: %d, want 404", method, path, status)
		}
	}
	if status, _ := do(t, "PUT", admin+"/devices/x", "", `{"userId":`); status != 400 {
		t.Errorf("bad PUT body: %d", status)
	}

	// Reset forgets devices and calls.
	if status, _ := do(t, "POST", srv.URL+alexatest.AdminReset, "", ""); status != 204 {
		t.Fatal("reset")
	}
	if len(srv.DataStore().Devices()) != 0 || len(srv.DataStore().Calls()) != 0 {
		t.Error("reset kept DataStore state")
	}
}

func TestDataStoreStaysBounded(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{DataStore: alexatest.DataStoreOptions{MaxRecords: 3, MaxDevices: 2, MaxQueued: 2, WritesPerSecond: -1}})
	defer srv.Close()
	ds := srv.DataStore()
	tok := token(t, srv, lwa.ScopeDataStore)
	send := func(target string) datastore.Response {
		t.Helper()
		status, body := do(t, "POST", srv.URL+datastore.PathCommands, tok, `{"commands":[{"type":"PUT_NAMESPACE","namespace":"n"}],"target":`+target+`}`)
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		var r datastore.Response
		json.Unmarshal([]byte(body), &r)
		return r
	}
	// Devices are created up to the cap; beyond it they stay unknown.
	r := send(`{"type":"DEVICES","items":["a","b","c","a"]}`)
	if len(r.Results) != 3 || r.Results[2].Type != datastore.InvalidDevice || len(ds.Devices()) != 2 {
		t.Errorf("results %+v, %d devices", r.Results, len(ds.Devices()))
	}
	if err := ds.AddDevice("u", "c"); err == nil {
		t.Error("AddDevice past MaxDevices")
	}
	ds.SetOnline("a", false)
	var ids []string
	for range 3 {
		ids = append(ids, send(`{"type":"DEVICES","items":["a"]}`).QueuedResultID)
	}
	// The oldest queued request is forgotten, and will not be delivered.
	if status, _ := do(t, "GET", srv.URL+datastore.QueuePath(ids[0]), tok, ""); status != 404 {
		t.Errorf("oldest queue: %d, want 404", status)
	}
	if status, _ := do(t, "GET", srv.URL+datastore.QueuePath(ids[2]), tok, ""); status != 200 {
		t.Errorf("newest queue: %d", status)
	}
	if d, _ := ds.Device("a"); d.Pending != 2 {
		t.Errorf("pending %d, want 2", d.Pending)
	}
	if calls := ds.Calls(); len(calls) != 3 || ds.Dropped() != 1 || calls[2].QueuedResultID != ids[2] {
		t.Errorf("%d calls kept, %d dropped", len(calls), ds.Dropped())
	}
}

func TestDataStoreDefaultDevice(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{DiscardRecords: true})
	defer srv.Close()
	tok := token(t, srv, lwa.ScopeDataStore)
	for i := range 2 {
		status, body := do(t, "POST", srv.URL+datastore.PathCommands, tok, fmt.Sprintf(`{"commands":[{"type":"PUT_OBJECT","namespace":"n","key":"k","content":%d}],"target":{"type":"USER","id":"amzn1.ask.account.A"}}`, i))
		if status != 200 || !strings.Contains(body, alexatest.DefaultDeviceID("amzn1.ask.account.A")) {
			t.Fatalf("%d %s", status, body)
		}
	}
	ds := srv.DataStore()
	if ids := ds.UserDevices("amzn1.ask.account.A"); len(ids) != 1 {
		t.Errorf("user devices %v: one device is created once", ids)
	}
	if v, _ := ds.Object(alexatest.DefaultDeviceID("amzn1.ask.account.A"), "n", "k"); string(v) != "1" {
		t.Errorf("stored %s", v)
	}
	if len(ds.Calls()) != 0 {
		t.Error("DiscardRecords kept DataStore calls")
	}
	if alexatest.DefaultDeviceID("a") == alexatest.DefaultDeviceID("b") {
		t.Error("two users share a default device")
	}
}

// Options.MaxRecords bounds the DataStore calls kept too, unless
// DataStoreOptions.MaxRecords says otherwise.
func TestDataStoreRecordsFollowMaxRecords(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{MaxRecords: 2, DataStore: alexatest.DataStoreOptions{WritesPerSecond: -1}})
	defer srv.Close()
	tok := token(t, srv, lwa.ScopeDataStore)
	for range 4 {
		if status, body := do(t, "POST", srv.URL+datastore.PathCommands, tok, `{"commands":[{"type":"CLEAR"}],"target":{"type":"USER","id":"u"}}`); status != 200 {
			t.Fatalf("%d %s", status, body)
		}
	}
	if n := len(srv.DataStore().Calls()); n != 2 {
		t.Errorf("%d calls kept, want 2", n)
	}
}
