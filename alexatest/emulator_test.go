package alexatest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/google/go-cmp/cmp"
)

// post sends a raw request the way a foreign client would, and returns
// the status and decoded JSON body.
func post(t *testing.T, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = []string{v} // raw keys: keep the caller's casing
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("body %q: %v", data, err)
		}
	}
	return resp.StatusCode, m
}

// reason returns the symbolic reason that leads an API error's message,
// after checking that code is the HTTP status as a number, as Amazon's
// SDKs need.
func reason(body map[string]any) string {
	if _, ok := body["code"].(float64); !ok {
		return fmt.Sprintf("code %v is not a number", body["code"])
	}
	r, _, _ := strings.Cut(fmt.Sprint(body["message"]), ":")
	return r
}

// getJSON fetches url and decodes its JSON body into v, failing on a
// status other than 200.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, data)
	}
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

var formHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func token(t *testing.T, srv *alexatest.Server, scope string) string {
	t.Helper()
	c := srv.Credentials()
	status, body := post(t, srv.TokenURL, formHeader, form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "scope", scope))
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	return body["access_token"].(string)
}

func TestTokenEndpointRefusesAsLWADoes(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{ClientID: "id", ClientSecret: "s3cr&t=+x y%", RefreshToken: "rt&=", Scopes: []string{lwa.ScopeSkillMessaging}})
	defer srv.Close()
	tests := []struct {
		name   string
		form   string
		status int
		code   string
	}{
		{"no grant", form("client_id", "id", "client_secret", "s3cr&t=+x y%"), 400, "invalid_request"},
		{"odd grant", form("grant_type", "password", "client_id", "id", "client_secret", "x"), 400, "unsupported_grant_type"},
		{"no secret", form("grant_type", "client_credentials", "client_id", "id", "scope", lwa.ScopeSkillMessaging), 400, "invalid_request"},
		{"wrong secret", form("grant_type", "client_credentials", "client_id", "id", "client_secret", "s3cr", "scope", lwa.ScopeSkillMessaging), 401, "invalid_client"},
		{"wrong id", form("grant_type", "client_credentials", "client_id", "other", "client_secret", "s3cr&t=+x y%", "scope", lwa.ScopeSkillMessaging), 401, "invalid_client"},
		{"scope not granted", form("grant_type", "client_credentials", "client_id", "id", "client_secret", "s3cr&t=+x y%", "scope", "alexa:abc"), 400, "invalid_scope"},
		{"bad refresh token", form("grant_type", "refresh_token", "client_id", "id", "client_secret", "s3cr&t=+x y%", "refresh_token", "rt"), 400, "invalid_grant"},
		{"granted", form("grant_type", "client_credentials", "client_id", "id", "client_secret", "s3cr&t=+x y%", "scope", lwa.ScopeSkillMessaging), 200, ""},
		{"refreshed", form("grant_type", "refresh_token", "client_id", "id", "client_secret", "s3cr&t=+x y%", "refresh_token", "rt&="), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv.TokenURL, formHeader, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if tt.code != "" {
				if body["error"] != tt.code || body["error_description"] == "" {
					t.Errorf("body %v, want error %q with a description", body, tt.code)
				}
				return
			}
			if !strings.HasPrefix(body["access_token"].(string), "Atza|") || body["expires_in"] != 3600.0 || body["token_type"] != "bearer" {
				t.Errorf("token body %v", body)
			}
		})
	}
	for _, r := range srv.TokenRequests() {
		if strings.Contains(r.ClientID+r.Scope+r.Error, "s3cr") {
			t.Errorf("token log holds a secret: %+v", r)
		}
	}
}

