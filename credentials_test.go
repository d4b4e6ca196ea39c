package alexa_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa"
)

// Distinctive values, so that a leak cannot hide behind a common word.
const (
	visibleID     = "amzn1.application-oa2-client.visible-id-7f3a"
	hiddenSecret  = "sEcReT-Zq81x-DoNoTlEaK"
	hiddenRefresh = "Atzr|rEfReSh-Tk77-DoNoTlEaK"
)

func testCredentials() alexa.Credentials {
	return alexa.Credentials{ClientID: visibleID, ClientSecret: hiddenSecret, RefreshToken: hiddenRefresh}
}

// assertMasked fails unless out shows the client id and neither secret.
func assertMasked(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, hiddenSecret) || strings.Contains(out, "sEcReT") {
		t.Errorf("%s leaks the client secret: %s", what, out)
	}
	if strings.Contains(out, hiddenRefresh) || strings.Contains(out, "rEfReSh") {
		t.Errorf("%s leaks the refresh token: %s", what, out)
	}
	if !strings.Contains(out, visibleID) {
		t.Errorf("%s does not show the client id: %s", what, out)
	}
}

func TestCredentialsStringHidesSecrets(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	assertMasked(t, "String()", c.String())
	assertMasked(t, "GoString()", c.GoString())
	if !strings.Contains(c.String(), "[redacted]") {
		t.Errorf("String() = %q, want the secrets shown as [redacted]", c.String())
	}
}

func TestCredentialsFmtVerbsHideSecrets(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3v"} {
		assertMasked(t, verb, fmt.Sprintf(verb, c))
		assertMasked(t, verb+" of pointer", fmt.Sprintf(verb, &c))
	}
	assertMasked(t, "Sprint", fmt.Sprint(c))
	assertMasked(t, "Sprintln", fmt.Sprintln(c))
	assertMasked(t, "error wrapping", fmt.Errorf("loading %v: %w", c, errTest).Error())
}

var errTest = fmt.Errorf("test error")

// holder is how credentials usually travel: inside an exported field of a
// larger configuration struct, by value and by pointer.
type holder struct {
	Name   string
	Creds  alexa.Credentials
	Ptr    *alexa.Credentials
	List   []alexa.Credentials
	ByName map[string]alexa.Credentials
}

func TestCredentialsInsideStructsHideSecrets(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	h := holder{Name: "h", Creds: c, Ptr: &c, List: []alexa.Credentials{c}, ByName: map[string]alexa.Credentials{"k": c}}
	cfg := alexa.Config{Credentials: c, Endpoint: alexa.EndpointEU}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertMasked(t, verb+" of holder", fmt.Sprintf(verb, h))
		assertMasked(t, verb+" of *holder", fmt.Sprintf(verb, &h))
		assertMasked(t, verb+" of Config", fmt.Sprintf(verb, cfg))
		assertMasked(t, verb+" of *Config", fmt.Sprintf(verb, &cfg))
	}
	// The defaults add an HTTP client, a retry policy and a logger; the
	// credentials must stay masked among them.
	assertMasked(t, "%+v of Config.WithDefaults()", fmt.Sprintf("%+v", cfg.WithDefaults()))
	assertMasked(t, "%#v of Config.WithDefaults()", fmt.Sprintf("%#v", cfg.WithDefaults()))
}

func TestCredentialsJSONHidesSecrets(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	for name, v := range map[string]any{
		"value":   c,
		"pointer": &c,
		"holder":  holder{Creds: c, Ptr: &c, List: []alexa.Credentials{c}},
		"Config":  alexa.Config{Credentials: c},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", name, err)
		}
		assertMasked(t, "json of "+name, string(b))
	}

	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("json of credentials is not an object: %s", b)
	}
	if got["clientId"] != visibleID || got["clientSecret"] != "[redacted]" || got["refreshToken"] != "[redacted]" {
		t.Errorf("json.Marshal(credentials) = %s, want the id shown and both secrets [redacted]", b)
	}

	// A missing refresh token stays visibly missing rather than looking set.
	b, _ = json.Marshal(alexa.Credentials{ClientID: visibleID, ClientSecret: hiddenSecret})
	got = nil
	_ = json.Unmarshal(b, &got)
	if got["refreshToken"] != "" {
		t.Errorf("json of credentials without refresh token = %s, want an empty refreshToken", b)
	}
}

func TestCredentialsSlogHidesSecrets(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(newHandler(&buf))
			log.Info("value", "creds", c)
			log.Info("pointer", "creds", &c)
			log.Info("attr", slog.Any("creds", c))
			log.Info("group", slog.Group("g", slog.Any("creds", c)))
			log.With("creds", c).Debug("with")
			log.Info("config", "cfg", alexa.Config{Credentials: c})
			log.Info("holder", "h", holder{Creds: c, Ptr: &c})
			out := buf.String()
			if n := strings.Count(out, "\n"); n != 7 {
				t.Fatalf("got %d log lines, want 7:\n%s", n, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				assertMasked(t, "slog line", line)
			}
		})
	}
}

func TestCredentialsFingerprint(t *testing.T) {
	t.Parallel()
	c := testCredentials()
	fp := c.Fingerprint()
	if fp != testCredentials().Fingerprint() {
		t.Error("equal credentials have different fingerprints")
	}
	if strings.Contains(fp, hiddenSecret) || strings.Contains(fp, visibleID) {
		t.Errorf("fingerprint reveals the credentials: %s", fp)
	}
	others := []alexa.Credentials{
		{ClientID: c.ClientID + "x", ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken},
		{ClientID: c.ClientID, ClientSecret: c.ClientSecret + "x", RefreshToken: c.RefreshToken},
		{ClientID: c.ClientID, ClientSecret: c.ClientSecret},
		// Moving bytes from one field to the next must not collide.
		{ClientID: c.ClientID + c.ClientSecret[:1], ClientSecret: c.ClientSecret[1:], RefreshToken: c.RefreshToken},
	}
	for _, o := range others {
		if o.Fingerprint() == fp {
			t.Errorf("credentials %+v share the fingerprint of %+v", o, c)
		}
	}
	a := alexa.Credentials{ClientID: "ab", ClientSecret: "c"}
	b := alexa.Credentials{ClientID: "a", ClientSecret: "bc"}
	if a.Fingerprint() == b.Fingerprint() {
		t.Error(`{"ab","c"} and {"a","bc"} share a fingerprint`)
	}
}
