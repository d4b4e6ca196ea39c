package alexatest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// amazonError decodes an error body the way Amazon's SDK models type it:
// code an integer, message a string. A string code fails here as it
// fails in Amazon's Python SDK.
type amazonError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Bodies over an API's limit are answered 413 in that API's shape; bodies
// under it are read whole (not cut at 64 KiB).
func TestBodySizeLimits(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{AllowUnsubscribed: true})
	evTok, msgTok := bearer(t, e, lwa.ScopeProactiveEvents), bearer(t, e, lwa.ScopeSkillMessaging)
	withPad := func(ref string, n int) string {
		return strings.Replace(eventJSON(ref, "u"), `{"timestamp"`, `{"pad":"`+strings.Repeat("x", n)+`","timestamp"`, 1)
	}
	prettyData := "{\n" + strings.Repeat("   \"k\"  :  \"v\" ,\n", 400) + "   \"z\": \"z\"\n}" // 3.2 KB compact, 7+ KB as sent
	bigData := `{"k":"` + strings.Repeat("v", messaging.MaxDataBytes) + `"}`
	event66 := withPad("e66", 66_000)
	tests := []struct {
		name, path, bearer, body string
		status                   int
		reason                   string
	}{
		{"66 KB event", proactive.PathDevelopment, evTok, event66, 202, ""},
		{"event at the limit", proactive.PathDevelopment, evTok, withPad("emax", proactive.MaxRequestBytes-len(withPad("emax", 0))), 202, ""},
		{"event over the limit", proactive.PathDevelopment, evTok, withPad("eover", proactive.MaxRequestBytes), 413, "REQUEST_TOO_LARGE"},
		{"live event over the limit", proactive.PathLive, evTok, withPad("lover", proactive.MaxRequestBytes), 413, "REQUEST_TOO_LARGE"},
		{"pretty data under 6 KB compact", alexatest.MessagesPath + "u", msgTok, `{"data": ` + prettyData + `}`, 202, ""},
		{"data over 6 KB", alexatest.MessagesPath + "u", msgTok, `{"data":` + bigData + `}`, 413, "REQUEST_TOO_LARGE"},
		{"message body over 64 KiB", alexatest.MessagesPath + "u", msgTok, `{"data":{}, "x":"` + strings.Repeat(" ", 70_000) + `"}`, 413, "REQUEST_TOO_LARGE"},
	}
	for _, tt := range tests {
		w := call(e, http.MethodPost, tt.path, tt.bearer, tt.body)
		if w.Code != tt.status {
			t.Errorf("%s: %d %.300s, want %d", tt.name, w.Code, w.Body, tt.status)
			continue
		}
		if tt.reason == "" {
			continue
		}
		var ae amazonError
		if err := json.Unmarshal(w.Body.Bytes(), &ae); err != nil || ae.Code != 413 || !strings.HasPrefix(ae.Message, tt.reason+": ") {
			t.Errorf("%s: body %s (%v), want code 413 and a %s message", tt.name, w.Body, err, tt.reason)
		}
		if tt.name == "data over 6 KB" && !strings.Contains(ae.Message, "data: must be at most 6144 bytes as compact JSON (got 6152 bytes)") {
			t.Errorf("data over 6 KB: message %q does not say the limit", ae.Message)
		}
	}
	if evs := e.Events(); len(evs) != 2 || string(evs[0].Body) != event66 {
		t.Errorf("kept %d events; want 2, the 66 KB one whole", len(evs))
	}

	// Options.MaxEventBytes lowers the limit; LWA bodies have their own.
	small := alexatest.New(alexatest.Options{MaxEventBytes: 2000, AllowUnsubscribed: true})
	if w := call(small, http.MethodPost, proactive.PathDevelopment, bearer(t, small, lwa.ScopeProactiveEvents), withPad("s", 2000)); w.Code != 413 || !strings.Contains(w.Body.String(), "larger than 2000 bytes") {
		t.Errorf("MaxEventBytes 2000: %d %s", w.Code, w.Body)
	}
	w := call(e, http.MethodPost, alexatest.TokenPath, "", "grant_type=client_credentials&pad="+strings.Repeat("x", 70_000))
	var lwaErr struct{ Error, ErrorDescription string }
	json.Unmarshal(w.Body.Bytes(), &lwaErr)
	if w.Code != 413 || lwaErr.Error != "invalid_request" {
		t.Errorf("large token request: %d %.200s", w.Code, w.Body)
	}
}

