package cli

// The commands end to end, in-process through Run, against a recording
// server or the emulator. Only what needs a process of its own (signals,
// kill -9, two processes on one journal, a real pipe on stdin, exit
// codes) runs the built binary, in cmd/alexa-oos.

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
)

// repoRoot is the module root, relative to this package's directory,
// where its tests run.
const repoRoot = "../../../.."

// example is the path of a file under examples/.
func example(name string) string { return filepath.Join(repoRoot, "examples", name) }

// Fixtures, relative to this package's directory.
const (
	fixedIDFixture = "../../testdata/message-alert-unicast-fixed-id.json"
	invalidFixture = "../../testdata/invalid.json"
	notJSONFixture = "../../testdata/not-json.json"
)

// secret holds every character that form encoding must escape.
const secret = "s3c&r=t+ x%2F%"

const clientID = "amzn1.application-oa2-client.cli-test"

type result struct {
	stdout, stderr string
	code           int
}

// run runs the command in-process with vars as its whole environment and
// stdin as its standard input.
func run(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	o := invocation{vars: vars, stdin: stdin, args: args}.run(t)
	return result{stdout: o.stdout, stderr: o.stderr, code: o.code}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// noSecrets fails when the output shows the secret or a token.
func noSecrets(t *testing.T, r result, tokens ...string) {
	t.Helper()
	for _, s := range append([]string{secret}, tokens...) {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output shows a secret or token %q:\n%s", s, r)
		}
	}
}

// recorded is one request a recorder saw.
type recorded struct {
	Method     string
	RequestURI string
	Path       string
	Header     http.Header
	Form       url.Values
	JSON       map[string]any
}

// recorder is a fake Alexa that records every request and accepts it.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := recorded{Method: r.Method, RequestURI: r.RequestURI, Path: r.URL.Path, Header: r.Header.Clone()}
		if r.URL.Path == "/auth/o2/token" {
			got.Form, _ = url.ParseQuery(string(body))
		} else if len(body) > 0 {
			if err := json.Unmarshal(body, &got.JSON); err != nil {
				t.Errorf("%s %s: body is not a JSON object: %v: %s", r.Method, r.URL.Path, err, body)
			}
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, got)
		rec.mu.Unlock()
		if r.URL.Path == "/auth/o2/token" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": "Atza|tok-" + got.Form.Get("scope"), "token_type": "bearer", "expires_in": 3600})
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reqs)
}

func (rec *recorder) env() map[string]string {
	return map[string]string{
		"ALEXA_API_ENDPOINT":  rec.URL,
		"ALEXA_TOKEN_URL":     rec.URL + "/auth/o2/token",
		"ALEXA_CLIENT_ID":     clientID,
		"ALEXA_CLIENT_SECRET": secret,
	}
}

