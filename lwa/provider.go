package lwa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/redact"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/internal/validate"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// Scopes of the out-of-session APIs. Note the single colon of Skill
// Messaging and the double colon of the others: that is how LWA spells them.
const (
	ScopeProactiveEvents = "alexa::proactive_events"
	ScopeSkillMessaging  = "alexa:skill_messaging"
	ScopeDataStore       = "alexa::datastore"
)

// DefaultLifetime is assumed for a token whose response has no expires_in
// (or a null one): LWA's documented lifetime of one hour. A token whose
// expires_in is zero, negative or unreadable is used for the call that
// asked for it and never cached.
const DefaultLifetime = time.Hour

// fetchTimeout bounds one shared fetch, retries included, since it runs
// detached from the callers' contexts.
const fetchTimeout = 2 * time.Minute

// Provider hands out access tokens by scope and caches them. It
// implements alexa.TokenProvider. Its methods are safe for concurrent use.
//
// A Provider owns its cache: however many goroutines ask it at once, it
// makes one token request per scope, and hands the token out until it is
// within the refresh margin of expiry. Clients share tokens by sharing the
// Provider, set as Config.Tokens; a client built from a Config without
// Tokens makes a Provider of its own. Build one with NewProvider: the zero
// Provider is not usable.
type Provider struct {
	cfg  alexa.Config
	http httpx.Doer // cfg.HTTPClient, refusing redirects
	ua   string

	mu     sync.RWMutex
	tokens map[cacheKey]cached
	flight singleflight.Group
}

// cacheKey tells the tokens of the two grants apart: a scope's token from
// the client-credentials grant, and the refresh-token grant's, which has
// no scope.
type cacheKey struct {
	refresh bool
	scope   string
}

// flightKey is the key of the key's fetch in the singleflight group.
func (k cacheKey) flightKey() string {
	if k.refresh {
		return "refresh_token"
	}
	return "scope " + k.scope
}

// op names the request in errors.
func (k cacheKey) op() string {
	if k.refresh {
		return "lwa.TokenFromRefreshToken"
	}
	return "lwa.Token(" + k.scope + ")"
}

// cached is a token and when to replace it.
type cached struct {
	tok       *oauth2.Token
	refreshAt time.Time
}

// NewProvider returns a Provider, with an empty cache, for cfg's
// credentials and token URL. Set it as Config.Tokens to share its tokens
// with every client built from that Config:
//
//	cfg.Tokens = lwa.NewProvider(cfg)
func NewProvider(cfg alexa.Config) *Provider {
	cfg = cfg.WithDefaults()
	return &Provider{cfg: cfg, http: httpx.NoRedirects(cfg.HTTPClient), ua: transport.UserAgent(cfg), tokens: map[cacheKey]cached{}}
}

