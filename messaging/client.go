package messaging

import (
	"context"
	"fmt"
	"net/http"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/internal/transport"
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
	caller     *transport.Caller
	codec      alexa.Codec
	isJSON     bool // the default codec: the body is written without a second pass
	atMostOnce bool
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

// NewClient returns a client for cfg. Without cfg.Tokens it makes an LWA
// Provider of its own for cfg's credentials; to share tokens with other
// clients, set cfg.Tokens = lwa.NewProvider(cfg) first. By default it
// delivers at least once (see the package documentation); AtMostOnce
// changes that.
func NewClient(cfg alexa.Config, opts ...Option) *Client {
	if cfg.Tokens == nil {
		cfg.Tokens = lwa.NewProvider(cfg)
	}
	c := &Client{caller: transport.New(cfg)}
	c.codec = c.caller.Config().Codec
	_, c.isJSON = c.codec.(alexa.JSONCodec)
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
// nothing when the message is invalid: the userId must be given, be valid
// UTF-8 of at most 512 bytes without control characters, and have no "."
// or ".." segment; ExpiresAfterSeconds must be 0 or 60 to 86400; Data must
// encode as a JSON object of at most MaxDataBytes. Data and the body are
// encoded with the Config's Codec. An error matches, with errors.As, an
// *alexa.ValidationError, *alexa.Error, *alexa.TransportError or
// *lwa.Error; one that matches alexa.ErrOutcomeUnknown may have been
// delivered.
func (c *Client) Send(ctx context.Context, userID string, m *Message) (*Result, error) {
	if m == nil {
		m = &Message{}
	}
	var marshal func(any) ([]byte, error)
	if !c.isJSON {
		marshal = c.codec.Marshal
	}
	e, err := skillmsg.Encode(userID, m.Data, m.ExpiresAfterSeconds, marshal)
	if err != nil {
		return nil, err
	}
	var body []byte
	if c.isJSON {
		// The data is already compact JSON: no second encoding pass.
		body = e.AppendJSON(make([]byte, 0, len(e.Data)+48))
	} else if body, err = c.codec.Marshal(e); err != nil {
		return nil, fmt.Errorf("%s: %w", skillmsg.Op, err)
	}
	resp, err := c.caller.Do(ctx, &transport.Request{Op: skillmsg.Op, Method: http.MethodPost, Path: skillmsg.Path(userID), Scope: Scope, Body: body, AtMostOnce: c.atMostOnce})
	if err != nil {
		return nil, err
	}
	return &Result{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: resp.Attempts, MaybeDuplicated: resp.MaybeDuplicated}, nil
}