// secretFile writes the secret, with a trailing newline as editors leave it.
func secretFile(t *testing.T) string {
	f := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func without(env map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

func with(env map[string]string, kv ...string) map[string]string {
	out := without(env)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func checkTokenRequest(t *testing.T, r recorded, scope string) {
	t.Helper()
	if r.Method != "POST" || r.Path != "/auth/o2/token" {
		t.Fatalf("first request %s %s, want POST /auth/o2/token", r.Method, r.Path)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type %q", r.Header.Get("Content-Type"))
	}
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	for k, v := range want {
		if !slices.Equal(r.Form[k], v) {
			t.Errorf("token form %s = %q, want %q", k, r.Form[k], v)
		}
	}
}

func checkAPIRequest(t *testing.T, r recorded, uri, scope string) {
	t.Helper()
	if r.Method != "POST" || r.RequestURI != uri {
		t.Errorf("API request %s %s, want POST %s", r.Method, r.RequestURI, uri)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer Atza|tok-"+scope; got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
}

// rfc3339UTC parses a wire time, which must be RFC 3339 in UTC.
func rfc3339UTC(t *testing.T, field string, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want an RFC 3339 UTC time", field, s)
	}
	return ts
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestProactiveSendWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   func(*recorder) map[string]string
		args  []string
		path  string
		stdin string
	}{
		{"secret from env, development", func(r *recorder) map[string]string { return r.env() }, []string{weatherFixture}, proactive.PathDevelopment, ""},
		{"secret from file, live", func(r *recorder) map[string]string { return without(r.env(), "ALEXA_CLIENT_SECRET") },
			[]string{"--stage", "live", "--client-secret-file", "SECRETFILE", weatherFixture}, proactive.PathLive, ""},
		{"stdin, flags over env", func(r *recorder) map[string]string {
			return with(r.env(), "ALEXA_CLIENT_ID", "someone-else", "ALEXA_API_ENDPOINT", "https://api.amazonalexa.com")
		}, []string{"--client-id", clientID, "--endpoint", "ENDPOINT", "-"}, proactive.PathDevelopment, "STDIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			args := []string{"proactive", "send"}
			for _, a := range tt.args {
				a = strings.ReplaceAll(a, "SECRETFILE", secretFile(t))
				a = strings.ReplaceAll(a, "ENDPOINT", rec.URL)
				args = append(args, a)
			}
			stdin := ""
			if tt.stdin != "" {
				b, err := os.ReadFile(weatherFixture)
				if err != nil {
					t.Fatal(err)
				}
				stdin = string(b)
			}
			r := run(t, tt.env(rec), stdin, args...)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			noSecrets(t, r, "Atza|tok")
			reqs := rec.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want token + event: %+v", len(reqs), reqs)
			}
			checkTokenRequest(t, reqs[0], "alexa::proactive_events")
			checkAPIRequest(t, reqs[1], tt.path, "alexa::proactive_events")
			body := reqs[1].JSON
			ts := rfc3339UTC(t, "timestamp", body["timestamp"])
			exp := rfc3339UTC(t, "expiryTime", body["expiryTime"])
			if exp.Sub(ts) != time.Hour {
				t.Errorf("expiryTime %s after timestamp, want 1h", exp.Sub(ts))
			}
			id, _ := body["referenceId"].(string)
			if !hexID.MatchString(id) {
				t.Errorf("referenceId %q, want 32 lowercase hex digits", id)
			}
			event := body["event"].(map[string]any)
			if event["name"] != "AMAZON.WeatherAlert.Activated" {
				t.Errorf("event.name %v", event["name"])
			}
			if alert := event["payload"].(map[string]any)["weatherAlert"].(map[string]any); alert["alertType"] != "SNOW_STORM" || alert["source"] != "localizedattribute:source" {
				t.Errorf("payload %v", event["payload"])
			}
			if la := body["localizedAttributes"].([]any); len(la) != 2 || la[0].(map[string]any)["locale"] != "en-US" || la[0].(map[string]any)["source"] != "Foo" {
				t.Errorf("localizedAttributes %v", la)
			}
			if aud, _ := json.Marshal(body["relevantAudience"]); string(aud) != `{"payload":{},"type":"Multicast"}` {
				t.Errorf("relevantAudience %s", aud)
			}
			for _, want := range []string{"referenceId: filled with " + id, "timestamp: filled with ", "expiryTime: filled with ", "accepted: HTTP 202", "en-US: "} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r)
				}
			}
		})
	}
}

func TestProactiveSendKeepsGivenFields(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	r := run(t, rec.env(), "", "-o", "json", "proactive", "send", fixedIDFixture)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	reqs := rec.requests()
	body := reqs[len(reqs)-1].JSON
	if body["referenceId"] != "fixed-reference-0001" || body["timestamp"] != "2099-11-25T12:00:00.000Z" || body["expiryTime"] != "2099-11-25T13:00:00.000Z" {
		t.Errorf("sent %v", body)
	}
	if aud, _ := json.Marshal(body["relevantAudience"]); string(aud) != `{"payload":{"user":"amzn1.ask.account.TESTUSER"},"type":"Unicast"}` {
		t.Errorf("relevantAudience %s", aud)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r)
	}
	if out["status"] != 202.0 || out["referenceId"] != "fixed-reference-0001" || out["filled"] != nil || out["user"] != "amzn1.ask.account.TESTUSER" {
		t.Errorf("result %v", out)
	}
}

func TestVerboseLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	r := run(t, rec.env(), "", "-v", "message", "send", "--user", "u1")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	for _, want := range []string{"lwa: token", "alexa: http", "/v1/skillmessages/users/u1", "status=202"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("-v log lacks %q:\n%s", want, r)
		}
	}
	noSecrets(t, r, "Atza|tok")
}

func TestMessageSendWire(t *testing.T) {
	t.Parallel()
	const user = "amzn1.ask.account.A/B+C=D"
	const escaped = "/v1/skillmessages/users/amzn1.ask.account.A%2FB%2BC%3DD"
	tests := []struct {
		name     string
		args     []string
		fromFile bool
		data     string
		expires  float64
	}{
		{"data flag, duration", []string{"--data", `{"reminder_id": "42"}`, "--expires-after", "2h"}, false, `{"reminder_id":"42"}`, 7200},
		{"seconds", []string{"--data", `{"a":{"b":[1,2]}}`, "--expires-after", "7200"}, false, `{"a":{"b":[1,2]}}`, 7200},
		{"example data file, secret file", []string{"--data-file", example("messages/skill-message.json")}, true, `{"reminder_id":"XXXX"}`, 3600},
		{"no data", nil, false, `{}`, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			env := rec.env()
			args := append([]string{"message", "send", "--user", user}, tt.args...)
			if tt.fromFile {
				env = without(env, "ALEXA_CLIENT_SECRET")
				args = append(args, "--client-secret-file", secretFile(t))
			}
			r := run(t, env, "", args...)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			noSecrets(t, r, "Atza|tok")
			reqs := rec.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2: %+v", len(reqs), reqs)
			}
			checkTokenRequest(t, reqs[0], "alexa:skill_messaging")
			checkAPIRequest(t, reqs[1], escaped, "alexa:skill_messaging")
			data, _ := json.Marshal(reqs[1].JSON["data"])
			if string(data) != tt.data || reqs[1].JSON["expiresAfterSeconds"] != tt.expires || len(reqs[1].JSON) != 2 {
				t.Errorf("body %v, want data %s expiresAfterSeconds %v", reqs[1].JSON, tt.data, tt.expires)
			}
		})
	}
}

