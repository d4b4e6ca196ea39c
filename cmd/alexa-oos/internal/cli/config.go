package cli

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/httpx"
)

// target is where a command sends: a resolved Config, or the built-in
// emulator when nothing at all was configured.
type target struct {
	cfg alexa.Config
	// embedded is true when no credentials, endpoint or token URL were
	// given: the command runs against an in-process emulator.
	embedded bool
	// srv is the running embedded emulator, after connect.
	srv *alexatest.Server
	// notices receives the one line that says the emulator started.
	notices io.Writer
}

// credentials reads the client id, secret and refresh token from the
// flags, falling back to the environment.
func (f *Factory) credentials() (alexa.Credentials, error) {
	var c alexa.Credentials
	c.ClientID = f.clientID
	if f.flags == nil || !f.flags.Changed("client-id") {
		c.ClientID = f.Getenv(EnvClientID)
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	var err error
	if f.clientSecretFile != "" {
		if c.ClientSecret, err = readSecretFile("--client-secret-file", f.clientSecretFile); err != nil {
			return c, err
		}
	} else {
		c.ClientSecret = f.Getenv(EnvClientSecret)
	}
	if f.refreshTokenFile != "" {
		if c.RefreshToken, err = readSecretFile("--refresh-token-file", f.refreshTokenFile); err != nil {
			return c, err
		}
	} else {
		c.RefreshToken = f.Getenv(EnvRefreshToken)
	}
	return c, nil
}

// readSecretFile reads a secret, without its trailing newline. Errors
// name the file, never its content.
func readSecretFile(flag, name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", usagef("%s: %s is empty", flag, name)
	}
	return s, nil
}

// endpoints returns the API endpoint and the token URL from the flags or
// the environment; "" when not configured.
func (f *Factory) endpoints() (endpoint, tokenURL string, err error) {
	switch {
	case f.endpoint != "" && f.region != "":
		return "", "", usagef("--endpoint and --region exclude each other")
	case f.endpoint != "":
		endpoint, err = checkURL("--endpoint", f.endpoint)
	case f.region != "":
		endpoint = alexa.Region(f.region).Endpoint()
		if endpoint == "" {
			return "", "", usagef("--region: must be NA, EU or FE (got %q)", f.region)
		}
	case f.Getenv(EnvEndpoint) != "":
		endpoint, err = checkURL(EnvEndpoint, f.Getenv(EnvEndpoint))
	}
	if err != nil {
		return "", "", err
	}
	switch {
	case f.tokenURL != "":
		tokenURL, err = checkURL("--token-url", f.tokenURL)
	case f.Getenv(EnvTokenURL) != "":
		tokenURL, err = checkURL(EnvTokenURL, f.Getenv(EnvTokenURL))
	}
	return endpoint, tokenURL, err
}

// checkURL refuses what the default HTTP client would refuse later, so
// that it is a usage error and nothing is sent.
func checkURL(source, s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", usagef("%s: must be an https URL such as %s (got %q)", source, alexa.EndpointEU, s)
	}
	if u.Scheme == "http" && !httpx.IsLoopback(u.Hostname()) {
		return "", usagef("%s: plain http is refused except to loopback hosts: use https (got %q)", source, s)
	}
	if u.User != nil {
		// A password there would be printed with the URL in every
		// message; the APIs take none.
		return "", usagef("%s: must not hold a user or password (got %q)", source, u.Redacted())
	}
	return strings.TrimSuffix(s, "/"), nil
}

// resolve builds the target of a command. needRefresh says the refresh
// token is required too.
func (f *Factory) resolve(needRefresh bool) (*target, error) {
	creds, err := f.credentials()
	if err != nil {
		return nil, err
	}
	endpoint, tokenURL, err := f.endpoints()
	if err != nil {
		return nil, err
	}
	cfg := alexa.Config{Credentials: creds, Endpoint: endpoint, TokenURL: tokenURL, Logger: f.logger}
	if f.http2 {
		cfg.HTTPClient = alexa.NewHTTPClient(alexa.HTTPOptions{HTTP2: true})
	}
	if creds == (alexa.Credentials{}) && endpoint == "" && tokenURL == "" {
		return &target{cfg: cfg, embedded: true, notices: f.IO.ErrOut}, nil
	}
	why := "credentials are needed to reach Alexa (unset every ALEXA_* variable to use the built-in emulator)"
	switch {
	case creds.ClientID == "":
		return nil, usagef("%s is not set (nor --client-id): %s", EnvClientID, why)
	case creds.ClientSecret == "":
		return nil, usagef("%s is not set (nor --client-secret-file): %s", EnvClientSecret, why)
	case needRefresh && creds.RefreshToken == "":
		return nil, usagef("%s is not set (nor --refresh-token-file): token --refresh needs it", EnvRefreshToken)
	}
	if endpoint != "" && tokenURL == "" && !amazonHost(endpoint) {
		src := "--endpoint"
		if f.endpoint == "" {
			src = EnvEndpoint
		}
		f.IO.warnf("%s %s is not Amazon's, but the client credentials still go to Amazon's LWA at %s: set --token-url or %s to the token endpoint that goes with it", src, endpoint, alexa.DefaultTokenURL, EnvTokenURL)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = alexa.EndpointNA
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = alexa.DefaultTokenURL
	}
	f.logger.Debug("alexa-oos: target", "endpoint", cfg.Endpoint, "token_url", cfg.TokenURL, "credentials", cfg.Credentials)
	return &target{cfg: cfg}, nil
}

// connect starts the embedded emulator when the target is one, with opts,
// and says so in one line; doing has a %s for its URL. The emulator logs
// to the target's logger. Call close when done.
func (t *target) connect(doing string, opts alexatest.Options) {
	if !t.embedded {
		return
	}
	// Nobody can subscribe users to a one-shot emulator: Unicast events
	// are accepted without subscriptions.
	opts.AllowUnsubscribed = true
	t.srv = alexatest.NewServer(opts)
	cfg := t.srv.Config()
	cfg.Logger = t.cfg.Logger
	t.cfg = cfg
	fmt.Fprintf(t.notices, "alexa-oos: no credentials set: %s (set %s and %s to reach Alexa)\n",
		fmt.Sprintf(doing, t.srv.URL), EnvClientID, EnvClientSecret)
}

func (t *target) close() {
	if t.srv != nil {
		t.srv.Close()
	}
}

// amazonHost reports whether an endpoint URL names one of Amazon's Alexa
// API hosts (api.amazonalexa.com and its regional siblings).
func amazonHost(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return h == "amazonalexa.com" || strings.HasSuffix(h, ".amazonalexa.com")
}
