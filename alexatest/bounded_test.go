package alexatest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
)

// call serves one request in process, from a loopback client.
func call(h http.Handler, method, path, bearer, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:40000"
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	if method == http.MethodPost && path == alexatest.TokenPath {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// bearer gets a token of scope from e in process.
func bearer(t testing.TB, e *alexatest.Emulator, scope string) string {
	t.Helper()
	c := e.Credentials()
	w := call(e, http.MethodPost, alexatest.TokenPath, "", form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "scope", scope))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	return tok.AccessToken
}

// eventJSON is a valid Unicast event for user, timed from now.
func eventJSON(ref, user string) string {
	now := time.Now().UTC()
	return fmt.Sprintf(`{"timestamp":%q,"referenceId":%q,"expiryTime":%q,
	"event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD"},"messageGroup":{"creator":{"name":"Andy"},"count":1}}},
	"localizedAttributes":[],"relevantAudience":{"type":"Unicast","payload":{"user":%q}}}`,
		now.Format(time.RFC3339), ref, now.Add(time.Hour).Format(time.RFC3339), user)
}

// listing fetches one admin listing page in process.
func listing[T any](t *testing.T, e http.Handler, path string) alexatest.Listing[T] {
	t.Helper()
	w := call(e, http.MethodGet, path, "", "")
	var l alexatest.Listing[T]
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &l) != nil {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return l
}

// The memory test: more records than the cap are sent; the emulator keeps
// the most recent MaxRecords of each kind, and lists them in pages.
func TestRecordsAreCappedAndListingsPaginated(t *testing.T) {
	t.Parallel()
	const max, sent = 50, 120
	e := alexatest.New(alexatest.Options{MaxRecords: max, AllowUnsubscribed: true})
	msgTok, evTok := bearer(t, e, lwa.ScopeSkillMessaging), bearer(t, e, lwa.ScopeProactiveEvents)
	for i := range sent {
		if w := call(e, http.MethodPost, alexatest.MessagesPath+fmt.Sprintf("u%d", i), msgTok, `{"data":{"i":"`+fmt.Sprint(i)+`"}}`); w.Code != 202 {
			t.Fatalf("message %d: %d %s", i, w.Code, w.Body)
		}
		if w := call(e, http.MethodPost, proactive.PathDevelopment, evTok, eventJSON(fmt.Sprint("r", i), fmt.Sprint("u", i%3))); w.Code != 202 {
			t.Fatalf("event %d: %d %s", i, w.Code, w.Body)
		}
	}
	for range sent {
		bearer(t, e, lwa.ScopeSkillMessaging)
	}
	msgs, evs, toks := e.Messages(), e.Events(), e.TokenRequests()
	if len(msgs) != max || len(evs) != max || len(toks) != max || e.Accepted() != 2*sent {
		t.Fatalf("kept %d messages, %d events, %d token requests (accepted %d); want %d each", len(msgs), len(evs), len(toks), e.Accepted(), max)
	}
	if msgs[0].UserID != fmt.Sprint("u", sent-max) || msgs[max-1].UserID != fmt.Sprint("u", sent-1) {
		t.Errorf("kept messages %s to %s, want the most recent", msgs[0].UserID, msgs[max-1].UserID)
	}
	if got := e.MessagesFor("u5"); len(got) != 0 {
		t.Errorf("MessagesFor an evicted user: %+v", got)
	}
	if got := e.MessagesFor("u119"); len(got) != 1 {
		t.Errorf("MessagesFor a kept user: %+v", got)
	}

	// Pages of 20, following nextCursor: 20, 20, 10, in order, no repeat.
	var users []string
	path, pages := alexatest.AdminMessages+"?limit=20", 0
	for {
		l := listing[alexatest.Message](t, e, path)
		pages++
		if l.Evicted != sent-max {
			t.Errorf("evicted %d, want %d", l.Evicted, sent-max)
		}
		for _, m := range l.Items {
			users = append(users, m.UserID)
		}
		if l.NextCursor == "" {
			break
		}
		if len(l.Items) != 20 {
			t.Errorf("a page before the last holds %d items, want 20", len(l.Items))
		}
		path = alexatest.AdminMessages + "?limit=20&cursor=" + url.QueryEscape(l.NextCursor)
	}
	if pages != 3 || len(users) != max || users[0] != msgs[0].UserID || users[max-1] != msgs[max-1].UserID {
		t.Errorf("%d pages, %d items (%v)", pages, len(users), users)
	}

	// Filters.
	if l := listing[alexatest.Message](t, e, alexatest.AdminMessages+"?user=u100"); len(l.Items) != 1 || l.Items[0].UserID != "u100" || l.NextCursor != "" {
		t.Errorf("?user=u100: %+v", l)
	}
	if l := listing[alexatest.Event](t, e, alexatest.AdminEvents+"?user=u1&limit=5"); len(l.Items) != 5 || l.NextCursor == "" {
		t.Errorf("?user=u1&limit=5: %d items, next %q", len(l.Items), l.NextCursor)
	} else {
		for _, ev := range l.Items {
			if ev.Audience != "u1" {
				t.Errorf("?user=u1 listed audience %q", ev.Audience)
			}
		}
	}
	if l := listing[alexatest.Event](t, e, alexatest.AdminEvents+"?audience=u2&name=AMAZON.MessageAlert.Activated&stage=development&limit=1000"); len(l.Items) != 17 {
		t.Errorf("events of u2: %d, want 17 of the last 50", len(l.Items))
	}
	if l := listing[alexatest.Event](t, e, alexatest.AdminEvents+"?name=AMAZON.WeatherAlert.Activated"); len(l.Items) != 0 || l.Items == nil {
		t.Errorf("no match: %+v", l)
	}
	if l := listing[alexatest.TokenRequest](t, e, alexatest.AdminTokens+"?scope="+url.QueryEscape(lwa.ScopeSkillMessaging)); len(l.Items) != max || l.NextCursor != "" {
		t.Errorf("tokens: %d items, next %q; want the %d kept", len(l.Items), l.NextCursor, max)
	}
	if l := listing[alexatest.TokenRequest](t, e, alexatest.AdminTokens+"?scope="+url.QueryEscape(lwa.ScopeProactiveEvents)); len(l.Items) != 0 {
		t.Errorf("evicted token requests listed: %+v", l.Items)
	}
}

// Without options the emulator keeps DefaultMaxRecords of each kind.
func TestDefaultRecordCap(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sends 10,000 messages")
	}
	e := alexatest.New(alexatest.Options{})
	tok := bearer(t, e, lwa.ScopeSkillMessaging)
	const sent = alexatest.DefaultMaxRecords + 10
	for i := range sent {
		if w := call(e, http.MethodPost, alexatest.MessagesPath+fmt.Sprint("u", i), tok, `{}`); w.Code != 202 {
			t.Fatalf("message %d: %d %s", i, w.Code, w.Body)
		}
	}
	if n := len(e.Messages()); n != alexatest.DefaultMaxRecords {
		t.Errorf("kept %d messages, want %d", n, alexatest.DefaultMaxRecords)
	}
	// The largest page stays bounded and well under 10 MB.
	w := call(e, http.MethodGet, alexatest.AdminMessages+"?limit=100000", "", "")
	var l alexatest.Listing[alexatest.Message]
	json.Unmarshal(w.Body.Bytes(), &l)
	if len(l.Items) != alexatest.MaxListLimit || l.NextCursor == "" || w.Body.Len() > 10<<20 {
		t.Errorf("?limit=100000: %d items, next %q, %d bytes", len(l.Items), l.NextCursor, w.Body.Len())
	}
}