func TestUsageAndValidationErrorsSendNothing(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	env := rec.env()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"invalid request", env, []string{"proactive", "send", invalidFixture}, `relevantAudience.type: must be Unicast or Multicast (got "Broadcast")`},
		{"not JSON", env, []string{"proactive", "send", notJSONFixture}, "not JSON: unexpected end of JSON input, at line 1, column"},
		{"not a request", env, []string{"proactive", "send", example("messages/skill-message.json")}, "none of the fields"},
		{"missing file", env, []string{"proactive", "send", "no/such.json"}, "no such file"},
		{"two files", env, []string{"proactive", "send", weatherFixture, weatherFixture}, "expects one FILE"},
		{"bad stage", env, []string{"proactive", "send", "--stage", "prod", weatherFixture}, "--stage: must be development or live"},
		{"expiry too short", env, []string{"message", "send", "--user", "u", "--expires-after", "10"}, "expiresAfterSeconds: must be 60 to 86400 (got 10)"},
		{"expiry zero", env, []string{"message", "send", "--user", "u", "--expires-after", "0s"}, "--expires-after"},
		{"expiry garbage", env, []string{"message", "send", "--user", "u", "--expires-after", "soon"}, "--expires-after"},
		{"data not JSON", env, []string{"message", "send", "--user", "u", "--data", "{nope"}, `--data: not JSON: invalid character 'n' looking for beginning of object key string, at line 1, column 2 (got "{nope")`},
		{"data not an object", env, []string{"message", "send", "--user", "u", "--data", "[1]"}, "data: must be a JSON object"},
		{"data twice", env, []string{"message", "send", "--user", "u", "--data", "{}", "--data-file", example("messages/skill-message.json")}, "data"},
		{"no user", env, []string{"message", "send", "--data", "{}"}, `"user"`},
		{"secret as flag", env, []string{"message", "send", "--user", "u", "--client-secret", "x"}, "--client-secret-file"},
		{"bad region", without(env, "ALEXA_API_ENDPOINT"), []string{"--region", "XX", "message", "send", "--user", "u"}, "--region"},
		{"plain http off loopback", env, []string{"--endpoint", "http://example.com", "message", "send", "--user", "u"}, "plain http"},
		{"bad output", env, []string{"-o", "yaml", "message", "send", "--user", "u"}, "text or json"},
		{"unknown command", env, []string{"proactive", "sned"}, "unknown command"},
		{"unknown flag", env, []string{"message", "send", "--user", "u", "--dta", "{}"}, "unknown flag"},
		{"token without scope", env, []string{"token"}, "--scope"},
		{"endpoint without credentials", without(env, "ALEXA_CLIENT_ID", "ALEXA_CLIENT_SECRET"), []string{"message", "send", "--user", "u"}, "ALEXA_CLIENT_ID is not set"},
		{"id without secret", without(env, "ALEXA_CLIENT_SECRET"), []string{"proactive", "send", weatherFixture}, "ALEXA_CLIENT_SECRET is not set"},
		{"refresh without refresh token", env, []string{"token", "--refresh"}, "ALEXA_REFRESH_TOKEN is not set"},
		{"unreadable secret file", without(env, "ALEXA_CLIENT_SECRET"), []string{"--client-secret-file", "no/such/secret", "token", "--scope", "x"}, "--client-secret-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, "", tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\n%s", r.code, r)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.HasPrefix(r.stderr, "alexa-oos: ") {
				t.Errorf("stderr lacks %q\n%s", tt.want, r)
			}
			noSecrets(t, r)
		})
	}

	t.Run("json", func(t *testing.T) {
		r := run(t, env, "", "-o", "json", "proactive", "send", invalidFixture)
		var out struct {
			Error      string
			Kind       string
			Violations []struct{ Field, Rule, Value string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 2 {
			t.Fatalf("want a JSON error and exit 2: %v\n%s", err, r)
		}
		if out.Kind != "validation" || len(out.Violations) != 3 || out.Violations[2].Field != "relevantAudience.type" || out.Violations[2].Value != `"Broadcast"` {
			t.Errorf("JSON error %+v", out)
		}
	})
	if n := len(rec.requests()); n != 0 {
		t.Errorf("usage and validation errors sent %d requests: %+v", n, rec.requests())
	}
}

// emulatorEnv points the command at srv with its configured credentials.
func emulatorEnv(srv *alexatest.Server) map[string]string {
	return map[string]string{
		"ALEXA_API_ENDPOINT":  srv.URL,
		"ALEXA_TOKEN_URL":     srv.TokenURL,
		"ALEXA_CLIENT_ID":     clientID,
		"ALEXA_CLIENT_SECRET": secret,
	}
}

func newEmulator(t *testing.T, opts alexatest.Options) *alexatest.Server {
	opts.ClientID, opts.ClientSecret = clientID, secret
	opts.AllowUnsubscribed = true // the tests' users never subscribe
	srv := alexatest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func TestAgainstEmulator(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{})
	env := emulatorEnv(srv)

	t.Run("send", func(t *testing.T) {
		r := run(t, env, "", "proactive", "send", weatherFixture)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		if r.stderr != "" {
			t.Errorf("stderr not empty:\n%s", r)
		}
		evs := srv.Events()
		if len(evs) != 1 || evs[0].Stage != proactive.Development || evs[0].Audience != "Multicast" {
			t.Fatalf("emulator recorded %+v", evs)
		}
		if !strings.Contains(r.stdout, "referenceId: "+evs[0].Request.ReferenceID) {
			t.Errorf("stdout lacks the referenceId %s\n%s", evs[0].Request.ReferenceID, r)
		}
	})

	t.Run("secret file", func(t *testing.T) {
		r := run(t, without(env, "ALEXA_CLIENT_SECRET"), "", "--client-secret-file", secretFile(t), "message", "send", "--user", "u1", "--data", `{"k":"v"}`)
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		if ms := srv.MessagesFor("u1"); len(ms) != 1 || string(ms[0].Data) != `{"k":"v"}` {
			t.Errorf("emulator recorded %+v", ms)
		}
	})

	t.Run("token", func(t *testing.T) {
		r := run(t, env, "", "token", "--scope", "alexa:abc")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Atza|") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("want one token line\n%s", r)
		}
		reqs := srv.TokenRequests()
		if last := reqs[len(reqs)-1]; last.Scope != "alexa:abc" || last.Status != 200 || last.ClientID != clientID {
			t.Errorf("token request %+v", last)
		}
		r = run(t, env, "", "-o", "json", "token", "--scope", "alexa:abc")
		var out struct{ AccessToken, ExpiresAt, Scope string }
		if err := json.Unmarshal([]byte(r.stdout), &struct {
			A *string `json:"accessToken"`
			E *string `json:"expiresAt"`
			S *string `json:"scope"`
		}{&out.AccessToken, &out.ExpiresAt, &out.Scope}); err != nil || r.code != 0 {
			t.Fatalf("%v\n%s", err, r)
		}
		exp, err := time.Parse(time.RFC3339, out.ExpiresAt)
		if !strings.HasPrefix(out.AccessToken, "Atza|") || out.Scope != "alexa:abc" || err != nil || !exp.After(time.Now()) {
			t.Errorf("JSON token %+v", out)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		r := run(t, with(env, "ALEXA_CLIENT_SECRET", "not-the-secret"), "", "proactive", "send", weatherFixture)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 1 || len(lines) != 2 || !strings.Contains(lines[0], "invalid_client") || strings.Contains(lines[0], "hint") || !strings.HasPrefix(lines[1], "alexa-oos: hint: ") {
			t.Errorf("want exit 1, one line with invalid_client and the hint on a line of its own\n%s", r)
		}
		noSecrets(t, r, "not-the-secret")
	})

	t.Run("duplicate", func(t *testing.T) {
		first := run(t, env, "", "proactive", "send", fixedIDFixture)
		second := run(t, env, "", "proactive", "send", fixedIDFixture)
		if first.code != 0 {
			t.Fatalf("first send: %s", first)
		}
		// Alexa has the event already: what was asked is done.
		if second.code != 0 || !strings.HasPrefix(second.stdout, "already delivered: HTTP 409") || second.stderr != "" {
			t.Errorf("second send: want exit 0 and already delivered\n%s", second)
		}
		third := run(t, env, "", "-o", "json", "proactive", "send", fixedIDFixture)
		var out struct {
			Result      string
			Status      int
			ReferenceID string
		}
		if err := json.Unmarshal([]byte(third.stdout), &out); err != nil || third.code != 0 {
			t.Fatalf("third send: %v\n%s", err, third)
		}
		if out.Result != "alreadyDelivered" || out.Status != 409 || out.ReferenceID != "fixed-reference-0001" {
			t.Errorf("third send: JSON %+v; want result alreadyDelivered, status 409", out)
		}
	})
}

func TestAPIFailures(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{KnownUsers: []string{"known"}})
	env := emulatorEnv(srv)
	tests := []struct {
		name  string
		fault alexatest.Fault
		args  []string
		want  []string
		kind  string
	}{
		{"bad request", alexatest.Fault{Path: "/v1/proactiveEvents", Status: 400, Times: 1}, []string{"proactive", "send", weatherFixture},
			[]string{"HTTP 400", "Bad Request (injected by alexatest)"}, "api"},
		{"server error", alexatest.Fault{Path: "/v1/skillmessages", Status: 500}, []string{"message", "send", "--user", "known"},
			[]string{"HTTP 500", "Internal Server Error (injected by alexatest)", "after 3 attempts"}, "api"},
		{"throttled", alexatest.Fault{Path: "/v1/proactiveEvents", Status: 429, RetryAfter: 120 * time.Second}, []string{"proactive", "send", weatherFixture},
			[]string{"throttled", "HTTP 429", "retry after 2m0s", "\nalexa-oos: hint: Alexa asked to wait 2m0s"}, "throttled"},
		{"unknown user", alexatest.Fault{}, []string{"message", "send", "--user", "stranger"},
			[]string{"HTTP 404", "does not exist", "\nalexa-oos: hint: the userId does not exist"}, "not_found"},
		{"token endpoint down", alexatest.Fault{Path: alexatest.TokenPath, Status: 503}, []string{"token", "--scope", "alexa:abc"},
			[]string{"lwa.Token(alexa:abc): HTTP 503"}, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, output := range []string{"text", "json"} {
				srv.ClearFaults()
				if tt.fault != (alexatest.Fault{}) {
					srv.InjectFault(tt.fault)
				}
				r := run(t, env, "", append([]string{"-o", output}, tt.args...)...)
				if r.code != 1 {
					t.Errorf("exit %d, want 1\n%s", r.code, r)
				}
				// One line, and the hint, if any, on a line of its own.
				lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				if len(lines) > 2 || !strings.HasPrefix(lines[0], "alexa-oos: ") || strings.Contains(lines[0], "hint") ||
					len(lines) == 2 && !strings.HasPrefix(lines[1], "alexa-oos: hint: ") {
					t.Errorf("want one stderr line and perhaps a hint line\n%s", r)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q\n%s", w, r)
					}
				}
				if output == "json" {
					var out map[string]any
					if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
						t.Fatalf("stdout is not one JSON object: %v\n%s", err, r)
					}
					if out["kind"] != tt.kind || out["status"] == nil || out["error"] == "" {
						t.Errorf("JSON error %v, want kind %s", out, tt.kind)
					}
					if tt.kind == "throttled" && out["retryAfterSeconds"] != 120.0 {
						t.Errorf("JSON error %v, want retryAfterSeconds 120", out)
					}
				}
			}
		})
	}
	srv.ClearFaults()
}

