package lwa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/internal/validate"
)

// ErrRelinkRequired is matched (errors.Is) by the error of a refresh that
// LWA refused with invalid_grant: the user revoked the skill's permission
// or the refresh token expired, and only a new grant (the user granting
// the permission again) brings new tokens. The user's stored tokens are
// deleted then.
var ErrRelinkRequired = errors.New("lwa: the user must grant the skill's permission again (invalid_grant)")

// ErrNoUserToken is matched by the error of a token request for a user
// whose tokens are not stored: they never granted the permission, or a
// refresh was refused and their tokens were deleted.
var ErrNoUserToken = errors.New("lwa: no tokens stored for this user")

// UserToken is one user's LWA tokens, obtained with the
// authorization-code grant. Every printed form (String, %v, %#v, JSON,
// log/slog) hides the tokens; stores keep them with their own encoding.
type UserToken struct {
	AccessToken  string
	RefreshToken string
	// TokenType is LWA's token_type, "bearer".
	TokenType string
	// Scope is the scope granted, when LWA says.
	Scope string
	// Expiry is when the access token stops working, counted from the
	// start of the request that obtained it.
	Expiry time.Time
}

// String shows the expiry and scope and hides the tokens.
func (t UserToken) String() string {
	return fmt.Sprintf("{AccessToken:%s RefreshToken:%s TokenType:%s Scope:%s Expiry:%s}",
		hideToken(t.AccessToken), hideToken(t.RefreshToken), t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339))
}

// GoString is the %#v form, tokens hidden.
func (t UserToken) GoString() string {
	return fmt.Sprintf("lwa.UserToken{AccessToken:%q, RefreshToken:%q, TokenType:%q, Scope:%q, Expiry:%q}",
		hideToken(t.AccessToken), hideToken(t.RefreshToken), t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339))
}

// Format makes every fmt verb hide the tokens.
func (t UserToken) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, t.GoString())
		return
	}
	io.WriteString(f, t.String())
}

// LogValue hides the tokens from log/slog.
func (t UserToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", hideToken(t.AccessToken)),
		slog.String("refresh_token", hideToken(t.RefreshToken)),
		slog.String("scope", t.Scope),
		slog.Time("expiry", t.Expiry),
	)
}

