package cli

import (
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/proactive"
)

func TestOutputFlag(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"-o json proactive send x":             "json",
		"proactive send --bogus -o json x":     "json",
		"proactive send --bogus --output=json": "json",
		"proactive send --output json --bogus": "json",
		"-ojson token":                         "json",
		"-o=json token":                        "json",
		"-vo json token":                       "json",
		"-v token":                             "",
		"-o json -o text token":                "text",
		"token -- -o json":                     "",
		"--verbose token":                      "",
	} {
		if got := outputFlag(strings.Fields(args)); got != want {
			t.Errorf("outputFlag(%s) = %q, want %q", args, got, want)
		}
	}
}

// TestJSONUsageErrors: -o json is honoured for every usage error, with
// the error object on stdout, wherever -o json stands.
func TestJSONUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"proactive", "send", "--bogus", "-o", "json", "x"},
		{"message", "send", "--user", "u", "--dta", "{}", "--output=json"},
		{"-o", "json", "proactive", "sned"},
		{"-o", "json", "message", "send"},
		{"token", "--scope", "x", "--timeout", "soon", "-o", "json"},
	} {
		o := invocation{args: args}.run(t)
		var e struct {
			Error, Kind string
		}
		if err := json.Unmarshal([]byte(o.stdout), &e); err != nil || o.code != ExitUsage || e.Kind != kindUsage || e.Error == "" {
			t.Errorf("%s: want exit 2 and a JSON usage error on stdout: %v\n%s", strings.Join(args, " "), err, o)
		}
		if lines := strings.Split(strings.TrimSuffix(o.stderr, "\n"), "\n"); len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "alexa-oos: hint: ") {
			t.Errorf("%s: want one stderr line, and perhaps the hint on its own\n%s", strings.Join(args, " "), o)
		}
	}
}

// keys returns every object key of a JSON document.
func keys(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// TestJSONOutputStyle: every JSON the commands print has camelCase keys,
// as Alexa's APIs do, and keeps <, > and & as they are.
func TestJSONOutputStyle(t *testing.T) {
	t.Parallel()
	srv, env := emulator(t)
	srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages/users/throttled", Status: 429, RetryAfter: 90 * time.Second})
	fish := writeFile(t, "fish.json", strings.ReplaceAll(weatherJSON(t), `"source": "Foo"`, `"source": "Fish & Chips <Ltd>"`))
	runs := [][]string{
		{"proactive", "send", fish},
		{"proactive", "validate", fish, "no/such.json"},
		{"proactive", "preview", fish},
		{"proactive", "schemas"},
		{"message", "send", "--user", "u", "--data", `{"a":"<b>&"}`},
		{"message", "send", "--user", "throttled"},
		{"token", "--scope", "alexa::proactive_events"},
		{"proactive", "send", "--bogus"},
	}
	seen := map[string]bool{}
	for _, args := range runs {
		o := invocation{vars: env, args: append([]string{"-o", "json"}, args...)}.run(t)
		for _, k := range keys(t, o.stdout) {
			seen[k] = true
			if strings.ContainsAny(k, "_- ") || k != "" && k[0] >= 'A' && k[0] <= 'Z' {
				t.Errorf("%s: key %q is not camelCase\n%s", strings.Join(args, " "), k, o.stdout)
			}
		}
		if strings.Contains(o.stdout, `\u0026`) || strings.Contains(o.stdout, `\u003c`) {
			t.Errorf("%s: HTML-escaped output\n%s", strings.Join(args, " "), o.stdout)
		}
	}
	for _, k := range []string{"referenceId", "retryAfterSeconds", "accessToken", "expiresAt", "grantType", "enUSOnly", "expiresAfterSeconds"} {
		if !seen[k] {
			t.Errorf("no output had key %s", k)
		}
	}
	o := invocation{vars: env, args: []string{"-o", "json", "proactive", "preview", fish}}.run(t)
	if !strings.Contains(o.stdout, "Fish & Chips <Ltd>") {
		t.Errorf("preview: want the attribute as is\n%s", o)
	}
	// proactive new too, indented.
	o = invocation{args: []string{"proactive", "new", "WeatherAlert", "--unicast", "a&b"}}.run(t)
	if o.code != ExitOK || !strings.Contains(o.stdout, "\n  \"event\": {") || strings.Contains(o.stdout, `\u0026`) {
		t.Errorf("new: want indented JSON without HTML escapes\n%s", o)
	}
}

// TestEndpointWithoutTokenURLWarns: credentials would go to Amazon's LWA
// while the API calls go elsewhere: one warning line says so.
func TestEndpointWithoutTokenURLWarns(t *testing.T) {
	t.Parallel()
	creds := map[string]string{EnvClientID: "id", EnvClientSecret: "s"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range creds {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	// The data is invalid, so nothing is sent anywhere.
	send := []string{"message", "send", "--user", "u", "--data", "[1]"}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		warn string
	}{
		{"flag", creds, append([]string{"--endpoint", "http://127.0.0.1:8934"}, send...), "alexa-oos: warning: --endpoint http://127.0.0.1:8934 is not Amazon's, but the client credentials still go to Amazon's LWA at " + alexa.DefaultTokenURL + ": set --token-url or " + EnvTokenURL},
		{"environment", with(EnvEndpoint, "https://alexa.example.com"), send, "alexa-oos: warning: " + EnvEndpoint + " https://alexa.example.com is not Amazon's"},
		{"with a token URL", with(EnvEndpoint, "https://alexa.example.com", EnvTokenURL, "https://auth.example.com/token"), send, ""},
		{"token URL flag", creds, append([]string{"--endpoint", "https://alexa.example.com", "--token-url", "https://auth.example.com/token"}, send...), ""},
		{"Amazon's", creds, append([]string{"--endpoint", "https://api.eu.amazonalexa.com"}, send...), ""},
		{"Amazon's, upper case", creds, append([]string{"--endpoint", "https://API.FE.AmazonAlexa.com/"}, send...), ""},
		{"region", creds, append([]string{"--region", "FE"}, send...), ""},
		{"look-alike", creds, append([]string{"--endpoint", "https://api.amazonalexa.com.example.net"}, send...), "is not Amazon's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := invocation{vars: tt.vars, args: tt.args}.run(t)
			if o.code != ExitUsage || !strings.Contains(o.stderr, "data: must be a JSON object") {
				t.Fatalf("want the data refused\n%s", o)
			}
			warnings := strings.Count(o.stderr, "warning:")
			switch {
			case tt.warn == "" && warnings != 0:
				t.Errorf("want no warning\n%s", o)
			case tt.warn != "" && (warnings != 1 || !strings.Contains(o.stderr, tt.warn)):
				t.Errorf("want one warning %q\n%s", tt.warn, o)
			}
		})
	}
}

// TestUnreachableTokenEndpointHintsAtTokenURL: a connection refused at
// the token endpoint points at --token-url.
func TestUnreachableTokenEndpointHintsAtTokenURL(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	srv, _ := emulator(t)
	vars := map[string]string{EnvClientID: "id", EnvClientSecret: "s", EnvEndpoint: srv.URL, EnvTokenURL: closed + "/auth/o2/token"}
	for _, args := range [][]string{{"token", "--scope", "x"}, {"message", "send", "--user", "u"}} {
		o := invocation{vars: vars, args: args}.run(t)
		want := "hint: the token endpoint " + closed + "/auth/o2/token cannot be reached; if tokens come from elsewhere (an emulator, a proxy), set --token-url or " + EnvTokenURL
		if o.code != ExitFailure || !strings.Contains(o.stderr, want) {
			t.Errorf("%s: want exit 1 and %q\n%s", strings.Join(args, " "), want, o)
		}
	}
	// An unreachable API endpoint gets the general hint.
	vars = map[string]string{EnvClientID: "id", EnvClientSecret: "s", EnvEndpoint: closed, EnvTokenURL: srv.TokenURL}
	o := invocation{vars: vars, args: []string{"message", "send", "--user", "u"}}.run(t)
	if o.code != ExitFailure || strings.Contains(o.stderr, "--token-url") || !strings.Contains(o.stderr, "hint: check the endpoint") {
		t.Errorf("unreachable API: %s", o)
	}
}

func TestTimeoutHintSaysWhatZeroMeans(t *testing.T) {
	t.Parallel()
	srv, env := emulator(t)
	srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Latency: time.Minute})
	o := invocation{vars: env, args: []string{"--timeout", "200ms", "message", "send", "--user", "u"}}.run(t)
	if o.code != ExitFailure || !strings.Contains(o.stderr, "--timeout (200ms); give a longer one, or --timeout 0 for no deadline") {
		t.Errorf("%s", o)
	}
	o = invocation{args: []string{"--help"}}.run(t)
	if !strings.Contains(o.stdout, "(0: no deadline)") {
		t.Errorf("--help does not say what --timeout 0 means\n%s", o.stdout)
	}
}