func TestEmbeddedEmulator(t *testing.T) {
	t.Parallel()
	sends := []struct {
		name string
		args []string
		want []string
	}{
		{"fixture", []string{"proactive", "send", weatherFixture},
			[]string{"emulator recorded: stage DEVELOPMENT, audience Multicast, referenceId ", ", event AMAZON.WeatherAlert.Activated"}},
		{"example", []string{"proactive", "send", example("weather-alert-multicast.json")},
			[]string{"emulator recorded: stage DEVELOPMENT, audience Multicast, referenceId ", ", event AMAZON.WeatherAlert.Activated"}},
		{"live unicast", []string{"proactive", "send", "--stage", "live", fixedIDFixture},
			[]string{"emulator recorded: stage LIVE, audience amzn1.ask.account.TESTUSER, referenceId fixed-reference-0001, event AMAZON.MessageAlert.Activated"}},
		{"message", []string{"message", "send", "--user", "amzn1.ask.account.X", "--data-file", example("messages/skill-message.json")},
			[]string{`emulator recorded: user amzn1.ask.account.X, data {"reminder_id":"XXXX"}, expiresAfterSeconds 3600`}},
		{"token", []string{"token", "--scope", "alexa:abc"}, []string{"Atza|alexatest."}},
	}
	for _, tt := range sends {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if slices.Contains(tt.args, example("weather-alert-multicast.json")) {
				if _, err := os.Stat(example("weather-alert-multicast.json")); err != nil {
					t.Skip("examples/weather-alert-multicast.json does not exist yet")
				}
			}
			r := run(t, nil, "", tt.args...)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "alexa-oos: no credentials set: ") ||
				!strings.Contains(r.stderr, "built-in emulator at http://127.0.0.1:") || !strings.Contains(r.stderr, "ALEXA_CLIENT_ID") {
				t.Errorf("want the one-line notice on stderr\n%s", r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q\n%s", w, r)
				}
			}
		})
	}
}

