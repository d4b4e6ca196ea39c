package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/skill"
)

const unicastFixture = "../../testdata/message-alert-unicast-fixed-id.json"

// clientEnv points the command at a started emulator with its default
// credentials, and its admin subcommands at it too.
func clientEnv(banner map[string]any) map[string]string {
	base := fmt.Sprint(banner["endpoint"])
	return map[string]string{
		EnvEndpoint: base, EnvTokenURL: fmt.Sprint(banner["tokenUrl"]),
		EnvClientID: alexatest.DefaultClientID, EnvClientSecret: alexatest.DefaultClientSecret,
		EnvEmulatorURL: base,
	}
}

// The emulator calls a skill at --skill-endpoint; subscribe, unsubscribe,
// subscriptions and grant drive a running emulator and print the skill's
// answer; a Unicast event needs the user subscribed.
func TestEmulatorSkillCommands(t *testing.T) {
	t.Parallel()
	const user, event = "amzn1.ask.account.TESTUSER", "AMAZON.MessageAlert.Activated"
	var h atomic.Value
	sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(sk.Close)
	b := startEmulator(t, "--skill-endpoint", sk.URL+"/alexa")
	if b["skillEndpoint"] != sk.URL+"/alexa" || b["allowUnsubscribed"] != false || !strings.HasSuffix(fmt.Sprint(b["skillCa"]), alexatest.AdminSkillCA) {
		t.Errorf("banner %v", b)
	}
	env := clientEnv(b)
	o, err := alexatest.RemoteSkillVerifierOptions(context.Background(), env[EnvEmulatorURL])
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var changes [][]string
	var failGrant atomic.Bool
	h.Store(&skill.Handler{
		Verifier: skill.NewVerifier(o),
		OnSubscriptionChanged: func(_ context.Context, r *skill.ProactiveSubscriptionChanged) error {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, r.EventNames())
			return nil
		},
		OnGrant: func(context.Context, *skill.AuthorizationGrant) error {
			if failGrant.Load() {
				return errors.New("no")
			}
			return nil
		},
	})

	code, _, stderr := runIn(t, env, "proactive", "send", unicastFixture)
	if code != ExitFailure || !strings.Contains(stderr, "has not subscribed to "+event) {
		t.Errorf("Unicast before subscribing: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runIn(t, env, "emulator", "subscribe", "--user", user, "--event", event)
	if code != ExitOK || !strings.HasPrefix(stdout, "subscribed "+user+" to "+event+" (subscriptions: "+event+"); the skill answered 200 in ") {
		t.Errorf("subscribe: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "warning") {
		t.Errorf("subscribe to a catalogue event warned: %s", stderr)
	}
	code, stdout, _ = runIn(t, env, "emulator", "subscribe", "--user", user, "--event", event)
	if code != ExitOK || !strings.Contains(stdout, "was already subscribed to") {
		t.Errorf("subscribe again: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runIn(t, env, "proactive", "send", unicastFixture); code != ExitOK {
		t.Errorf("Unicast after subscribing: exit %d\n%s", code, stderr)
	}
	code, stdout, _ = runIn(t, env, "emulator", "subscriptions")
	if code != ExitOK || stdout != user+": "+event+"\n" {
		t.Errorf("subscriptions: exit %d %q", code, stdout)
	}
	code, stdout, _ = runIn(t, env, "-o", "json", "emulator", "unsubscribe", "--user", user, "--event", event)
	var res alexatest.SubscriptionResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || !res.Changed || len(res.EventNames) != 0 || res.Delivery.State != alexatest.DeliveryDelivered {
		t.Errorf("unsubscribe -o json: exit %d %s", code, stdout)
	}
	mu.Lock()
	if fmt.Sprint(changes) != "[["+event+"] []]" {
		t.Errorf("the skill got %v", changes)
	}
	mu.Unlock()

	code, stdout, _ = runIn(t, env, "emulator", "grant", "--user", user)
	if code != ExitOK || !strings.HasPrefix(stdout, "sent Alexa.Authorization.Grant for "+user+"; the skill answered 200") {
		t.Errorf("grant: exit %d %q", code, stdout)
	}
	failGrant.Store(true)
	code, stdout, stderr = runIn(t, env, "emulator", "grant", "--user", user)
	if code != ExitFailure || !strings.Contains(stdout, "failed: the skill answered 500") || !strings.Contains(stderr, "not accepted by the skill") {
		t.Errorf("refused grant: exit %d\n%s%s", code, stdout, stderr)
	}
}

// --allow-unsubscribed lets Unicast events through; an emulator without
// --skill-endpoint refuses grants, and says why.
func TestEmulatorAllowUnsubscribed(t *testing.T) {
	t.Parallel()
	b := startEmulator(t, "--allow-unsubscribed")
	if b["allowUnsubscribed"] != true {
		t.Errorf("banner %v", b)
	}
	env := clientEnv(b)
	if code, _, stderr := runIn(t, env, "proactive", "send", unicastFixture); code != ExitOK {
		t.Errorf("Unicast: exit %d\n%s", code, stderr)
	}
	code, _, stderr := runIn(t, env, "emulator", "grant", "--user", "u")
	if code != ExitUsage || !strings.Contains(stderr, "--skill-endpoint") {
		t.Errorf("grant without a skill endpoint: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runIn(t, env, "emulator", "subscribe", "--user", "u", "--event", "E")
	if code != ExitOK || !strings.Contains(stdout, "no --skill-endpoint, nothing sent") {
		t.Errorf("subscribe without a skill endpoint: exit %d %q", code, stdout)
	}
	// An event name outside the catalogue is subscribed, with a warning.
	if !strings.Contains(stderr, "E is not an event name of the schema catalogue") {
		t.Errorf("subscribe to E: no warning on stderr: %q", stderr)
	}
}

func TestEmulatorSkillFlagsChecked(t *testing.T) {
	t.Parallel()
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--skill-endpoint", "http://skill.example.com/"}, "--skill-endpoint: may be plain http only on a loopback host"},
		{[]string{"--skill-endpoint", "https://skill.example.com/", "--skill-insecure"}, "--skill-endpoint: may skip certificate verification only on a loopback host"},
		{[]string{"--skill-endpoint", "skill.example.com"}, "--skill-endpoint: must be an absolute http or https URL"},
		{[]string{"--skill-insecure"}, "--skill-insecure: needs --skill-endpoint"},
		{[]string{"--skill-ca-file", notPEM}, "--skill-ca-file: needs --skill-endpoint"},
		{[]string{"--skill-endpoint", "https://127.0.0.1/", "--skill-ca-file", notPEM}, "holds no PEM certificate"},
		{[]string{"--skill-endpoint", "https://127.0.0.1/", "--skill-ca-file", notPEM + ".missing"}, "--skill-ca-file:"},
		{[]string{"--skill-endpoint", "https://127.0.0.1/", "--skill-id", ""}, "--skill-id: must not be empty"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		code := Run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, tt.args...), Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		cancel()
		if code != ExitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tt.args, code, errOut.String(), ExitUsage, tt.want)
		}
	}
}

// The admin subcommands check their flags before any network I/O, and
// say where the emulator should be when it is not there.
func TestEmulatorAdminCommandsChecked(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"subscribe", "--event", "E"}, ExitUsage, "--user: is required"},
		{[]string{"unsubscribe", "--user", "u"}, ExitUsage, "--event: is required"},
		{[]string{"subscribe", "--user", "u", "--event", "a b"}, ExitUsage, "--event: must not contain spaces"},
		{[]string{"grant"}, ExitUsage, "--user: is required"},
		{[]string{"grant", "--user", "u", "--emulator", "ftp://x"}, ExitUsage, "--emulator: must be the emulator's URL"},
		{[]string{"grant", "--user", "u", "--emulator", "http://emulator.example.com"}, ExitUsage, "plain http"},
		{[]string{"grant", "--user", "u", "--emulator", closed}, ExitFailure, "cannot be reached"},
		{[]string{"subscriptions", "--emulator", closed}, ExitFailure, EnvEmulatorURL},
		{[]string{"subscribe", "extra"}, ExitUsage, "no arguments"},
	} {
		code, _, stderr := runIn(t, nil, append([]string{"emulator"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

func TestEmulatorURLDefaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		flag string
		env  map[string]string
		want string
	}{
		{"", nil, "http://" + DefaultEmulatorAddr},
		{"http://127.0.0.1:1/", map[string]string{EnvEmulatorURL: "http://127.0.0.1:2"}, "http://127.0.0.1:1"},
		{"", map[string]string{EnvEmulatorURL: "http://127.0.0.1:2", EnvEndpoint: "http://127.0.0.1:3"}, "http://127.0.0.1:2"},
		{"", map[string]string{EnvEndpoint: "http://localhost:3"}, "http://localhost:3"},
		{"", map[string]string{EnvEndpoint: "https://api.amazonalexa.com"}, "http://" + DefaultEmulatorAddr},
	} {
		if got, err := emulatorURL(func(k string) string { return tt.env[k] }, tt.flag); err != nil || got != tt.want {
			t.Errorf("flag %q env %v: %q %v, want %q", tt.flag, tt.env, got, err, tt.want)
		}
	}
}

// --skill-first-retry reaches the emulator's options: the retries of
// skill messages follow it.
func TestEmulatorSkillOptionsFirstRetry(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, alexatest.AlexaFirstRetry, 2 * time.Second} {
		s := EmulatorSkill{Endpoint: "http://127.0.0.1:8080/alexa", ApplicationID: alexatest.DefaultApplicationID, FirstRetry: d}
		if err := s.check(); err != nil {
			t.Fatal(err)
		}
		o, err := s.options()
		if err != nil || o.FirstRetry != d {
			t.Errorf("options() = %+v, %v; want FirstRetry %v", o, err, d)
		}
	}
}