// MarshalJSON hides the tokens, so a value holding a UserToken can be
// logged as JSON.
func (t UserToken) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"accessToken":%q,"refreshToken":%q,"tokenType":%q,"scope":%q,"expiry":%q}`,
		hideToken(t.AccessToken), hideToken(t.RefreshToken), t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339Nano)), nil
}

func hideToken(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// TokenStore keeps users' tokens, keyed by the user's id (Alexa's
// context.System.user.userId). Implementations must be safe for concurrent
// use.
type TokenStore interface {
	// Load returns the user's tokens, or an error matching ErrNoUserToken
	// when none are stored.
	Load(ctx context.Context, userID string) (*UserToken, error)
	// Save stores the user's tokens, replacing any.
	Save(ctx context.Context, userID string, t *UserToken) error
	// Delete forgets the user's tokens; deleting none is not an error.
	Delete(ctx context.Context, userID string) error
}

// UserTokensOptions configure UserTokens. The zero value keeps tokens in
// memory.
type UserTokensOptions struct {
	// Store keeps the tokens. Default NewMemoryStore(), which forgets
	// them when the process ends; NewFileStore keeps them on disk.
	Store TokenStore
	// RedirectURI is sent as redirect_uri with the code, when set. Codes
	// from Alexa.Authorization.Grant requests need none.
	RedirectURI string
}

// UserTokens gets and refreshes users' LWA tokens, for the APIs a skill
// calls on a user's behalf out of session (Reminders, Lists, …). It
// exchanges the code of an Alexa.Authorization.Grant request with the
// skill's client credentials (grant_type=authorization_code, credentials
// in the form body), stores the tokens by user, and refreshes a user's
// access token when it is within cfg.RefreshMargin of expiry, with one
// refresh per user in flight however many goroutines ask. Its methods are
// safe for concurrent use. Unlike a Provider's, the margin does not
// shrink for short-lived tokens (a stored token says when it expires, not
// when it was issued): LWA's live an hour, but with an emulator's shorter
// TokenLifetime, set cfg.RefreshMargin below it, or every call refreshes.
//
// Redirects from the token endpoint are never followed, so the client
// secret, the code and the refresh token go only to cfg.TokenURL.
type UserTokens struct {
	cfg    alexa.Config
	o      UserTokensOptions
	flight singleflight.Group
}

// NewUserTokens returns UserTokens for the skill credentials and token URL
// of cfg (cfg.Credentials.RefreshToken is not used).
func NewUserTokens(cfg alexa.Config, o UserTokensOptions) *UserTokens {
	cfg = cfg.WithDefaults()
	if o.Store == nil {
		o.Store = NewMemoryStore()
	}
	return &UserTokens{cfg: cfg, o: o}
}

// Store returns the store the tokens are kept in.
func (u *UserTokens) Store() TokenStore { return u.o.Store }

// Exchange trades an authorization code for the user's tokens and stores
// them. An error matches, with errors.As, an *alexa.ValidationError
// (before any network I/O), an *Error from LWA (invalid_grant: the code
// was used or expired) or an *alexa.TransportError; or it is the store's
// error.
func (u *UserTokens) Exchange(ctx context.Context, userID, code string) (*UserToken, error) {
	if err := u.validate("lwa.Exchange", userID, "code", code); err != nil {
		return nil, err
	}
	t, err := u.fetch(ctx, "lwa.Exchange", code, func(ctx context.Context, conf *oauth2.Config) (*oauth2.Token, error) {
		return conf.Exchange(ctx, code)
	})
	if err != nil {
		return nil, err
	}
	if err := u.o.Store.Save(ctx, userID, t); err != nil {
		return nil, fmt.Errorf("lwa.Exchange: storing the user's tokens: %w", err)
	}
	return t, nil
}

// Token returns a valid access token for the user, refreshed first when
// it is within the refresh margin of expiry.
func (u *UserTokens) Token(ctx context.Context, userID string) (string, error) {
	t, err := u.UserToken(ctx, userID)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// UserToken is Token returning the whole token. An error matches
// ErrNoUserToken when the user has no tokens and ErrRelinkRequired when
// LWA refused the refresh token (it is then also an *Error); otherwise it
// is an *Error, an *alexa.TransportError or the store's error.
func (u *UserTokens) UserToken(ctx context.Context, userID string) (*UserToken, error) {
	if err := u.validate("lwa.UserToken", userID, "", ""); err != nil {
		return nil, err
	}
	t, err := u.o.Store.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.fresh(t) {
		return t, nil
	}
	// The refresh runs detached from ctx, so a caller that gives up does
	// not fail the others waiting on it.
	ch := u.flight.DoChan(userID, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		return u.refresh(fctx, userID)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		// Each caller gets its own copy of the shared result.
		t := *r.Val.(*UserToken)
		return &t, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("lwa.UserToken: %w", ctx.Err())
	}
}

// Forget deletes the user's tokens, as when the skill is disabled.
func (u *UserTokens) Forget(ctx context.Context, userID string) error {
	return u.o.Store.Delete(ctx, userID)
}

func (u *UserTokens) fresh(t *UserToken) bool {
	return t.AccessToken != "" && time.Now().Add(u.cfg.RefreshMargin).Before(t.Expiry)
}

// refresh renews the user's access token with their refresh token.
func (u *UserTokens) refresh(ctx context.Context, userID string) (*UserToken, error) {
	old, err := u.o.Store.Load(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.fresh(old) {
		// Refreshed by another caller meanwhile.
		return old, nil
	}
	if old.RefreshToken == "" {
		return nil, fmt.Errorf("lwa.Refresh: the stored tokens have no refresh token: %w", ErrRelinkRequired)
	}
	t, err := u.fetch(ctx, "lwa.Refresh", old.RefreshToken, func(ctx context.Context, conf *oauth2.Config) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	})
	var le *Error
	if errors.As(err, &le) && le.Code == "invalid_grant" {
		// The refresh token is dead: drop it, unless a new grant replaced
		// it meanwhile.
		if cur, lerr := u.o.Store.Load(ctx, userID); lerr == nil && cur.RefreshToken == old.RefreshToken {
			u.o.Store.Delete(ctx, userID)
		}
		return nil, fmt.Errorf("%w: %w", ErrRelinkRequired, err)
	}
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = old.RefreshToken
	}
	if cur, lerr := u.o.Store.Load(ctx, userID); lerr == nil && cur.RefreshToken != old.RefreshToken {
		// A new grant stored other tokens meanwhile: they win.
		return cur, nil
	}
	if err := u.o.Store.Save(ctx, userID, t); err != nil {
		return nil, fmt.Errorf("lwa.Refresh: storing the user's tokens: %w", err)
	}
	return t, nil
}

// validate checks what a user-token request needs before any network I/O.
func (u *UserTokens) validate(op, userID, field, value string) error {
	var vs validate.Violations
	c := u.cfg.Credentials
	if c.ClientID == "" {
		vs.Add("clientId", "is required: the skill's Alexa client id from the developer console's Permissions page", nil)
	}
	if c.ClientSecret == "" {
		vs.Add("clientSecret", "is required: the skill's Alexa client secret from the developer console's Permissions page", nil)
	}
	if userID == "" {
		vs.Add("userId", "is required", nil)
	}
	if field != "" && value == "" {
		vs.Add(field, "is required", nil)
	}
	return vs.Err(op)
}

// fetch makes a token request, retrying by the policy; secret (the code
// or the refresh token sent) never appears in its errors.
func (u *UserTokens) fetch(ctx context.Context, op, secret string, grant func(context.Context, *oauth2.Config) (*oauth2.Token, error)) (*UserToken, error) {
	for attempt := 1; ; attempt++ {
		t, err := u.exchange(ctx, op, secret, grant)
		if err == nil {
			return t, nil
		}
		var retryAfter time.Duration
		var le *Error
		if errors.As(err, &le) {
			retryAfter = le.RetryAfter
		}
		if !u.cfg.Retry.Wait(ctx, attempt, err, retryAfter) {
			return nil, err
		}
	}
}

// exchange makes one token request through x/oauth2.
func (u *UserTokens) exchange(ctx context.Context, op, secret string, grant func(context.Context, *oauth2.Config) (*oauth2.Token, error)) (*UserToken, error) {
	// As for the Provider: the credentials and the code go to the token
	// URL and nowhere else, whatever the configured client does.
	rt := &recorder{next: httpx.NoRedirects(u.cfg.HTTPClient), ua: transport.UserAgent(u.cfg), url: u.cfg.TokenURL}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: rt, CheckRedirect: httpx.RefuseRedirect})
	conf := &oauth2.Config{
		ClientID:     u.cfg.Credentials.ClientID,
		ClientSecret: u.cfg.Credentials.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: u.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  u.o.RedirectURI,
	}
	start := time.Now()
	t, err := grant(ctx, conf)
	if u.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("op", op), slog.String("url", u.cfg.TokenURL), slog.Int("status", rt.status), slog.Duration("took", time.Since(start))}
		if err != nil {
			attrs = append(attrs, slog.String("error", "token request failed"))
		}
		u.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "lwa: user token", attrs...)
	}
	if err != nil {
		return nil, u.mapError(op, rt, err, secret)
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	if t.ExpiresIn == 0 && !t.Expiry.IsZero() {
		life = time.Until(t.Expiry)
	}
	if life <= 0 {
		life = DefaultLifetime
	}
	ut := &UserToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Expiry: start.Add(life)}
	if s, ok := t.Extra("scope").(string); ok {
		ut.Scope = s
	}
	return ut, nil
}

// mapError maps a failed user-token request as every grant's is mapped;
// the code or refresh token sent is redacted too.
func (u *UserTokens) mapError(op string, rec *recorder, err error, secret string) error {
	return mapTokenError(op, u.cfg.TokenURL, rec, err, u.cfg.Credentials.ClientSecret, secret)
}
