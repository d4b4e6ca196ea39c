package proactive

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/lwa"
)

// Scope is the LWA scope of the Proactive Events API.
const Scope = lwa.ScopeProactiveEvents

// Client sends proactive events. It is safe for concurrent use.
type Client struct {
	caller *transport.Caller
	rules  Rules
}

// Option changes a Client.
type Option func(*Client)

// WithRules validates requests with rules instead of DefaultRules().
func WithRules(rules Rules) Option { return func(c *Client) { c.rules = rules } }

// NewClient returns a client for cfg. Without cfg.Tokens it makes an LWA
// Provider of its own for cfg's credentials; to share tokens with other
// clients, set cfg.Tokens = lwa.NewProvider(cfg) first.
func NewClient(cfg alexa.Config, opts ...Option) *Client {
	if cfg.Tokens == nil {
		cfg.Tokens = lwa.NewProvider(cfg)
	}
	c := &Client{caller: transport.New(cfg), rules: DefaultRules()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Result is the outcome of an accepted event.
type Result struct {
	// StatusCode is 202, or 409 when AlreadyAccepted.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// AlreadyAccepted is true when a retry was answered 409: an earlier
	// attempt of this same call had landed, so the event was delivered once.
	AlreadyAccepted bool
}

// Create sends req to stage: Development, Live, or "" for Development
// (see Stage). It validates the stage and req first and sends nothing when
// either is invalid. The body is encoded with the Config's Codec. Success
// is 202 Accepted; an error matches, with errors.As, an
// *alexa.ValidationError, *alexa.Error, *alexa.TransportError or
// *lwa.Error.
func (c *Client) Create(ctx context.Context, req *Request, stage Stage) (*Result, error) {
	if err := stage.Validate(); err != nil {
		return nil, err
	}
	if err := c.rules.Validate(req); err != nil {
		return nil, err
	}
	// The codec gets the request's wire form, plain tagged fields, rather
	// than req and its MarshalJSON: any JSON codec encodes it alike.
	body, err := c.caller.Config().Codec.Marshal(req.wire())
	if err != nil {
		return nil, fmt.Errorf("proactive.Create: %w", err)
	}
	resp, err := c.caller.Do(ctx, &transport.Request{Op: "proactive.Create", Method: http.MethodPost, Path: stage.Path(), Scope: Scope, Body: body})
	if err != nil {
		var ae *alexa.Error
		if errors.As(err, &ae) && ae.StatusCode == http.StatusConflict && ae.Attempts > 1 {
			return &Result{StatusCode: ae.StatusCode, Header: ae.Header, Attempts: ae.Attempts, AlreadyAccepted: true}, nil
		}
		return nil, err
	}
	return &Result{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: resp.Attempts}, nil
}
