package alexa

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"time"
)

// Version is the version of this module, sent in the User-Agent header.
const Version = "0.1.0"

// Alexa API endpoints by region. The region is where the customer's
// account lives, not where the caller runs.
const (
	EndpointNA = "https://api.amazonalexa.com"
	EndpointEU = "https://api.eu.amazonalexa.com"
	EndpointFE = "https://api.fe.amazonalexa.com"
)

// DefaultTokenURL is the Login-with-Amazon token endpoint for skill
// credentials. It is never derived from the API endpoint: Amazon's Python
// and Java SDKs do so and then post secrets to the Alexa API host.
const DefaultTokenURL = "https://api.amazon.com/auth/o2/token"

// DefaultRefreshMargin is how long before its expiry a cached token is
// replaced, as in Amazon's SDKs.
const DefaultRefreshMargin = 60 * time.Second

// Region names an Alexa API region.
type Region string

// The three Alexa API regions.
const (
	RegionNA Region = "NA"
	RegionEU Region = "EU"
	RegionFE Region = "FE"
)

// Endpoint returns the API endpoint of the region, or "" for an unknown
// region. Lower case names are accepted.
func (r Region) Endpoint() string {
	switch Region(strings.ToUpper(string(r))) {
	case RegionNA:
		return EndpointNA
	case RegionEU:
		return EndpointEU
	case RegionFE:
		return EndpointFE
	}
	return ""
}

// TokenProvider hands out bearer tokens by scope. The lwa package's
// Provider is the usual one; tests and callers holding a token of their
// own may supply another.
type TokenProvider interface {
	// Token returns a valid access token for scope.
	Token(ctx context.Context, scope string) (string, error)
	// Invalidate drops token from the cache of scope, so that the next
	// Token call fetches a new one. A token that is no longer the cached
	// one is ignored, so concurrent invalidations cost one fetch.
	Invalidate(scope, token string)
}

// Config is what every client of this module is built from: where to
// call, with which credentials, HTTP client, codec, retry policy, logger
// and token provider. Its zero value (plus credentials) works: North
// America, the default HTTP client, JSON, the default retry policy and no
// logging. A Config is a value: clients copy it when they are built.
type Config struct {
	// Credentials are the skill's client id and secret from the Permissions
	// page of the Alexa developer console, and an optional refresh token.
	Credentials Credentials

	// Endpoint is the Alexa API base URL. Default EndpointNA. Any URL is
	// allowed; plain http only to loopback hosts with the default client.
	Endpoint string

	// TokenURL is the LWA token endpoint. Default DefaultTokenURL.
	TokenURL string

	// HTTPClient sends every request. Default NewHTTPClient(HTTPOptions{}).
	// Redirects are never followed, whatever the client (see HTTPClient).
	HTTPClient HTTPClient

	// Codec encodes request bodies and decodes responses. Default JSON.
	Codec Codec

	// UserAgentSuffix is appended to the User-Agent header, which is
	// "alexa-oos-go/<Version> go/<Go version>" and the suffix, if any.
	UserAgentSuffix string

	// Retry says when and how often failed calls are retried. Nil means
	// DefaultRetryPolicy(); NoRetry() switches retries off. Clients read
	// it as they call: do not change a policy that clients use.
	Retry *RetryPolicy

	// Logger receives one debug line per HTTP attempt and warnings on
	// retries. Nil logs nothing. Secrets are never logged.
	Logger *slog.Logger

	// Tokens supplies bearer tokens and caches them. Nil means that each
	// client built from this Config makes an LWA provider of its own, with
	// its own cache. To share tokens between clients (a proactive and a
	// messaging client, or a client built per request, as serverless
	// handlers do), build one provider and set it here:
	//
	//	cfg.Tokens = lwa.NewProvider(cfg)
	//	events := proactive.NewClient(cfg)
	//	messages := messaging.NewClient(cfg) // same tokens, same cache
	Tokens TokenProvider

	// RefreshMargin is how long before expiry a cached token is replaced.
	// Default DefaultRefreshMargin.
	RefreshMargin time.Duration
}

// WithDefaults returns a copy of c with every unset field given its
// default value, Tokens excepted: each client makes its own provider when
// Tokens is nil (see Config.Tokens).
func (c Config) WithDefaults() Config {
	c.Endpoint = strings.TrimSuffix(cmp.Or(c.Endpoint, EndpointNA), "/")
	c.TokenURL = cmp.Or(c.TokenURL, DefaultTokenURL)
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient
	}
	if c.Codec == nil {
		c.Codec = JSONCodec{}
	}
	if c.Retry == nil {
		c.Retry = DefaultRetryPolicy()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RefreshMargin <= 0 {
		c.RefreshMargin = DefaultRefreshMargin
	}
	return c
}