// Records are also bounded by their size, and a listing page by its
// bytes: a few large events cannot hold or return unbounded memory.
func TestRecordBytesBounded(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{MaxRecordBytes: 1 << 20, AllowUnsubscribed: true})
	tok := bearer(t, e, lwa.ScopeProactiveEvents)
	pad := strings.Repeat("x", 200<<10) // an unknown top-level field: kept in Body
	for i := range 12 {
		body := strings.Replace(eventJSON(fmt.Sprint("big", i), "u"), `{"timestamp"`, `{"pad":"`+pad+`","timestamp"`, 1)
		if w := call(e, http.MethodPost, proactive.PathDevelopment, tok, body); w.Code != 202 {
			t.Fatalf("event %d: %d %.300s", i, w.Code, w.Body)
		}
	}
	evs := e.Events()
	if len(evs) == 0 || len(evs) > 3 {
		t.Fatalf("kept %d events of 400 KB with a 1 MiB budget", len(evs))
	}
	if evs[len(evs)-1].Request.ReferenceID != "big11" {
		t.Errorf("the newest event was not kept: %s", evs[len(evs)-1].Request.ReferenceID)
	}
}

// Listing parameters are checked, and named when wrong.
func TestListingParametersChecked(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{})
	for _, tt := range []struct{ path, want string }{
		{alexatest.AdminMessages + "?limit=0", `limit: must be a whole number from 1 to 1000 (got "0")`},
		{alexatest.AdminMessages + "?limit=x", `limit: must be a whole number`},
		{alexatest.AdminMessages + "?cursor=abc", `cursor: must be the nextCursor of an earlier page (got "abc")`},
		{alexatest.AdminMessages + "?usr=u1", `usr: unknown parameter; this listing takes limit, cursor, user`},
		{alexatest.AdminEvents + "?stage=prod", `stage: must be development or live (got "prod")`},
		{alexatest.AdminTokens + "?user=u", `user: unknown parameter`},
	} {
		w := call(e, http.MethodGet, tt.path, "", "")
		var body map[string]any
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != 400 || reason(body) != "INVALID_REQUEST" || !strings.Contains(fmt.Sprint(body["message"]), tt.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.path, w.Code, w.Body, tt.want)
		}
	}
}

