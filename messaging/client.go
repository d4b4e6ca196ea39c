package messaging

import (
	"context"
	"net/http"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

// Scope is the LWA scope of the Skill Messaging API.
const Scope = lwa.ScopeSkillMessaging

// EndpointFE is the Far East host Amazon's Skill Messaging documentation
// gives, unlike every other API's api.fe.amazonalexa.com. Which one is
// right is not confirmed, so alexa.EndpointFE stays the default and this
// one can be set as Config.Endpoint.
const EndpointFE = "https://api.fe.amazon.com"

// Client sends skill messages. It is safe for concurrent use.
type Client struct {
	caller     *alexa.Caller
	atMostOnce bool
	codec      alexa.Codec
	json       bool // the codec is JSON: bodies are built without it
}

// Option changes a Client.
type Option func(*Client)

// AtMostOnce makes Send give up, rather than retry, when the connection
// fails after the message was written in full: the API may have accepted
// it, and a skill message carries no id that would let Alexa drop a
// second copy. Send then returns an error matching alexa.ErrOutcomeUnknown,
// and the message was delivered once or not at all. Failures before the
// message was written, HTTP 429 and 5xx answers are still retried.
func AtMostOnce() Option { return func(c *Client) { c.atMostOnce = true } }

// NewClient returns a client for cfg. Without cfg.Tokens it gets tokens
// from LWA with cfg's credentials, sharing their cache. By default it
// delivers at least once (see the package documentation); AtMostOnce
// changes that.
func NewClient(cfg alexa.Config, opts ...Option) *Client {
	c := &Client{caller: alexa.NewCaller(lwa.Configure(cfg))}
	c.codec = c.caller.Config().Codec
	_, c.json = c.codec.(alexa.JSONCodec)
	for _, o := range opts {
		o(c)
	}
	return c
}

// Result is the outcome of an accepted message. Acceptance is not
// delivery: Alexa retries delivery until the message expires.
type Result struct {
	// StatusCode is 202.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// MaybeDuplicated is true when an earlier attempt of this call failed
	// after the message was written in full: the API may have accepted
	// both, so the skill may receive the message twice.
	MaybeDuplicated bool
}

// Send sends m to the skill for userID. It validates first and sends
// nothing when the message is invalid. An error is an
// *alexa.ValidationError, *alexa.Error, *alexa.TransportError or
// *lwa.Error; one that matches alexa.ErrOutcomeUnknown may have been
// delivered.
func (c *Client) Send(ctx context.Context, userID string, m *Message) (*Result, error) {
	e, err := Encode(userID, m)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, userID, e)
}

// SendEncoded sends e, as Encode returned it for userID, without checking
// it again (but for the userId): for senders that validate messages ahead
// of sending, such as a bulk job, so that each is checked and encoded
// once. An Encoded built otherwise is sent as it is, and Alexa refuses
// one that breaks its rules. Errors are as Send's.
func (c *Client) SendEncoded(ctx context.Context, userID string, e *Encoded) (*Result, error) {
	var vs alexa.Violations
	addUserID(&vs, userID)
	if e == nil {
		vs.Add("message", "is required: an Encoded from messaging.Encode", nil)
	}
	if err := vs.Err("messaging.Send"); err != nil {
		return nil, err
	}
	return c.send(ctx, userID, e)
}

// send sends a checked message.
func (c *Client) send(ctx context.Context, userID string, e *Encoded) (*Result, error) {
	var body []byte
	var err error
	if c.json {
		// The data is already compact JSON: no second encoding pass.
		body = e.AppendJSON(make([]byte, 0, len(e.Data)+48))
	} else if body, err = c.codec.Marshal(e); err != nil {
		return nil, err
	}
	resp, err := c.caller.Do(ctx, &alexa.Request{Op: "messaging.Send", Method: http.MethodPost, Path: Path(userID), Scope: Scope, Body: body, AtMostOnce: c.atMostOnce})
	if err != nil {
		return nil, err
	}
	return &Result{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: resp.Attempts, MaybeDuplicated: resp.MaybeDuplicated}, nil
}
