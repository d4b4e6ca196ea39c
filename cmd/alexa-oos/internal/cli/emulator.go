package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/spf13/cobra"
)

// DefaultEmulatorAddr is where "alexa-oos emulator" listens by default.
const DefaultEmulatorAddr = "127.0.0.1:8934"

// EmulatorOptions are the inputs of emulator.
type EmulatorOptions struct {
	IO *IOStreams
	// Getenv looks up $BROWSER and $PATH, for --open.
	Getenv func(string) string
	// Credentials resolves the client credentials the emulator accepts
	// (--client-id, --client-secret-file, the environment), when the run
	// calls it: it reads the secret files.
	Credentials func() (alexa.Credentials, error)

	// Addr is --addr, the listen address.
	Addr string
	// RateLimit is --rate-limit, API calls per second; 0 is no limit.
	RateLimit float64
	// MaxRecords is --max-records; 0 keeps none.
	MaxRecords int
	// Scopes are the only scopes granted (--scope); none means any.
	Scopes           []string
	AllowRemoteAdmin bool
	// ReadTimeout is --read-timeout.
	ReadTimeout time.Duration
	// Skill is about the skill the emulator calls (--skill-*,
	// --allow-unsubscribed).
	Skill EmulatorSkill
	// Open opens the web console in the default browser (--open).
	Open bool
	// ClientSecretFile is the global --client-secret-file, which the
	// banner names.
	ClientSecretFile string
}