// Every API error the emulator answers decodes as Amazon's SDKs model
// it, {"code": <int>, "message": <string>}, with the status as code and
// the symbolic reason leading the message; our client reads both.
func TestErrorBodiesDecodeInAmazonSDKs(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{KnownUsers: []string{"u"}, RateLimit: 1, RateBurst: 1, AllowUnsubscribed: true})
	defer srv.Close()
	msgTok, evTok := token(t, srv, lwa.ScopeSkillMessaging), token(t, srv, lwa.ScopeProactiveEvents)
	invalidEvent := strings.Replace(eventJSON("x", "u"), `"referenceId":"x"`, `"referenceId":""`, 1)
	steps := []struct {
		name, path, bearer, body string
		status                   int
		reason                   string
	}{
		// The first API call takes the one token of the rate limit's burst.
		{"accepted", proactive.PathDevelopment, evTok, eventJSON("dup", "u"), 202, ""},
		{"throttled", alexatest.MessagesPath + "u", msgTok, `{}`, 429, "TOO_MANY_REQUESTS"},
	}
	for _, s := range steps {
		if status, body := post(t, srv.URL+s.path, map[string]string{"Authorization": "Bearer " + s.bearer}, s.body); status != s.status || (s.reason != "" && reason(body) != s.reason) {
			t.Fatalf("%s: %d %v", s.name, status, body)
		}
	}
	// Without a rate limit, the other errors.
	srv2 := alexatest.NewServer(alexatest.Options{KnownUsers: []string{"u"}, AllowUnsubscribed: true})
	defer srv2.Close()
	msgTok, evTok = token(t, srv2, lwa.ScopeSkillMessaging), token(t, srv2, lwa.ScopeProactiveEvents)
	post(t, srv2.URL+proactive.PathDevelopment, map[string]string{"Authorization": "Bearer " + evTok}, eventJSON("dup", "u"))
	srv2.InjectFault(alexatest.Fault{Path: "/v1/skillmessages/users/fault", Status: 503})
	for _, s := range []struct {
		name, path, bearer, body string
		status                   int
		reason                   string
	}{
		{"no token", alexatest.MessagesPath + "u", "", `{}`, 401, "UNAUTHORIZED"},
		{"unknown token", alexatest.MessagesPath + "u", "Atza|forged", `{}`, 403, "INVALID_TOKEN"},
		{"wrong scope", alexatest.MessagesPath + "u", evTok, `{}`, 403, "INVALID_SCOPE"},
		{"invalid event", proactive.PathDevelopment, evTok, invalidEvent, 400, "INVALID_REQUEST"},
		{"not JSON", alexatest.MessagesPath + "u", msgTok, `{`, 400, "INVALID_REQUEST"},
		{"unknown user", alexatest.MessagesPath + "nobody", msgTok, `{}`, 404, "USER_NOT_FOUND"},
		{"duplicate", proactive.PathDevelopment, evTok, eventJSON("dup", "u"), 409, "DUPLICATE_REFERENCE_ID"},
		{"injected", alexatest.MessagesPath + "fault", msgTok, `{}`, 503, ""},
	} {
		hdr := map[string]string{}
		if s.bearer != "" {
			hdr["Authorization"] = "Bearer " + s.bearer
		}
		req, _ := http.NewRequest(http.MethodPost, srv2.URL+s.path, strings.NewReader(s.body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ae amazonError
		if err := json.Unmarshal(data, &ae); err != nil {
			t.Errorf("%s: %s does not decode as Amazon's SDKs decode it: %v", s.name, data, err)
			continue
		}
		if resp.StatusCode != s.status || ae.Code != s.status || ae.Message == "" || !strings.HasPrefix(ae.Message, s.reason) {
			t.Errorf("%s: %d %s, want %d with code %d and reason %q", s.name, resp.StatusCode, data, s.status, s.status, s.reason)
		}
		if s.name == "injected" && ae.Message != "Service Unavailable (injected by alexatest)" {
			t.Errorf("injected: message %q", ae.Message)
		}
	}

	// Our own client decodes the numeric code, and keeps the reason
	// readable.
	cfg := srv2.Config()
	cfg.Retry = &alexa.RetryPolicy{MaxAttempts: 1}
	_, err := messaging.NewClient(cfg).Send(context.Background(), "nobody", &messaging.Message{})
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Code != "404" || !strings.HasPrefix(ae.Message, "USER_NOT_FOUND: ") || !errors.Is(err, alexa.ErrNotFound) {
		t.Errorf("client error: %#v", err)
	}
}

// The admin paths answer loopback clients only, unless allowed; the
// health path answers anyone; empty listings are [] in every kind.
func TestAdminForLoopbackOnlyAndHealth(t *testing.T) {
	t.Parallel()
	remote := func(h http.Handler, method, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil) // from 192.0.2.1
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	e := alexatest.New(alexatest.Options{})
	for _, p := range []string{alexatest.AdminEvents, alexatest.AdminMessages, alexatest.AdminTokens, "/_emulator/unknown", "/_emulator"} {
		w := remote(e, http.MethodGet, p)
		var ae amazonError
		if w.Code != 403 || json.Unmarshal(w.Body.Bytes(), &ae) != nil || !strings.Contains(ae.Message, "--allow-remote-admin") {
			t.Errorf("remote GET %s: %d %s, want 403 naming --allow-remote-admin", p, w.Code, w.Body)
		}
	}
	if w := remote(e, http.MethodPost, alexatest.AdminReset); w.Code != 403 {
		t.Errorf("remote reset: %d", w.Code)
	}
	if w := remote(e, http.MethodGet, alexatest.HealthPath); w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Errorf("remote health: %d %s", w.Code, w.Body)
	}
	open := alexatest.New(alexatest.Options{AllowRemoteAdmin: true})
	if w := remote(open, http.MethodGet, alexatest.AdminMessages); w.Code != 200 {
		t.Errorf("remote admin allowed: %d %s", w.Code, w.Body)
	}
	for _, addr := range []string{"[::1]:5000", "127.0.0.2:80", "[::ffff:127.0.0.1]:1", "@"} {
		r := httptest.NewRequest(http.MethodGet, alexatest.AdminTokens, nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("admin from %s: %d", addr, w.Code)
		}
	}

	// Over the network, from loopback: health, and [] after a reset.
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	token(t, srv, lwa.ScopeSkillMessaging)
	if status, _ := post(t, srv.URL+alexatest.AdminReset, nil, ""); status != 204 {
		t.Fatalf("reset: %d", status)
	}
	resp, err := http.Get(srv.URL + alexatest.HealthPath)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, p := range []string{alexatest.AdminEvents, alexatest.AdminMessages, alexatest.AdminTokens} {
		var raw map[string]json.RawMessage
		getJSON(t, srv.URL+p, &raw)
		if string(raw["items"]) != "[]" {
			t.Errorf("%s after reset: items %s, want []", p, raw["items"])
		}
	}
}