// proactiveExamples are the example files holding Proactive Events
// requests (examples/ also holds skill message data).
func proactiveExamples(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*.json"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(b, &top) == nil && top["event"] != nil {
			out = append(out, f)
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	t.Run("examples", func(t *testing.T) {
		t.Parallel()
		files := proactiveExamples(t)
		if len(files) == 0 {
			t.Skip("no proactive example files yet")
		}
		r := run(t, nil, "", append([]string{"proactive", "validate"}, files...)...)
		if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, ": ok\n") != len(files) {
			t.Errorf("want every example valid, silently\n%s", r)
		}
	})

	t.Run("mixed", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "proactive", "validate", weatherFixture, invalidFixture, notJSONFixture, "no/such.json")
		if r.code != 2 {
			t.Errorf("exit %d, want 2\n%s", r.code, r)
		}
		// The rules' words are the library's; the CLI adds the file name.
		b, err := os.ReadFile(invalidFixture)
		if err != nil {
			t.Fatal(err)
		}
		var req proactive.Request
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		req.Fill(time.Now(), "r1")
		want := []string{weatherFixture + ": ok"}
		for _, v := range proactive.DefaultRules().Check(&req) {
			want = append(want, invalidFixture+": "+v.String())
		}
		if len(want) != 4 || !strings.HasSuffix(want[3], `relevantAudience.type: must be Unicast or Multicast (got "Broadcast")`) {
			t.Fatalf("the invalid fixture should break three rules: %q", want)
		}
		want = append(want,
			notJSONFixture+": not JSON: unexpected end of JSON input, at line 1, column 12",
			"open no/such.json: no such file or directory")
		if got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); !slices.Equal(got, want) {
			t.Errorf("stdout lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(r.stderr, "expiryTme: unknown field is ignored") || !strings.Contains(r.stderr, "alexa-oos: 3 of 4 files invalid") {
			t.Errorf("stderr\n%s", r)
		}
	})

	t.Run("verbose notes", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "-v", "proactive", "validate", weatherFixture)
		if r.code != 0 || !strings.Contains(r.stderr, weatherFixture+": note: referenceId: filled with ") {
			t.Errorf("want the fill notes with -v\n%s", r)
		}
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "-o", "json", "proactive", "validate", weatherFixture, invalidFixture)
		var out struct {
			Valid bool
			Files []struct {
				File       string
				Valid      bool
				Violations []struct{ Field string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 2 {
			t.Fatalf("%v\n%s", err, r)
		}
		if out.Valid || len(out.Files) != 2 || !out.Files[0].Valid || out.Files[1].Valid || len(out.Files[1].Violations) != 3 {
			t.Errorf("result %+v", out)
		}
	})
}

func TestNewPreviewValidateRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, s := range proactive.Schemas() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, "", "proactive", "new", s.Name, "--unicast", "amzn1.ask.account.X")
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal([]byte(r.stdout), &top); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r)
			}
			for _, k := range []string{"timestamp", "expiryTime", "referenceId"} {
				if _, ok := top[k]; ok {
					t.Errorf("skeleton holds %s, which send should fill", k)
				}
			}
			f := filepath.Join(dir, strings.ReplaceAll(s.Name, ".", "-")+".json")
			if err := os.WriteFile(f, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := run(t, nil, "", "proactive", "validate", f); r.code != 0 || r.stderr != "" {
				t.Errorf("skeleton invalid\n%s", r)
			}
			r = run(t, nil, "", "proactive", "preview", f)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "en-US: ") || strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("preview\n%s", r)
			}
		})
	}
	if r := run(t, nil, "", "proactive", "new", "NoSuchSchema"); r.code != 2 || !strings.Contains(r.stderr, "AMAZON.WeatherAlert.Activated") {
		t.Errorf("unknown schema\n%s", r)
	}
}
