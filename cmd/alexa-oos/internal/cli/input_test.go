package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/proactive"
)

// invocation is one in-process run of the command.
type invocation struct {
	vars  map[string]string
	stdin any // string or io.Reader
	now   func() time.Time
	args  []string
}

type outcome struct {
	code           int
	stdout, stderr string
}

func (o outcome) String() string {
	return "exit " + string(rune('0'+o.code)) + "\nstdout:\n" + o.stdout + "\nstderr:\n" + o.stderr
}

func (in invocation) run(t *testing.T) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return in.vars[k] }, Now: in.now}
	switch s := in.stdin.(type) {
	case string:
		env.Stdin = strings.NewReader(s)
	case interface{ Read([]byte) (int, error) }:
		env.Stdin = s
	}
	code := Run(ctx, in.args, env)
	return outcome{code, out.String(), errOut.String()}
}

// emulator starts an emulator and returns the environment that points the
// command at it.
func emulator(t *testing.T) (*alexatest.Server, map[string]string) {
	t.Helper()
	srv := alexatest.NewServer(alexatest.Options{ClientID: "id", ClientSecret: "s"})
	t.Cleanup(srv.Close)
	return srv, map[string]string{EnvEndpoint: srv.URL, EnvTokenURL: srv.TokenURL, EnvClientID: "id", EnvClientSecret: "s"}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func weatherJSON(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(weatherFixture)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEmptyInputIsRefused: an empty file is an error (exit 2), never {}.
func TestEmptyInputIsRefused(t *testing.T) {
	t.Parallel()
	srv, env := emulator(t)
	empty := writeFile(t, "empty.json", "")
	blank := writeFile(t, "blank.json", jsonin.BOM+" \n\t\r\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"data file", "", []string{"message", "send", "--user", "u", "--data-file", empty}, "--data-file: " + empty + ": is empty: expected a JSON object"},
		{"data file of spaces", "", []string{"message", "send", "--user", "u", "--data-file", blank}, "is empty"},
		{"data from empty stdin", "", []string{"message", "send", "--user", "u", "--data-file", "-"}, "--data-file: stdin: is empty"},
		{"empty --data", "", []string{"message", "send", "--user", "u", "--data", ""}, "--data: is empty"},
		{"event file", "", []string{"proactive", "send", empty}, empty + ": is empty: expected a JSON object"},
		{"event on stdin", "\n", []string{"proactive", "send", "-"}, "stdin: is empty"},
		{"preview", "", []string{"proactive", "preview", empty}, "is empty"},
		{"validate", "", []string{"proactive", "validate", blank}, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := invocation{vars: env, stdin: tt.stdin, args: tt.args}.run(t)
			if o.code != ExitUsage || !strings.Contains(o.stdout+o.stderr, tt.want) {
				t.Errorf("want exit 2 and %q\n%s", tt.want, o)
			}
		})
	}
	if n := len(srv.Messages()) + len(srv.Events()); n != 0 {
		t.Errorf("%d calls accepted from empty input", n)
	}
}

// TestEncoding: every command that reads JSON drops a UTF-8 byte order
// mark, and refuses invalid UTF-8 with its byte offset.
func TestEncoding(t *testing.T) {
	t.Parallel()
	srv, env := emulator(t)
	weather := weatherJSON(t)
	withBOM := writeFile(t, "bom.json", jsonin.BOM+weather)
	dataBOM := writeFile(t, "data.json", jsonin.BOM+`{"k":"v"}`)
	// A Latin-1 "é" in a localized attribute, at a known offset.
	latin1 := strings.Replace(weather, `"source": "Foo"}`, `"source": "Caf`+"\xe9"+`"}`, 1)
	bad := writeFile(t, "latin1.json", latin1)
	offset := strings.Index(latin1, "\xe9")
	badData := writeFile(t, "latin1-data.json", `{"name":"Caf`+"\xe9"+`"}`)

	t.Run("BOM accepted", func(t *testing.T) {
		for _, args := range [][]string{
			{"proactive", "validate", withBOM},
			{"proactive", "preview", withBOM},
			{"proactive", "send", withBOM},
			{"message", "send", "--user", "bom", "--data-file", dataBOM},
		} {
			if o := (invocation{vars: env, args: args}).run(t); o.code != ExitOK {
				t.Errorf("%s: %s", strings.Join(args, " "), o)
			}
		}
		if o := (invocation{vars: env, stdin: jsonin.BOM + weather, args: []string{"proactive", "validate", "-"}}).run(t); o.code != ExitOK {
			t.Errorf("stdin with a BOM: %s", o)
		}
		if ms := srv.MessagesFor("bom"); len(ms) != 1 || string(ms[0].Data) != `{"k":"v"}` {
			t.Errorf("emulator recorded %+v", ms)
		}
	})

	t.Run("invalid UTF-8 refused", func(t *testing.T) {
		want := "invalid UTF-8 at byte offset " + itoa(offset)
		for _, args := range [][]string{
			{"proactive", "validate", bad},
			{"proactive", "preview", bad}, // used to replace it with U+FFFD
			{"proactive", "send", bad},
		} {
			o := invocation{vars: env, args: args}.run(t)
			if o.code != ExitUsage || !strings.Contains(o.stdout+o.stderr, bad+": "+want) {
				t.Errorf("%s: want exit 2 and %q\n%s", strings.Join(args, " "), want, o)
			}
		}
		// Used to be sent as is.
		o := invocation{vars: env, args: []string{"message", "send", "--user", "latin1", "--data-file", badData}}.run(t)
		if o.code != ExitUsage || !strings.Contains(o.stderr, "--data-file: "+badData+": invalid UTF-8 at byte offset 12") {
			t.Errorf("message send: want exit 2 and the offset\n%s", o)
		}
		o = invocation{vars: env, args: []string{"message", "send", "--user", "latin1", "--data", `{"a":"` + "\xff" + `"}`}}.run(t)
		if o.code != ExitUsage || !strings.Contains(o.stderr, "--data: invalid UTF-8 at byte offset 6") {
			t.Errorf("message send --data: want exit 2 and the offset\n%s", o)
		}
		if len(srv.MessagesFor("latin1")) != 0 {
			t.Error("invalid UTF-8 was sent")
		}
	})

	t.Run("UTF-16", func(t *testing.T) {
		o := invocation{vars: env, stdin: "\xff\xfe{\x00}\x00", args: []string{"proactive", "validate", "-"}}.run(t)
		if o.code != ExitUsage || !strings.Contains(o.stdout, "stdin: invalid UTF-8 at byte offset 0: the input is UTF-16; save it as UTF-8") {
			t.Errorf("want the UTF-16 diagnosis\n%s", o)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// endless is stdin that never ends, counting what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestLargeInputIsCapped: a huge input is refused after MaxInputBytes,
// never read whole into memory.
func TestLargeInputIsCapped(t *testing.T) {
	t.Parallel()
	_, env := emulator(t)
	for _, args := range [][]string{
		{"proactive", "validate", "-"},
		{"proactive", "send", "-"},
		{"proactive", "preview", "-"},
		{"message", "send", "--user", "u", "--data-file", "-"},
	} {
		in := &endless{}
		o := invocation{vars: env, stdin: in, args: args}.run(t)
		want := "stdin: is larger than " + itoa(MaxInputBytes) + " bytes"
		if o.code != ExitUsage || !strings.Contains(o.stdout+o.stderr, want) {
			t.Errorf("%s: want exit 2 and %q\n%s", strings.Join(args, " "), want, o)
		}
		if in.read > MaxInputBytes+1 {
			t.Errorf("%s: read %d bytes of stdin, bound %d", strings.Join(args, " "), in.read, MaxInputBytes)
		}
	}
	// A large regular file is refused from its size, without reading it.
	big := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	o := invocation{vars: env, args: []string{"proactive", "validate", big}}.run(t)
	if o.code != ExitUsage || !strings.Contains(o.stdout, big+": is larger than") {
		t.Errorf("a 1 GiB file: %s", o)
	}
	// A directory is not a file to read.
	o = invocation{vars: env, args: []string{"message", "send", "--user", "u", "--data-file", t.TempDir()}}.run(t)
	if o.code != ExitUsage || !strings.Contains(o.stderr, "is a directory") {
		t.Errorf("a directory: %s", o)
	}
}

// TestLocalesAndTimes: validate, send and preview check locales and a
// past expiryTime with the library's rules; new refuses an empty or
// unknown locale and writes times ahead of now.
func TestLocalesAndTimes(t *testing.T) {
	t.Parallel()
	srv, env := emulator(t)
	weather := weatherJSON(t)
	ukFile := writeFile(t, "uk.json", strings.Replace(weather, `"en-GB"`, `"en-UK"`, 1))
	beFile := writeFile(t, "be.json", strings.Replace(weather, `"en-GB"`, `"nl-BE"`, 1))
	expired := writeFile(t, "expired.json", strings.Replace(weather, `{`, `{"timestamp": "2020-01-01T10:00:00Z", "expiryTime": "2020-01-01T11:00:00Z",`, 1))

	for _, cmd := range []string{"validate", "send", "preview"} {
		o := invocation{vars: env, args: []string{"proactive", cmd, ukFile}}.run(t)
		if o.code != ExitUsage || !strings.Contains(o.stdout+o.stderr, `localizedAttributes[1].locale: must be a locale Alexa supports: ar-SA, de-DE`) {
			t.Errorf("%s en-UK: want exit 2 naming the locale\n%s", cmd, o)
		}
		if !strings.Contains(o.stderr, "hint: a locale Alexa added after this release? --any-locale") {
			t.Errorf("%s en-UK: want the --any-locale hint\n%s", cmd, o)
		}
		// Without credentials, send goes to the built-in emulator, which
		// judges with the same rules.
		if o := (invocation{args: []string{"proactive", cmd, "--any-locale", beFile}}).run(t); o.code != ExitOK {
			t.Errorf("%s --any-locale nl-BE: %s", cmd, o)
		}
	}
	for _, cmd := range []string{"validate", "send"} {
		o := invocation{vars: env, args: []string{"proactive", cmd, expired}}.run(t)
		if o.code != ExitUsage || !strings.Contains(o.stdout+o.stderr, `expiryTime: must be in the future`) {
			t.Errorf("%s expired: want exit 2 naming expiryTime\n%s", cmd, o)
		}
	}
	// On the command's clock, the same file is not yet expired.
	then := func() time.Time { return time.Date(2020, 1, 1, 10, 30, 0, 0, time.UTC) }
	if o := (invocation{vars: env, now: then, args: []string{"proactive", "validate", expired}}).run(t); o.code != ExitOK {
		t.Errorf("validate at 10:30 of the file's day: %s", o)
	}
	if n := len(srv.Events()); n != 0 {
		t.Errorf("emulator accepted %d events, want none", n)
	}

	t.Run("new", func(t *testing.T) {
		for _, tt := range []struct{ locale, want string }{
			{"", `--locale: locale "": must not be empty`},
			{"en-UK", `--locale: locale "en-UK": must be a locale Alexa supports`},
			{"de-de", `must be spelled de-DE`},
		} {
			o := invocation{args: []string{"proactive", "new", "Occasion", "--locale", "en-US", "--locale", tt.locale}}.run(t)
			if o.code != ExitUsage || !strings.Contains(o.stderr, tt.want) || o.stdout != "" {
				t.Errorf("--locale %q: want exit 2 and %q\n%s", tt.locale, tt.want, o)
			}
		}
		// Times count from the command's clock; the preview of the
		// skeleton speaks of a day ahead.
		now := func() time.Time { return time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC) }
		for _, schema := range []string{proactive.SchemaOccasion, proactive.SchemaMediaContent} {
			o := invocation{now: now, args: []string{"proactive", "new", schema}}.run(t)
			if o.code != ExitOK {
				t.Fatalf("new %s: %s", schema, o)
			}
			if strings.Contains(o.stdout, "2026-") || !strings.Contains(o.stdout, `"2031-03-0`) {
				t.Errorf("new %s: times not relative to now:\n%s", schema, o.stdout)
			}
			f := writeFile(t, "skeleton.json", o.stdout)
			o = invocation{now: now, args: []string{"proactive", "preview", f}}.run(t)
			if o.code != ExitOK || !strings.Contains(o.stdout, "March 5") && !strings.Contains(o.stdout, "March 6") {
				t.Errorf("preview of new %s: want a day after March 4\n%s", schema, o)
			}
		}
		// And with the real clock, never a date already past.
		o := invocation{args: []string{"proactive", "new", "Occasion"}}.run(t)
		var sk struct {
			Event struct {
				Payload struct {
					Occasion struct{ BookingTime string }
				}
			}
		}
		if err := json.Unmarshal([]byte(o.stdout), &sk); err != nil {
			t.Fatalf("%v\n%s", err, o)
		}
		if bt, err := proactive.ParseTime(sk.Event.Payload.Occasion.BookingTime); err != nil || !bt.After(time.Now()) {
			t.Errorf("bookingTime %q is not ahead of now (%v)", sk.Event.Payload.Occasion.BookingTime, err)
		}
	})
}
