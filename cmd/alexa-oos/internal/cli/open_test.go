package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// runEmulatorIn runs "alexa-oos -o json emulator --addr 127.0.0.1:0 args..."
// with the environment env, and returns its banner and stderr; it stops
// when the test ends.
func runEmulatorIn(t *testing.T, env map[string]string, args ...string) (map[string]any, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"-o", "json", "emulator", "--addr", "127.0.0.1:0"}, args...), Env{Stdout: pw, Stderr: stderr, Getenv: func(k string) string { return env[k] }})
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
	return banner, stderr
}

// fakeOpener writes an executable named name in a new directory that
// records its arguments in the file "opened" there.
func fakeOpener(t *testing.T, name string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake browser opener is a shell script")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"$@\" > \"" + filepath.Join(dir, "opened.tmp") + "\" && mv \"" + filepath.Join(dir, "opened.tmp") + "\" \"" + filepath.Join(dir, "opened") + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitOpened waits for the fake opener to have run, and returns its
// arguments.
func waitOpened(t *testing.T, dir string) string {
	t.Helper()
	for {
		b, err := os.ReadFile(filepath.Join(dir, "opened"))
		if err == nil {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The emulator prints its console's URL and serves the console there;
// --open hands the URL to the system's browser opener, or to $BROWSER.
func TestEmulatorOpenConsole(t *testing.T) {
	t.Parallel()
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	dir := fakeOpener(t, opener)
	banner, _ := runEmulatorIn(t, map[string]string{"PATH": dir}, "--open")
	console, _ := banner["console"].(string)
	if console != banner["endpoint"].(string)+"/" {
		t.Fatalf("banner console %q, endpoint %v", console, banner["endpoint"])
	}
	if got := waitOpened(t, dir); got != console {
		t.Errorf("%s got %q, want %q", opener, got, console)
	}
	resp, err := http.Get(console)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "alexa-oos emulator") {
		t.Errorf("the console: %d %.100s", resp.StatusCode, page)
	}

	browser := fakeOpener(t, "my-browser")
	banner, _ = runEmulatorIn(t, map[string]string{"BROWSER": filepath.Join(browser, "my-browser") + " --new-tab %s:firefox"}, "--open")
	if got, want := waitOpened(t, browser), "--new-tab "+banner["console"].(string); got != want {
		t.Errorf("$BROWSER got %q, want %q", got, want)
	}
}

// Without a browser to open, --open says so and the emulator serves on.
func TestEmulatorOpenWithoutBrowser(t *testing.T) {
	t.Parallel()
	banner, stderr := runEmulatorIn(t, map[string]string{"PATH": t.TempDir()}, "--open")
	resp, err := http.Get(banner["health"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "alexa-oos: --open: no "; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "open "+banner["console"].(string)+" yourself") {
		t.Errorf("stderr %q, want a notice %q... with the console's URL", stderr.String(), want)
	}
}