// TestEmbeddedToken: a token of the built-in emulator is said to be good
// for that emulator only.
func TestEmbeddedToken(t *testing.T) {
	t.Parallel()
	o := invocation{args: []string{"token", "--scope", proactive.Scope}}.run(t)
	if o.code != ExitOK || strings.Count(o.stderr, "\n") != 1 || !strings.Contains(o.stderr, "for a token, good only for that emulator, which stops when this command ends") {
		t.Errorf("want the one-line notice\n%s", o)
	}
	o = invocation{args: []string{"-o", "json", "token", "--scope", proactive.Scope}}.run(t)
	var out struct{ AccessToken, Emulator string }
	if err := json.Unmarshal([]byte(o.stdout), &out); err != nil || out.AccessToken == "" || !strings.HasPrefix(out.Emulator, "http://127.0.0.1:") {
		t.Errorf("want the emulator's URL in the JSON: %v\n%s", err, o)
	}
	// A token from a configured endpoint names no emulator.
	_, env := emulator(t)
	o = invocation{vars: env, args: []string{"-o", "json", "token", "--scope", proactive.Scope}}.run(t)
	if strings.Contains(o.stdout, `"emulator"`) || strings.Contains(o.stderr, "good only") {
		t.Errorf("configured endpoint: %s", o)
	}
}

// TestInsecureURLIsAUsageError: plain http refused by the HTTP client,
// however deep in the error, is a usage error: nothing was sent.
func TestInsecureURLIsAUsageError(t *testing.T) {
	t.Parallel()
	err := &alexa.TransportError{Op: "messaging.Send", Method: "POST", URL: "http://example.com/v1/skillmessages/users/u",
		Err: &url.Error{Op: "Post", URL: "http://example.com/v1/skillmessages/users/u", Err: &alexa.InsecureURLError{URL: "http://example.com"}}}
	ce := classify(err, 0)
	if ce.code != ExitUsage || ce.kind != kindUsage || !errors.Is(ce, err.Err) {
		t.Errorf("classify = %+v; want a usage error", ce)
	}
	if !slices.Contains([]int{ExitUsage}, classify(&alexa.InsecureURLError{URL: "http://x"}, 0).code) {
		t.Error("a bare InsecureURLError is not a usage error")
	}
}