// Token returns an access token for scope from the client-credentials
// grant, from the cache while it is valid for longer than the refresh
// margin.
func (p *Provider) Token(ctx context.Context, scope string) (string, error) {
	if c, ok := p.fresh(cacheKey{scope: scope}); ok {
		// The common case, on every API call: no copy of the token.
		return c.tok.AccessToken, nil
	}
	t, err := p.AccessToken(ctx, scope)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// AccessToken is Token returning the whole token with its expiry.
func (p *Provider) AccessToken(ctx context.Context, scope string) (*oauth2.Token, error) {
	return p.get(ctx, cacheKey{scope: scope})
}

// TokenFromRefreshToken returns an access token obtained with the
// credentials' refresh token (grant_type=refresh_token), cached like the
// others. The credentials must hold a refresh token.
func (p *Provider) TokenFromRefreshToken(ctx context.Context) (string, error) {
	t, err := p.AccessTokenFromRefreshToken(ctx)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// AccessTokenFromRefreshToken is TokenFromRefreshToken returning the
// whole token with its expiry.
func (p *Provider) AccessTokenFromRefreshToken(ctx context.Context) (*oauth2.Token, error) {
	return p.get(ctx, cacheKey{refresh: true})
}

// get returns the token of k, from the cache or fetched once for every
// caller waiting on it.
func (p *Provider) get(ctx context.Context, k cacheKey) (*oauth2.Token, error) {
	if t := p.cached(k); t != nil {
		return t, nil
	}
	if err := p.validate(k); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// Given up already: start no fetch.
		return nil, tokenUnavailable(fmt.Errorf("%s: %w", k.op(), err))
	}
	// The fetch runs detached from ctx: a caller that gives up returns at
	// once, and the others keep waiting on the same fetch.
	ch := p.flight.DoChan(k.flightKey(), func() (any, error) {
		if t := p.cached(k); t != nil {
			return t, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		c, err := p.fetch(fctx, k)
		if err != nil {
			return nil, err
		}
		if !c.refreshAt.IsZero() {
			p.mu.Lock()
			p.tokens[k] = c
			p.mu.Unlock()
		}
		return c.tok, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, tokenUnavailable(r.Err)
		}
		// Each caller gets its own copy: the cached token is shared.
		t := *r.Val.(*oauth2.Token)
		return &t, nil
	case <-ctx.Done():
		return nil, tokenUnavailable(fmt.Errorf("%s: %w", k.op(), ctx.Err()))
	}
}

// Invalidate drops the cached token of scope if it is still token (or
// whatever is cached, when token is ""), so the next call fetches anew.
func (p *Provider) Invalidate(scope, token string) {
	p.invalidate(cacheKey{scope: scope}, token)
}

// InvalidateRefreshed is Invalidate for the token of the refresh-token
// grant.
func (p *Provider) InvalidateRefreshed(token string) {
	p.invalidate(cacheKey{refresh: true}, token)
}

func (p *Provider) invalidate(k cacheKey, token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.tokens[k]; ok && (token == "" || c.tok.AccessToken == token) {
		delete(p.tokens, k)
	}
}

// TokenSource returns an oauth2.TokenSource for scope backed by this
// Provider's cache, for libraries that take one.
func (p *Provider) TokenSource(scope string) oauth2.TokenSource {
	return tokenSource{p, scope}
}

type tokenSource struct {
	p     *Provider
	scope string
}

func (s tokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	return s.p.AccessToken(ctx, s.scope)
}

// cached returns a copy of the cached token of k while it is fresh.
func (p *Provider) cached(k cacheKey) *oauth2.Token {
	if c, ok := p.fresh(k); ok {
		t := *c.tok
		return &t
	}
	return nil
}

// fresh returns the cache entry of k while it is fresh.
func (p *Provider) fresh(k cacheKey) (cached, bool) {
	p.mu.RLock()
	c, ok := p.tokens[k]
	p.mu.RUnlock()
	if ok && time.Now().Before(c.refreshAt) {
		return c, true
	}
	return cached{}, false
}

// validate checks what the token request needs before any network I/O.
func (p *Provider) validate(k cacheKey) error {
	var vs validate.Violations
	c := p.cfg.Credentials
	if c.ClientID == "" {
		vs.Add("clientId", "is required: the skill's Alexa client id from the developer console's Permissions page", nil)
	}
	if c.ClientSecret == "" {
		vs.Add("clientSecret", "is required: the skill's Alexa client secret from the developer console's Permissions page", nil)
	}
	switch {
	case k.refresh && c.RefreshToken == "":
		vs.Add("refreshToken", "is required for the refresh-token grant", nil)
		return vs.Err("lwa.TokenFromRefreshToken")
	case !k.refresh && k.scope == "":
		vs.Add("scope", "is required", nil)
	}
	return vs.Err("lwa.Token")
}

// fetch asks LWA for a token, retrying by the policy.
func (p *Provider) fetch(ctx context.Context, k cacheKey) (cached, error) {
	for attempt := 1; ; attempt++ {
		c, err := p.exchange(ctx, k)
		if err == nil {
			return c, nil
		}
		var retryAfter time.Duration
		var le *Error
		if errors.As(err, &le) {
			retryAfter = le.RetryAfter
		}
		if !p.cfg.Retry.Wait(ctx, attempt, err, retryAfter) {
			return cached{}, err
		}
	}
}

// exchange makes one token request through x/oauth2. The result's
// refreshAt is zero when the token must not be cached.
func (p *Provider) exchange(ctx context.Context, k cacheKey) (cached, error) {
	rec := &recorder{next: p.http, ua: p.ua, url: p.cfg.TokenURL}
	// The credentials go to the token URL and nowhere else: no redirect
	// is followed, by this client nor by the configured one.
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: rec, CheckRedirect: httpx.RefuseRedirect})
	c := p.cfg.Credentials
	start := time.Now()
	var t *oauth2.Token
	var err error
	if k.refresh {
		conf := &oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: p.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		}
		t, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
	} else {
		conf := &clientcredentials.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			TokenURL:     p.cfg.TokenURL,
			Scopes:       []string{k.scope},
			AuthStyle:    oauth2.AuthStyleInParams,
		}
		t, err = conf.Token(ctx)
	}
	p.log(ctx, k, rec.status, start, err)
	if err != nil {
		return cached{}, p.mapError(k.op(), rec, err)
	}
	// Expiry counts from the request's start, so clock skew and a slow
	// response can only make the token look older than it is.
	life := time.Duration(t.ExpiresIn) * time.Second
	switch {
	case t.ExpiresIn != 0:
	case !t.Expiry.IsZero():
		// The client-credentials grant of x/oauth2 (and any form-encoded
		// answer) leaves ExpiresIn unset and gives only Expiry, counted
		// from the response's arrival.
		life = time.Until(t.Expiry)
	case t.Extra("expires_in") == nil || t.Extra("expires_in") == "":
		life = DefaultLifetime // absent
	}
	if life <= 0 {
		// Zero, negative or unreadable: good for this call only.
		t.Expiry = start
		return cached{tok: t}, nil
	}
	t.Expiry = start.Add(life)
	// The margin adapts to short lifetimes, so that a token living less
	// than the margin is still reused for half its life.
	margin := min(p.cfg.RefreshMargin, life/2)
	return cached{tok: t, refreshAt: t.Expiry.Add(-margin)}, nil
}

