package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/spf13/pflag"
)

const weatherFixture = "../../testdata/weather-alert-multicast.json"

// runIn runs the command in-process with the given environment variables.
func runIn(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errOut.String()
}

func TestParseExpiresAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"7200", 7200, true},
		{"2h", 7200, true},
		{"90m", 5400, true},
		{" 60s ", 60, true},
		{"-5", -5, true}, // the library reports the range
		{"1.5s", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseExpiresAfter(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseExpiresAfter(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFindSchema(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"AMAZON.WeatherAlert.Activated", "amazon.weatheralert.activated", "WeatherAlert", "weatheralert"} {
		if s, ok := findSchema(name); !ok || s.Name != "AMAZON.WeatherAlert.Activated" {
			t.Errorf("findSchema(%q) = %q, %v", name, s.Name, ok)
		}
	}
	for _, name := range []string{"", "AMAZON", "Activated", "Weather"} {
		if s, ok := findSchema(name); ok {
			t.Errorf("findSchema(%q) = %q, want none", name, s.Name)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"https://api.eu.amazonalexa.com/": "https://api.eu.amazonalexa.com",
		"http://127.0.0.1:8934":           "http://127.0.0.1:8934",
		"http://localhost:1/x":            "http://localhost:1/x",
		"http://[::1]:80":                 "http://[::1]:80",
	}
	for in, want := range good {
		if got, err := checkURL("--endpoint", in); err != nil || got != want {
			t.Errorf("checkURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://api.amazonalexa.com", "api.amazonalexa.com", "ftp://x", "https://", "://", "http://foo@127.0.0.1:1"} {
		if _, err := checkURL("--endpoint", in); err == nil {
			t.Errorf("checkURL(%q) accepted", in)
		}
	}
	// A password is never shown.
	if _, err := checkURL("--endpoint", "https://u:hunter2@api.example"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("checkURL with a password: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"amzn1.application-oa2-client.x": "amzn1.application-oa2-client.x",
		"/tmp/my secret":                 "'/tmp/my secret'",
		"it's":                           `'it'\''s'`,
		"":                               "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReadSecretFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for content, want := range map[string]string{"a b&c\n": "a b&c", "x=y%\r\n": "x=y%", "  padded  ": "  padded  "} {
		f := filepath.Join(dir, "s")
		os.WriteFile(f, []byte(content), 0o600)
		if got, err := readSecretFile("--client-secret-file", f); err != nil || got != want {
			t.Errorf("readSecretFile(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	f := filepath.Join(dir, "empty")
	os.WriteFile(f, []byte("\n"), 0o600)
	if _, err := readSecretFile("--client-secret-file", f); err == nil {
		t.Error("empty secret file accepted")
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vars     map[string]string
		refresh  bool
		embedded bool
		endpoint string
		err      string
	}{
		{"nothing: emulator", nil, false, true, "", ""},
		{"credentials: NA", map[string]string{EnvClientID: "id", EnvClientSecret: "s"}, false, false, alexa.EndpointNA, ""},
		{"endpoint only", map[string]string{EnvEndpoint: "https://api.eu.amazonalexa.com"}, false, false, "", EnvClientID},
		{"token URL only", map[string]string{EnvTokenURL: "https://api.amazon.com/auth/o2/token"}, false, false, "", EnvClientID},
		{"secret only", map[string]string{EnvClientSecret: "s"}, false, false, "", EnvClientID},
		{"id only", map[string]string{EnvClientID: "id"}, false, false, "", EnvClientSecret},
		{"refresh needed", map[string]string{EnvClientID: "id", EnvClientSecret: "s"}, true, false, "", EnvRefreshToken},
		{"env endpoint", map[string]string{EnvClientID: "id", EnvClientSecret: "s", EnvEndpoint: "https://api.fe.amazonalexa.com/"}, false, false, alexa.EndpointFE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFactory(Env{Getenv: func(k string) string { return tt.vars[k] }})
			f.flags = pflag.NewFlagSet("x", pflag.ContinueOnError)
			f.flags.String("client-id", "", "")
			f.setup()
			got, err := f.Target(tt.refresh)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.embedded != tt.embedded || got.cfg.Endpoint != tt.endpoint {
				t.Errorf("embedded %v endpoint %q; want %v %q", got.embedded, got.cfg.Endpoint, tt.embedded, tt.endpoint)
			}
		})
	}
}

func TestRunInProcess(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{ClientID: "id", ClientSecret: "p&ss word"})
	defer srv.Close()
	vars := map[string]string{EnvEndpoint: srv.URL, EnvTokenURL: srv.TokenURL, EnvClientID: "id", EnvClientSecret: "p&ss word"}

	code, stdout, stderr := runIn(t, vars, "proactive", "send", weatherFixture)
	if code != ExitOK || stderr != "" || !strings.Contains(stdout, "accepted: HTTP 202") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if evs := srv.Events(); len(evs) != 1 {
		t.Errorf("emulator recorded %d events", len(evs))
	}

	srv.InjectFault(alexatest.Fault{Path: "/v1/proactiveEvents", Status: 429, RetryAfter: 90 * time.Second, Times: 1})
	code, stdout, stderr = runIn(t, vars, "-o", "json", "proactive", "send", weatherFixture)
	var out jsonError
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitFailure {
		t.Fatalf("exit %d %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if out.Kind != kindThrottled || out.Status != 429 || out.RetryAfterSeconds != 90 || !strings.Contains(out.Hint, "1m30s") {
		t.Errorf("JSON error %+v", out)
	}

	code, _, stderr = runIn(t, vars, "--timeout", "-1s", "token", "--scope", "x")
	if code != ExitUsage || !strings.Contains(stderr, "--timeout") {
		t.Errorf("negative timeout: exit %d, %s", code, stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEmulatorInProcessStopsOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-o", "json", "emulator", "--addr", "127.0.0.1:0"}, Env{Stdout: pw, Stderr: &stderr})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	var info struct {
		Endpoint string `json:"endpoint"`
		TokenURL string `json:"tokenUrl"`
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.TokenURL != info.Endpoint+alexatest.TokenPath || info.ClientID != alexatest.DefaultClientID {
		t.Fatalf("banner %q: %v", line, err)
	}
	resp, err := http.Get(info.Endpoint + alexatest.AdminTokens)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("emulator did not stop")
	}
	if !strings.Contains(stderr.String(), "GET /_emulator/tokens 200") {
		t.Errorf("request log:\n%s", stderr.String())
	}
}

func TestTimeoutIsAFailure(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Latency: time.Minute})
	vars := map[string]string{EnvEndpoint: srv.URL, EnvTokenURL: srv.TokenURL, EnvClientID: "id", EnvClientSecret: "s"}
	code, _, stderr := runIn(t, vars, "--timeout", "300ms", "message", "send", "--user", "u")
	if code != ExitFailure || !strings.Contains(stderr, "deadline exceeded") || !strings.Contains(stderr, "--timeout (300ms)") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if len(srv.Messages()) != 0 {
		t.Error("the message was accepted")
	}
}