// NewCmdEmulator returns the emulator command, without its subcommands
// (emulatorGroup adds them); runF, when not nil, runs instead of
// runEmulator.
func NewCmdEmulator(f *Factory, runF func(*EmulatorOptions) error) *cobra.Command {
	opts := &EmulatorOptions{IO: f.IO, Getenv: f.Getenv, Credentials: f.credentials}
	cmd := &cobra.Command{
		Use:   "emulator [--addr HOST:PORT] [--open] [--skill-endpoint URL] [--allow-unsubscribed] [--rate-limit N] [--max-records N] [--scope S]... [--client-id ID --client-secret-file FILE]",
		Short: "Serve the Alexa emulator: LWA tokens and the out-of-session APIs",
		Long: `Serve an emulator of Login with Amazon, the Proactive Events API, the
Skill Messaging API and the DataStore API until interrupted (SIGINT or
SIGTERM), then shut down gracefully. It prints the endpoint and token
URL, and the environment lines that point alexa-oos (or any client) at it,
then one line per request
on stderr (method, path, status; never a token).

Its web console, at the root URL (printed first; --open opens it in the
default browser when this machine has one), shows live what was sent: each
user as a device with its light ring, notifications with what Alexa would
say, skill messages, DataStore devices, every API call (refusals with their
code and message) and the tokens issued (scope and expiry, never a token).

It validates requests with the same rules as the clients, requires a bearer
token of the right scope, refuses a repeated referenceId (409) and answers
202. Errors are Alexa's {"code","message"} with code the HTTP status as a
number, as Amazon's SDKs expect, and the reason first in message
("INVALID_REQUEST: ..."). A proactive event over 1 MiB, or a message whose
data is over 6 KB, is answered 413. A client that takes more than
--read-timeout to send a request's headers, or then its body, is cut off.

For tooling it also serves, as JSON, to clients on this machine only
(unless --allow-remote-admin):

  GET  ` + alexatest.AdminEvents + `    accepted events (?audience= ?name= ?stage=)
  GET  ` + alexatest.AdminMessages + `  accepted messages (?user=)
  GET  ` + alexatest.AdminTokens + `    token requests, no secrets (?scope= ?clientId=)
  GET  ` + alexatest.AdminDataStore + `/devices   DataStore devices and what they store
  GET  ` + alexatest.AdminDataStore + `/commands  DataStore commands calls received
  PUT  ` + alexatest.AdminDataStore + `/devices/{id}, POST .../{id}/online|offline,
       DELETE .../{id}: register, connect, disconnect or remove a device
  POST ` + alexatest.AdminReset + `     forget everything
  GET  ` + alexatest.HealthPath + `               200 when up (to any client)

Listings are pages, oldest first: {"items":[...],"nextCursor":"..."}; pass
?limit=N (default 100, at most 1000) and ?cursor= the previous nextCursor.
The DataStore listings are plain arrays instead: every device, and the
last --max-records commands calls.
The emulator keeps the last --max-records events, messages and token
requests (each), so that its memory stays bounded however long it runs.

With --client-id and a secret (--client-secret-file FILE, or the
ALEXA_CLIENT_SECRET environment variable: never a flag value) only those
credentials are accepted; with neither, any non-empty pair is. --scope
restricts the scopes granted (invalid_scope otherwise); by default any is.
Port 0 picks a free port. --timeout does not apply.

--rate-limit N serves at most N API calls per second (token calls excepted)
and answers the others 429 with a Retry-After, as Alexa throttles: to see
how "bulk" slows down under throttling. 0, the default, is no limit.

Unicast proactive events to a user who has not subscribed to the event's
name are answered 403, as Alexa answers them. Subscribe users with
"alexa-oos emulator subscribe --user U --event NAME", or accept every
Unicast event with --allow-unsubscribed.

With --skill-endpoint URL the emulator calls your skill there as Alexa
does, each request signed with the emulator's own CA and certificate: every
accepted skill message as Messaging.MessageReceived, every subscription
change as AlexaSkillEvent.ProactiveSubscriptionChanged, and
"alexa-oos emulator grant --user U" as Alexa.Authorization.Grant, whose
code its token endpoint exchanges (grant_type=authorization_code) for the
user's tokens. Requests go in the background, 4 at a time, at most 1000
waiting (more are skipped); the message records show the skill's status
and latency. A skill message the skill did not take (no answer, or not
2xx) is sent again as Alexa does, after 30 s and then twice as long after
each failure, until it expires (--skill-first-retry, 0 to send once). The URL is https (--skill-ca-file trusts a CA of your own;
--skill-insecure accepts any certificate on a loopback host), or plain http
on a loopback host. Your skill trusts the emulator with the CA at
GET ` + alexatest.AdminSkillCA + ` and fetches the signing chain from
` + alexatest.AdminSkillChain + `; in Go, alexatest.RemoteSkillVerifierOptions
does both. More admin paths:

  GET  ` + alexatest.AdminSubscriptions + `     subscriptions (?user=); POST {"userId","eventName","subscribed"}
  POST ` + alexatest.AdminGrants + `            {"userId"}: send a grant, answer the skill's answer
  GET  ` + alexatest.AdminSkillDeliveries + ` requests sent to the skill (?user= ?type= ?state=)`,
		Example: `  alexa-oos emulator --addr 127.0.0.1:0
  alexa-oos emulator --open
  alexa-oos emulator --client-id amzn1.application-oa2-client.test --client-secret-file secret.txt
  alexa-oos emulator --rate-limit 50 --max-records 100000
  alexa-oos emulator --scope alexa::proactive_events
  alexa-oos emulator --skill-endpoint http://127.0.0.1:8080/alexa
  alexa-oos emulator subscribe --user amzn1.ask.account.X --event AMAZON.MessageAlert.Activated
  curl 'http://127.0.0.1:8934/_emulator/messages?user=amzn1.ask.account.X&limit=10'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.RateLimit < 0 || math.IsNaN(opts.RateLimit) || math.IsInf(opts.RateLimit, 0) {
				return usagef("--rate-limit: must be a number of requests per second, 0 for no limit (got %v)", opts.RateLimit)
			}
			if opts.MaxRecords < 0 {
				return usagef("--max-records: must be 0 or more, 0 to keep none (got %d)", opts.MaxRecords)
			}
			if opts.ReadTimeout <= 0 {
				return usagef("--read-timeout: must be more than 0 (got %s)", opts.ReadTimeout)
			}
			for _, s := range opts.Scopes {
				if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
					return usagef("--scope: must be one scope, non-empty and without spaces, such as %s (got %q)", lwa.ScopeProactiveEvents, s)
				}
			}
			if err := opts.Skill.check(); err != nil {
				return err
			}
			opts.ClientSecretFile = f.clientSecretFile
			if runF != nil {
				return runF(opts)
			}
			return runEmulator(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Addr, "addr", DefaultEmulatorAddr, "listen address; port 0 picks a free one")
	fs.Float64Var(&opts.RateLimit, "rate-limit", 0, "API calls per second served, 429 beyond (0: no limit)")
	fs.IntVar(&opts.MaxRecords, "max-records", alexatest.DefaultMaxRecords, "events, messages and token requests kept, each: the most recent (0: none)")
	fs.StringArrayVar(&opts.Scopes, "scope", nil, "a scope granted (repeatable; default: any)")
	fs.BoolVar(&opts.AllowRemoteAdmin, "allow-remote-admin", false, "serve "+alexatest.AdminEvents+" and the other admin paths to clients beyond this machine")
	fs.DurationVar(&opts.ReadTimeout, "read-timeout", alexatest.DefaultReadTimeout, "time a client may take to send a request's headers, and then its body")
	fs.BoolVar(&opts.Open, "open", false, "open the web console in the default browser, when there is one")
	opts.Skill.register(fs)
	return cmd
}

// emulatorGroup returns the emulator command holding cmds, its
// subcommands.
func emulatorGroup(f *Factory, cmds ...*cobra.Command) *cobra.Command {
	cmd := NewCmdEmulator(f, nil)
	cmd.AddCommand(cmds...)
	return cmd
}

// newCmdEmulatorAll returns the emulator command with every subcommand.
func newCmdEmulatorAll(f *Factory) *cobra.Command {
	return emulatorGroup(f, NewCmdEmulatorSubscribe(f, nil), NewCmdEmulatorUnsubscribe(f, nil),
		NewCmdEmulatorSubscriptions(f, nil), NewCmdEmulatorGrant(f, nil))
}

// runEmulator resolves the credentials and the skill's CA, listens on
// opts.Addr and serves until ctx ends.
func runEmulator(ctx context.Context, opts *EmulatorOptions) error {
	creds, err := opts.Credentials()
	if err != nil {
		return err
	}
	switch {
	case creds.ClientID != "" && creds.ClientSecret == "":
		return usagef("emulator: a client id without a secret: give --client-secret-file FILE or %s too, or neither", EnvClientSecret)
	case creds.ClientID == "" && creds.ClientSecret != "":
		return usagef("emulator: a client secret without a client id: give --client-id or %s too, or neither", EnvClientID)
	}
	skillOpts, err := opts.Skill.options()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	records := opts.MaxRecords
	if records == 0 {
		records = -1 // keep none
	}
	return serveEmulator(ctx, opts, ln, alexatest.Options{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RefreshToken: creds.RefreshToken, RateLimit: opts.RateLimit,
		MaxRecords: records, Scopes: opts.Scopes, AllowRemoteAdmin: opts.AllowRemoteAdmin, ReadTimeout: opts.ReadTimeout,
		SkillEndpoint: opts.Skill.Endpoint, Skill: skillOpts, AllowUnsubscribed: opts.Skill.AllowUnsubscribed,
	})
}

// serveEmulator serves an emulator with opts on ln until ctx ends: it
// prints the banner and a line per request to o's streams, and opens the
// console with o.Open.
func serveEmulator(ctx context.Context, o *EmulatorOptions, ln net.Listener, opts alexatest.Options) error {
	base := "http://" + clientAddr(ln.Addr())
	console := base + alexatest.ConsolePath
	if opts.Skill.APIEndpoint == "" {
		opts.Skill.APIEndpoint = base
	}
	emu := alexatest.New(opts)
	defer emu.Close()
	tokenURL := base + alexatest.TokenPath
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		admin := "its admin paths answer this machine only (--allow-remote-admin to change that)"
		if opts.AllowRemoteAdmin {
			admin = "its admin paths answer anyone (--allow-remote-admin)"
		}
		o.IO.warnf("the emulator listens beyond this machine on %s; %s; alexa-oos itself only talks plain http to loopback hosts", ln.Addr(), admin)
	}

	id := opts.ClientID
	var secretLine string
	switch {
	case id == "":
		id = alexatest.DefaultClientID
		secretLine = "export " + EnvClientSecret + "=" + alexatest.DefaultClientSecret + "   # any non-empty id and secret are accepted"
	case o.ClientSecretFile != "":
		abs, err := filepath.Abs(o.ClientSecretFile)
		if err != nil {
			abs = o.ClientSecretFile
		}
		secretLine = "export " + EnvClientSecret + "=\"$(cat " + shellQuote(abs) + ")\"   # or pass --client-secret-file " + shellQuote(abs)
	default:
		secretLine = "# " + EnvClientSecret + ": the same value this emulator was started with"
	}
	maxRecords := opts.MaxRecords
	switch {
	case maxRecords == 0:
		maxRecords = alexatest.DefaultMaxRecords
	case maxRecords < 0:
		maxRecords = 0
	}
	extra := ""
	if opts.RateLimit > 0 {
		extra += fmt.Sprintf("  limit:     %g API calls per second, 429 with a Retry-After beyond\n", opts.RateLimit)
	}
	if len(opts.Scopes) > 0 {
		extra += fmt.Sprintf("  scopes:    %s only\n", strings.Join(opts.Scopes, ", "))
	}
	if opts.SkillEndpoint != "" {
		extra += fmt.Sprintf("  skill:     requests go to %s, signed by the CA at GET %s\n", opts.SkillEndpoint, base+alexatest.AdminSkillCA)
	}
	if opts.AllowUnsubscribed {
		extra += "  unicast:   accepted for every user (--allow-unsubscribed)\n"
	} else {
		extra += "  unicast:   only to subscribed users (alexa-oos emulator subscribe --user U --event NAME)\n"
	}
	if o.IO.JSON() {
		o.IO.printJSON(struct {
			// Console is the web console's URL.
			Console  string            `json:"console"`
			Endpoint string            `json:"endpoint"`
			TokenURL string            `json:"tokenUrl"`
			ClientID string            `json:"clientId"`
			Admin    map[string]string `json:"admin"`
			Health   string            `json:"health"`
			// MaxRecords is how many records of each kind are kept.
			MaxRecords int `json:"maxRecords"`
			// RateLimit is --rate-limit, when set.
			RateLimit float64 `json:"rateLimit,omitempty"`
			// Scopes are the only scopes granted, when --scope is given.
			Scopes []string `json:"scopes,omitempty"`
			// SkillEndpoint is --skill-endpoint, when set; SkillCA the
			// URL of the CA that signs the requests to it.
			SkillEndpoint string `json:"skillEndpoint,omitempty"`
			SkillCA       string `json:"skillCa"`
			// AllowUnsubscribed is --allow-unsubscribed.
			AllowUnsubscribed bool `json:"allowUnsubscribed"`
		}{console, base, tokenURL, id, map[string]string{
			"events": base + alexatest.AdminEvents, "messages": base + alexatest.AdminMessages,
			"tokens": base + alexatest.AdminTokens, "reset": base + alexatest.AdminReset,
			"subscriptions": base + alexatest.AdminSubscriptions, "grants": base + alexatest.AdminGrants,
			"skill": base + alexatest.AdminSkill, "skillDeliveries": base + alexatest.AdminSkillDeliveries,
			"datastore": base + alexatest.AdminDataStore,
		}, base + alexatest.HealthPath, maxRecords, opts.RateLimit, opts.Scopes,
			opts.SkillEndpoint, base + alexatest.AdminSkillCA, opts.AllowUnsubscribed})
	} else {
		fmt.Fprintf(o.IO.Out, `alexa-oos emulator listening on %s
  console:   %s   (open it in a browser)
  endpoint:  %s
  token URL: %s
  admin:     GET %s, %s, %s, %s/devices; POST %s
  health:    GET %s
  records:   the last %d events, messages and token requests are kept
%s
Point alexa-oos (and skills under test) at it:
  export %s=%s
  export %s=%s
  export %s=%s
  %s
  export %s=%s

Stop it with Ctrl-C.
`, base, console, base, tokenURL, alexatest.AdminEvents, alexatest.AdminMessages, alexatest.AdminTokens, alexatest.AdminDataStore, alexatest.AdminReset,
			alexatest.HealthPath, maxRecords, extra,
			EnvEndpoint, base, EnvTokenURL, tokenURL, EnvClientID, shellQuote(id), secretLine, EnvEmulatorURL, base)
	}

	if o.Open {
		if err := openInBrowser(o.Getenv, console); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "alexa-oos: --open: %v; open %s yourself\n", err, console)
		}
	}
	srv := emu.HTTPServer(logRequests(emu, o.IO.ErrOut))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("emulator: %w", err)
	case <-ctx.Done():
	}
	// Requests to the skill end first: admin calls waiting for one
	// return, and nothing is sent after the emulator stopped.
	emu.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: %w", err)
	}
	fmt.Fprintln(o.IO.ErrOut, "alexa-oos: emulator stopped")
	return nil
}

// clientAddr is the address clients use for a listener: the loopback
// address when it listens on every interface.
func clientAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// logRequests logs one line per request to w: time, method, escaped path
// (never the query or a header, so never a token), status and duration.
func logRequests(next http.Handler, w io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sr := &statusRecorder{ResponseWriter: rw}
		defer func() {
			status := sr.status
			switch {
			case sr.hijacked:
				status = 0
			case status == 0:
				status = http.StatusOK
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "%s %s %s %d %s\n", start.Format("15:04:05.000"), r.Method, r.URL.EscapedPath(), status, time.Since(start).Round(time.Microsecond))
		}()
		next.ServeHTTP(sr, r)
	})
}

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Hijack lets the emulator's dropped-connection faults through.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	s.hijacked = true
	return h.Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