// mapError types a failed token request. Whatever quotes the server is
// redacted: a server or proxy echoing the request must not put the
// credentials into an error.
func (p *Provider) mapError(op string, rec *recorder, err error) error {
	return mapTokenError(op, p.cfg.TokenURL, rec, err, p.cfg.Credentials.ClientSecret, p.cfg.Credentials.RefreshToken)
}

// mapTokenError turns a failed token request into an *Error (LWA answered)
// or an *alexa.TransportError (it did not), with secrets redacted from
// everything quoted from the answer: the one mapping of every grant.
func mapTokenError(op, tokenURL string, rec *recorder, err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		e := &Error{Op: op, StatusCode: rec.status, Code: re.ErrorCode, Description: re.ErrorDescription, Body: re.Body}
		if e.Code == "" {
			// x/oauth2 reads the JSON only when labelled as JSON; a proxy
			// may label it text/plain.
			var v struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(bytes.TrimSpace(re.Body), &v) == nil {
				e.Code, e.Description = v.Error, v.Description
			}
		}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			e.Header = redact.Header(re.Response.Header, secrets...)
			e.RetryAfter = httpx.ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
		e.Body = redact.Bytes(e.Body, secrets...)
		if len(e.Body) > alexa.MaxErrorBody {
			e.Body = e.Body[:alexa.MaxErrorBody]
		}
		e.Code = redact.String(e.Code, secrets...)
		e.Description = redact.String(e.Description, secrets...)
		return e
	case rec.err != nil:
		return &alexa.TransportError{Op: op, Method: http.MethodPost, URL: tokenURL, Err: redact.Error(httpx.UnwrapURLError(rec.err), secrets...)}
	default:
		// A 2xx answer x/oauth2 could not read as a token.
		return &Error{Op: op, StatusCode: rec.status, Code: "invalid_response", Description: redact.String(err.Error(), secrets...)}
	}
}

func (p *Provider) log(ctx context.Context, k cacheKey, status int, start time.Time, err error) {
	if !p.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	grant := "client_credentials"
	if k.refresh {
		grant = "refresh_token"
	}
	attrs := []slog.Attr{slog.String("op", "lwa.Token"), slog.String("grant", grant), slog.String("scope", k.scope), slog.String("url", p.cfg.TokenURL), slog.Int("status", status), slog.Duration("took", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", "token request failed"))
	}
	p.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "lwa: token", attrs...)
}

// errNotTokenURL is a request x/oauth2 would send elsewhere than the token
// URL: it never leaves.
var errNotTokenURL = errors.New("refusing to send credentials anywhere but the token URL")

// recorder adapts the configured HTTPClient to the http.RoundTripper that
// x/oauth2 needs, sets the User-Agent, and remembers the status and the
// transport error, which x/oauth2 does not keep typed.
type recorder struct {
	next   httpx.Doer
	ua     string
	url    string // the token URL: the only one requests may go to
	status int
	err    error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() != r.url {
		if req.Body != nil {
			req.Body.Close()
		}
		r.err = fmt.Errorf("%w: %s", errNotTokenURL, req.URL.Redacted())
		return nil, r.err
	}
	req.Header.Set("User-Agent", r.ua)
	resp, err := r.next.Do(req)
	if err != nil {
		r.err = err
		return nil, err
	}
	if final := resp.Request; final != nil && final.URL != nil && final.URL.String() != req.URL.String() {
		// The configured client followed a redirect despite the policy:
		// the token it got came from elsewhere and is not used.
		resp.Body.Close()
		r.err = fmt.Errorf("%w: the HTTP client followed one to %s", alexa.ErrRedirected, final.URL.Redacted())
		return nil, r.err
	}
	r.status = resp.StatusCode
	resp.Body = &bodyRecorder{ReadCloser: resp.Body, r: r}
	return resp, nil
}

// bodyRecorder remembers a failure reading the body (a connection dropped
// mid-response), which x/oauth2 reports as untyped text.
type bodyRecorder struct {
	io.ReadCloser
	r *recorder
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.r.err = err
	}
	return n, err
}

// StaticToken is a TokenProvider that always returns token, for callers
// that obtained one elsewhere. Invalidate is a no-op.
type StaticToken string

// Token returns the token, whatever the scope.
func (s StaticToken) Token(context.Context, string) (string, error) { return string(s), nil }

// Invalidate does nothing: there is no other token to fetch.
func (StaticToken) Invalidate(string, string) {}

// String hides the token.
func (StaticToken) String() string { return redact.Mark }

// GoString hides the token.
func (StaticToken) GoString() string { return "lwa.StaticToken(" + redact.Mark + ")" }

// MarshalJSON hides the token, so a Config holding it can be logged as JSON.
func (StaticToken) MarshalJSON() ([]byte, error) { return []byte(`"` + redact.Mark + `"`), nil }