func TestAPIsRequireATokenOfTheirScope(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	msgURL := srv.URL + "/v1/skillmessages/users/u1"
	body := `{"data":{},"expiresAfterSeconds":60}`
	if status, _ := post(t, msgURL, nil, body); status != 401 {
		t.Errorf("no token: %d, want 401", status)
	}
	if status, _ := post(t, msgURL, map[string]string{"Authorization": "Bearer Atza|forged"}, body); status != 403 {
		t.Errorf("unknown token: %d, want 403", status)
	}
	wrong := token(t, srv, lwa.ScopeProactiveEvents)
	if status, b := post(t, msgURL, map[string]string{"Authorization": "Bearer " + wrong}, body); status != 403 || reason(b) != "INVALID_SCOPE" {
		t.Errorf("wrong scope: %d %v, want 403 INVALID_SCOPE", status, b)
	}
	right := token(t, srv, lwa.ScopeSkillMessaging)
	if status, b := post(t, msgURL, map[string]string{"Authorization": "Bearer " + right}, body); status != 202 {
		t.Errorf("right scope: %d %v, want 202", status, b)
	}
	srv.ExpireTokens()
	if status, b := post(t, msgURL, map[string]string{"Authorization": "Bearer " + right}, body); status != 403 || reason(b) != "EXPIRED_TOKEN" {
		t.Errorf("expired: %d %v, want 403 EXPIRED_TOKEN", status, b)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
}

func TestEmulatorValidatesWithTheClientRules(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{KnownUsers: []string{"u1"}})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeProactiveEvents)}
	bad := `{"timestamp":"2099-11-25T12:00:00Z","referenceId":"","expiryTime":"2099-11-25T12:01:00Z","event":{"name":"X.Y","payload":{"a":"localizedattribute:k"}},"localizedAttributes":[{"locale":"en-US"}],"relevantAudience":{"type":"Broadcast"}}`
	status, body := post(t, srv.URL+proactive.PathDevelopment, auth, bad)
	if status != 400 {
		t.Fatalf("status %d, want 400", status)
	}
	var req proactive.Request
	if err := json.Unmarshal([]byte(bad), &req); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, v := range proactive.DefaultRules().Check(&req) {
		want = append(want, v.String())
	}
	if diff := cmp.Diff("INVALID_REQUEST: "+strings.Join(want, "; "), body["message"]); diff != "" {
		t.Errorf("emulator words differ from the client's (-client +emulator):\n%s", diff)
	}
	if len(want) != 4 {
		t.Errorf("want referenceId, expiryTime, placeholder and audience violations, got %q", want)
	}
	if got := body["violations"].([]any); len(got) != len(want) {
		t.Errorf("violations %v", got)
	}

	msgAuth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeSkillMessaging)}
	status, body = post(t, srv.URL+"/v1/skillmessages/users/u1", msgAuth, `{"data":[1],"expiresAfterSeconds":10}`)
	if status != 400 || !strings.Contains(body["message"].(string), "expiresAfterSeconds: must be 60 to 86400 (got 10)") || !strings.Contains(body["message"].(string), "data: must be a JSON object") {
		t.Errorf("message validation: %d %v", status, body)
	}
	if status, _ := post(t, srv.URL+"/v1/skillmessages/users/nobody", msgAuth, `{"data":{}}`); status != 404 {
		t.Errorf("unknown user: %d, want 404", status)
	}
	if len(srv.Events())+len(srv.Messages()) != 0 {
		t.Error("refused calls were recorded")
	}
}

func TestDuplicateReferenceIDPerAudience(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{AllowUnsubscribed: true})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeProactiveEvents)}
	ev := func(audience string) string {
		return `{"timestamp":"2099-11-25T12:00:00Z","referenceId":"r1","expiryTime":"2099-11-25T13:00:00Z",
		"event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD"},"messageGroup":{"creator":{"name":"Andy"},"count":1}}},
		"localizedAttributes":[],"relevantAudience":` + audience + `}`
	}
	uni := func(u string) string { return `{"type":"Unicast","payload":{"user":"` + u + `"}}` }
	steps := []struct {
		path, body string
		status     int
	}{
		{proactive.PathDevelopment, ev(uni("a")), 202},
		{proactive.PathDevelopment, ev(uni("a")), 409},
		{proactive.PathDevelopment, ev(uni("b")), 202},
		{proactive.PathLive, ev(uni("a")), 202},
		{proactive.PathDevelopment, ev(`{"type":"Multicast","payload":{}}`), 202},
		{proactive.PathDevelopment, ev(`{"type":"Multicast"}`), 409},
	}
	for i, s := range steps {
		if status, body := post(t, srv.URL+s.path, auth, s.body); status != s.status {
			t.Errorf("step %d: %d %v, want %d", i, status, body, s.status)
		}
	}
	if n := len(srv.Events()); n != 4 {
		t.Errorf("%d events recorded, want 4", n)
	}
}

