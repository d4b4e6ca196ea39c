package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
)

// startEmulator runs "alexa-oos -o json emulator args..." in process and
// returns its JSON banner; the emulator stops when the test ends.
func startEmulator(t *testing.T, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"-o", "json", "emulator", "--addr", "127.0.0.1:0"}, args...), Env{Stdout: pw, Stderr: &stderr, Getenv: func(string) string { return "" }})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("emulator exit %d\n%s", code, stderr.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no banner: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var banner map[string]any
	if err := json.Unmarshal([]byte(line), &banner); err != nil {
		t.Fatalf("banner %q: %v", line, err)
	}
	return banner
}

func tokenStatus(t *testing.T, tokenURL, scope string) int {
	t.Helper()
	resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {alexatest.DefaultClientID}, "client_secret": {alexatest.DefaultClientSecret}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// --scope restricts the scopes granted; the banner says so, in camelCase.
func TestEmulatorScopes(t *testing.T) {
	t.Parallel()
	b := startEmulator(t, "--scope", lwa.ScopeProactiveEvents)
	for _, k := range []string{"endpoint", "tokenUrl", "clientId", "health", "maxRecords", "scopes"} {
		if _, ok := b[k]; !ok {
			t.Errorf("banner lacks %q: %v", k, b)
		}
	}
	tokenURL := fmt.Sprint(b["tokenUrl"])
	if got := tokenStatus(t, tokenURL, lwa.ScopeProactiveEvents); got != 200 {
		t.Errorf("granted scope: %d", got)
	}
	if got := tokenStatus(t, tokenURL, lwa.ScopeSkillMessaging); got != 400 {
		t.Errorf("scope not given with --scope: %d, want 400", got)
	}
	// Without --scope, any.
	open := startEmulator(t)
	if got := tokenStatus(t, fmt.Sprint(open["tokenUrl"]), lwa.ScopeSkillMessaging); got != 200 {
		t.Errorf("any scope: %d", got)
	}
	if open["maxRecords"] != float64(alexatest.DefaultMaxRecords) {
		t.Errorf("maxRecords %v, want the default", open["maxRecords"])
	}
}

// --max-records caps what the emulator keeps; its health path answers.
func TestEmulatorMaxRecords(t *testing.T) {
	t.Parallel()
	b := startEmulator(t, "--max-records", "2", "--read-timeout", "3s")
	base := fmt.Sprint(b["endpoint"])
	for range 4 {
		tokenStatus(t, fmt.Sprint(b["tokenUrl"]), lwa.ScopeSkillMessaging)
	}
	resp, err := http.Get(base + alexatest.AdminTokens)
	if err != nil {
		t.Fatal(err)
	}
	var l alexatest.Listing[alexatest.TokenRequest]
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Items) != 2 || l.Evicted != 2 {
		t.Errorf("--max-records 2 lists %d token requests, %d evicted", len(l.Items), l.Evicted)
	}
	resp, err = http.Get(fmt.Sprint(b["health"]))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestEmulatorFlagsChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-records", "-1"}, "--max-records: must be 0 or more"},
		{[]string{"--read-timeout", "0s"}, "--read-timeout: must be more than 0"},
		{[]string{"--scope", ""}, `--scope: must be one scope, non-empty and without spaces, such as alexa::proactive_events (got "")`},
		{[]string{"--scope", "a b"}, `(got "a b")`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var out, errOut syncBuffer
		code := Run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, tt.args...), Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		cancel()
		if code != ExitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tt.args, code, errOut.String(), ExitUsage, tt.want)
		}
	}
}
