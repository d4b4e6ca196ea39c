package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
)

// binary is the alexa-oos command, built once by TestMain.
var binary string

// repoRoot is the module root; the command runs there, so that
// examples/... paths work as in the documentation.
var repoRoot string

// weatherFixture is a valid request, relative to repoRoot.
const weatherFixture = "cmd/alexa-oos/testdata/weather-alert-multicast.json"

// secret holds every character that form encoding must escape.
const secret = "s3c&r=t+ x%2F%"

const clientID = "amzn1.application-oa2-client.cli-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "alexa-oos-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "alexa-oos")
	build := exec.Command("go", "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	wd, _ := os.Getwd()
	repoRoot = filepath.Join(wd, "..", "..")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// cleanEnv is the environment of every run: PATH and HOME only, plus the
// given variables.
func cleanEnv(vars map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// run runs the command in repoRoot with a clean environment.
func run(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = repoRoot
	cmd.Env = cleanEnv(vars)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("alexa-oos %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// secretFile writes the secret, with a trailing newline as editors leave it.
func secretFile(t *testing.T) string {
	f := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
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

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "emulator", "--addr", "127.0.0.1:0", "--client-id", clientID, "--client-secret-file", secretFile(t))
	cmd.Dir = repoRoot
	cmd.Env = cleanEnv(nil)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Read the banner up to the token URL line; keep draining after.
	env := map[string]string{}
	var banner strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		banner.WriteString(line + "\n")
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok && strings.HasPrefix(k, "ALEXA_") {
			env[k] = v
		}
		if strings.HasPrefix(strings.TrimSpace(line), "export ALEXA_CLIENT_SECRET=") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	endpoint := env["ALEXA_API_ENDPOINT"]
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || env["ALEXA_TOKEN_URL"] != endpoint+"/auth/o2/token" || env["ALEXA_CLIENT_ID"] != clientID {
		t.Fatalf("banner:\n%s\nstderr:\n%s", banner.String(), stderr.String())
	}
	if strings.Contains(banner.String(), secret) {
		t.Errorf("banner shows the secret:\n%s", banner.String())
	}

	delete(env, "ALEXA_CLIENT_SECRET")
	r := run(t, env, "", "--client-secret-file", secretFile(t), "message", "send", "--user", "amzn1.ask.account.E", "--data", `{"reminder_id":"7"}`)
	if r.code != 0 {
		t.Fatalf("message send: %s\nemulator stderr:\n%s", r, stderr.String())
	}
	resp, err := http.Get(endpoint + alexatest.AdminMessages + "?user=amzn1.ask.account.E")
	if err != nil {
		t.Fatal(err)
	}
	var by alexatest.Listing[alexatest.Message]
	err = json.NewDecoder(resp.Body).Decode(&by)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	if ms := by.Items; len(ms) == 1 {
		json.Compact(&data, ms[0].Data)
	}
	if ms := by.Items; len(ms) != 1 || ms[0].UserID != "amzn1.ask.account.E" || data.String() != `{"reminder_id":"7"}` || ms[0].ExpiresAfterSeconds != 3600 {
		t.Errorf("%s lists %+v", alexatest.AdminMessages, by)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("emulator exit: %v\nstderr:\n%s", err, stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"POST /auth/o2/token 200", "POST /v1/skillmessages/users/amzn1.ask.account.E 202", "GET /_emulator/messages 200", "emulator stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("request log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, secret) || strings.Contains(log, "Atza|") {
		t.Errorf("request log shows a secret or token:\n%s", log)
	}
}

// The built binary: exit statuses as the shell sees them, and a request
// piped to its standard input. Every other behaviour of the commands is
// tested in-process, in package cli.
func TestExitStatusAndStdin(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, alexatest.Options{KnownUsers: []string{"known"}})
	env := emulatorEnv(srv)
	event, err := os.ReadFile(filepath.Join(repoRoot, weatherFixture))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"sent from stdin", string(event), []string{"proactive", "send", "-"}, 0, "accepted: HTTP 202"},
		{"API failure", "", []string{"message", "send", "--user", "stranger"}, 1, "HTTP 404"},
		{"usage error", "", []string{"proactive", "send", "--stage", "prod", "-"}, 2, `--stage: must be development or live (got "prod")`},
		{"unknown command", "", []string{"proactive", "sned"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		r := run(t, env, tt.stdin, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("%s: want exit %d and %q\n%s", tt.name, tt.code, tt.want, r)
		}
	}
	if evs := srv.Events(); len(evs) != 1 || evs[0].Request.Event.Name != "AMAZON.WeatherAlert.Activated" {
		t.Errorf("emulator recorded %+v, want the event piped in", evs)
	}
}