// What the emulator writes uses camelCase keys and no HTML escaping.
func TestEmulatorJSONStyle(t *testing.T) {
	t.Parallel()
	e := alexatest.New(alexatest.Options{AllowUnsubscribed: true})
	msgTok, evTok := bearer(t, e, lwa.ScopeSkillMessaging), bearer(t, e, lwa.ScopeProactiveEvents)
	call(e, http.MethodPost, alexatest.MessagesPath+"u", msgTok, `{"data":{"html":"<b>&</b>"}}`)
	call(e, http.MethodPost, proactive.PathDevelopment, evTok, eventJSON("<ref&>", "u"))
	dup := call(e, http.MethodPost, proactive.PathDevelopment, evTok, eventJSON("<ref&>", "u"))
	if !strings.Contains(dup.Body.String(), `<ref&>`) {
		t.Errorf("error body escapes HTML: %s", dup.Body)
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	for _, p := range []string{alexatest.AdminMessages, alexatest.AdminEvents, alexatest.AdminTokens} {
		w := call(e, http.MethodGet, p, "", "")
		if strings.Contains(w.Body.String(), `\u003c`) || strings.Contains(w.Body.String(), `\u0026`) {
			t.Errorf("%s escapes HTML: %s", p, w.Body)
		}
		var l struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		var top map[string]json.RawMessage
		json.Unmarshal(w.Body.Bytes(), &top)
		json.Unmarshal(w.Body.Bytes(), &l)
		keys := []string{}
		for k := range top {
			keys = append(keys, k)
		}
		for _, it := range l.Items {
			for k := range it {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if !camel.MatchString(k) {
				t.Errorf("%s: key %q is not camelCase", p, k)
			}
		}
		if len(l.Items) == 0 {
			t.Errorf("%s: nothing listed", p)
		}
	}
	if w := call(e, http.MethodGet, alexatest.AdminMessages, "", ""); !strings.Contains(w.Body.String(), `"<b>&</b>"`) {
		t.Errorf("message data not as sent: %s", w.Body)
	}
}

// A client that sends its body (or headers) too slowly has its connection
// closed before it is done, rather than holding it.
func TestSlowClientsCutOff(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{ReadTimeout: 100 * time.Millisecond})
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	const size = 500 // sent a byte every 10 ms: 5 s, fifty times the timeout
	for _, tt := range []struct {
		name, head string
		trickle    string
	}{
		{"body", "POST " + alexatest.MessagesPath + "u HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(size) + "\r\n\r\n", strings.Repeat(" ", size)},
		{"headers", "POST " + alexatest.MessagesPath + "u HTTP/1.1\r\n", strings.Repeat("X", size)},
		{"body to the health path", "POST " + alexatest.HealthPath + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(size) + "\r\n\r\n", strings.Repeat(" ", size)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.head); err != nil {
				t.Fatal(err)
			}
			closed := make(chan string, 1)
			go func() {
				// The answer, if any, then the end of the connection.
				br := bufio.NewReader(conn)
				how := "no answer"
				if resp, err := http.ReadResponse(br, nil); err == nil {
					io.Copy(io.Discard, resp.Body)
					how = fmt.Sprintf("answered %d", resp.StatusCode)
				}
				_, err := io.Copy(io.Discard, br) // returns when the server closes
				closed <- fmt.Sprintf("%s, then closed (%v)", how, err)
			}()
			sent := 0
			for ; sent < size; sent++ {
				select {
				case how := <-closed:
					t.Logf("cut off after %d of %d bytes: %s", sent, size, how)
					return
				default:
				}
				if _, err := io.WriteString(conn, tt.trickle[sent:sent+1]); err != nil {
					t.Logf("cut off after %d of %d bytes: %v", sent, size, err)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Errorf("the server took all %d trickled bytes without closing the connection", size)
		})
	}
}