// Requests exactly as Amazon's Python SDK sends them (unencoded form,
// "Content-type", the capitalised token path, naive datetimes, spaced
// JSON) and as its Node SDK does, are accepted like ours.
func TestForeignSDKRequestsAccepted(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{ClientID: "amzn1.application-oa2-client.py", ClientSecret: "plainsecret"})
	defer srv.Close()
	pyForm := "grant_type=client_credentials&client_id=amzn1.application-oa2-client.py&client_secret=plainsecret&scope=alexa::proactive_events"
	status, tok := post(t, srv.URL+"/auth/O2/token", map[string]string{"Content-type": "application/x-www-form-urlencoded"}, pyForm)
	if status != 200 {
		t.Fatalf("python token request: %d %v", status, tok)
	}
	py := `{"timestamp": "2099-11-25T12:00:00.123456", "referenceId": "1234", "expiryTime": "2099-11-25T13:00:00.123456", "event": {"name": "AMAZON.WeatherAlert.Activated", "payload": {"weatherAlert": {"alertType": "SNOW_STORM", "source": "localizedattribute:source"}}}, "localizedAttributes": [{"locale": "en-US", "source": "Foo"}], "relevantAudience": {"type": "Multicast", "payload": {}}}`
	hdr := map[string]string{"Content-type": "application/json", "User-Agent": "ask-python-model/1.0.0 Python/3.11.7", "Authorization": "Bearer " + tok["access_token"].(string)}
	if status, body := post(t, srv.URL+proactive.PathDevelopment, hdr, py); status != 202 {
		t.Fatalf("python event: %d %v", status, body)
	}
	node := `{"timestamp":"2099-11-25T12:00:00.000Z","referenceId":"5678","expiryTime":"2099-11-25T13:00:00.000Z","event":{"name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"alertType":"SNOW_STORM","source":"localizedattribute:source"}}},"localizedAttributes":[{"locale":"en-US","source":"Foo"}],"relevantAudience":{"type":"Multicast"}}`
	hdr["User-Agent"] = "ask-node-model/1.86.0 Node/v20.20.2"
	if status, body := post(t, srv.URL+proactive.PathDevelopment, hdr, node); status != 202 {
		t.Fatalf("node event: %d %v", status, body)
	}
	evs := srv.Events()
	if len(evs) != 2 || !evs[0].Request.Timestamp.Equal(time.Date(2099, 11, 25, 12, 0, 0, 123456000, time.UTC)) {
		t.Errorf("recorded %+v", evs)
	}
	if got := evs[0].Header.Get("Authorization"); got != "Bearer [redacted]" {
		t.Errorf("recorded Authorization %q, want it redacted", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{Seed: 7})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeSkillMessaging)}
	url := srv.URL + "/v1/skillmessages/users/u"
	srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 2})
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"data":{}}`))
		req.Header.Set("Authorization", auth["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want, wantRA := 429, "2"
		if i == 2 {
			want, wantRA = 202, ""
		}
		if resp.StatusCode != want || resp.Header.Get("Retry-After") != wantRA {
			t.Errorf("call %d: %d Retry-After %q, want %d %q", i, resp.StatusCode, resp.Header.Get("Retry-After"), want, wantRA)
		}
	}

	srv.InjectFault(alexatest.Fault{Status: 500, Ratio: 0.3})
	failed := 0
	for i := 0; i < 200; i++ {
		if status, _ := post(t, url, auth, `{"data":{}}`); status == 500 {
			failed++
		}
	}
	if failed < 30 || failed > 90 {
		t.Errorf("%d of 200 calls failed with Ratio 0.3", failed)
	}
	srv.ClearFaults()
	if got := srv.Calls("/v1/skillmessages/users/u"); got != 203 {
		t.Errorf("Calls = %d, want 203", got)
	}

	srv.InjectFault(alexatest.Fault{Drop: true, Times: 1})
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"data":{}}`))
	req.Header.Set("Authorization", auth["Authorization"])
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("dropped call got a response")
	}
	before := len(srv.Messages())
	srv.InjectFault(alexatest.Fault{Lose: true, Times: 1})
	req, _ = http.NewRequest("POST", url, strings.NewReader(`{"data":{"k":"v"}}`))
	req.Header.Set("Authorization", auth["Authorization"])
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("lost call got a response")
	}
	if got := len(srv.Messages()); got != before+1 {
		t.Errorf("lost call not recorded: %d messages, want %d", got, before+1)
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeSkillMessaging)}
	post(t, srv.URL+"/v1/skillmessages/users/u%2F1", auth, `{"data":{"a":"1"}}`)
	post(t, srv.URL+"/v1/skillmessages/users/u2", auth, `{"data":{"b":"2"},"expiresAfterSeconds":120}`)
	var page alexatest.Listing[alexatest.Message]
	getJSON(t, srv.URL+alexatest.AdminMessages, &page)
	if len(page.Items) != 2 || page.NextCursor != "" {
		t.Fatalf("messages: %+v", page)
	}
	var data bytes.Buffer
	json.Compact(&data, page.Items[0].Data)
	if page.Items[0].UserID != "u/1" || data.String() != `{"a":"1"}` || page.Items[1].UserID != "u2" || page.Items[1].ExpiresAfterSeconds != 120 {
		t.Errorf("messages: %+v", page.Items)
	}
	if status, _ := post(t, srv.URL+alexatest.AdminReset, nil, ""); status != 204 {
		t.Errorf("reset: %d", status)
	}
	if len(srv.Messages()) != 0 || len(srv.TokenRequests()) != 0 {
		t.Error("reset kept records")
	}
}