// A repeated referenceId is refused for as long as it is remembered; the
// set of remembered ones is capped, the earliest due forgotten first.
func TestReferenceIDsBounded(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{MaxReferenceIDs: 3, AllowUnsubscribed: true})
	tok := bearer(t, e, lwa.ScopeProactiveEvents)
	send := func(ref string) int {
		return call(e, http.MethodPost, proactive.PathDevelopment, tok, eventJSON(ref, "u")).Code
	}
	for _, ref := range []string{"r1", "r2", "r3", "r4"} {
		if got := send(ref); got != 202 {
			t.Fatalf("%s: %d", ref, got)
		}
	}
	if got := send("r4"); got != 409 {
		t.Errorf("a remembered repeat: %d, want 409", got)
	}
	if got := send("r1"); got != 202 {
		t.Errorf("a repeat beyond MaxReferenceIDs: %d, want 202 (forgotten)", got)
	}
}

// Counters take no memory per path: calls are counted per route.
func TestCallsCountedPerRoute(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{})
	tok := bearer(t, e, lwa.ScopeSkillMessaging)
	for i := range 50 {
		call(e, http.MethodPost, alexatest.MessagesPath+fmt.Sprint("user", i), tok, `{}`)
		call(e, http.MethodGet, fmt.Sprintf("/random/%d", i), "", "")
	}
	call(e, http.MethodPost, "/auth/O2/token", "", "")
	if got := e.Calls(alexatest.MessagesPath + "anyone"); got != 50 {
		t.Errorf("message calls %d, want 50", got)
	}
	if got := e.Calls("/random/0"); got != 50 {
		t.Errorf("other calls %d, want 50 (counted together)", got)
	}
	if got := e.Calls(alexatest.TokenPath); got != 2 {
		t.Errorf("token calls %d, want 2 (both casings)", got)
	}
	if got := e.Calls(proactive.PathDevelopment); got != 0 {
		t.Errorf("development calls %d, want 0", got)
	}
}
