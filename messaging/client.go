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
	caller *alexa.Caller
}

// NewClient returns a client for cfg. Without cfg.Tokens it gets tokens
// from LWA with cfg's credentials, sharing their cache.
func NewClient(cfg alexa.Config) *Client {
	return &Client{caller: alexa.NewCaller(lwa.Configure(cfg))}
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
}

// Send sends m to the skill for userID (the seed's send_skill_message). It
// validates first and sends nothing when the message is invalid. An error
// is an *alexa.ValidationError, *alexa.Error, *alexa.TransportError or
// *lwa.Error.
func (c *Client) Send(ctx context.Context, userID string, m *Message) (*Result, error) {
	e, err := Encode(userID, m)
	if err != nil {
		return nil, err
	}
	var body []byte
	if _, isJSON := c.caller.Config().Codec.(alexa.JSONCodec); isJSON {
		// The data is already compact JSON: no second encoding pass.
		body = e.AppendJSON(make([]byte, 0, len(e.Data)+48))
	} else if body, err = c.caller.Config().Codec.Marshal(e); err != nil {
		return nil, err
	}
	resp, err := c.caller.Do(ctx, &alexa.Request{Op: "messaging.Send", Method: http.MethodPost, Path: Path(userID), Scope: Scope, Body: body})
	if err != nil {
		return nil, err
	}
	return &Result{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: resp.Attempts}, nil
}