// The emulator accepts every example request and refuses an invalid
// payload of a known schema with the validator's own words.
func TestEmulatorAppliesSchemaRules(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{AllowUnsubscribed: true})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeProactiveEvents)}
	files, _ := filepath.Glob("../examples/*.json")
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var req proactive.Request
		if json.Unmarshal(data, &req) != nil || req.Event.Name == "" {
			continue // not a proactive event request
		}
		n++
		req.Fill(time.Now(), proactive.NewReferenceID())
		body, _ := json.Marshal(req)
		if status, b := post(t, srv.URL+proactive.PathDevelopment, auth, string(body)); status != 202 {
			t.Errorf("%s: %d %v", f, status, b)
		}
	}
	if n < 8 {
		t.Errorf("only %d example event files", n)
	}
	bad := `{"timestamp":"2099-11-25T12:00:00Z","referenceId":"w1","expiryTime":"2099-11-25T13:00:00Z",
	"event":{"name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"alertType":"SNOWSTORM","source":"localizedattribute:source"}}},
	"localizedAttributes":[{"locale":"en-US","source":"Foo"}],"relevantAudience":{"type":"Multicast","payload":{}}}`
	status, b := post(t, srv.URL+proactive.PathDevelopment, auth, bad)
	want := `INVALID_REQUEST: event.payload.weatherAlert.alertType: must be one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM (got "SNOWSTORM")`
	if status != 400 || b["message"] != want {
		t.Errorf("got %d %v, want 400 %q", status, b, want)
	}
}

// Discarding records keeps the emulator's memory flat: no bodies, and
// skill-message calls counted together rather than per user.
func TestDiscardRecordsCountsMessagesTogether(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{DiscardRecords: true})
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + token(t, srv, lwa.ScopeSkillMessaging)}
	for _, u := range []string{"a", "b", "c"} {
		if status, _ := post(t, srv.URL+alexatest.MessagesPath+u, auth, `{"data":{}}`); status != 202 {
			t.Fatalf("status %d", status)
		}
	}
	if srv.Calls(alexatest.MessagesPath) != 3 || srv.Calls(alexatest.MessagesPath+"a") != 3 || srv.Accepted() != 3 || len(srv.Messages()) != 0 {
		t.Errorf("calls %d, accepted %d, kept %d", srv.Calls(alexatest.MessagesPath), srv.Accepted(), len(srv.Messages()))
	}
}
