package datastore

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/transport"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/lwa"
)

// Scope is the LWA scope of the DataStore API, as Amazon's
// DatastoreServiceClient asks for it.
const Scope = lwa.ScopeDataStore

// Paths of the DataStore API, as Amazon's DatastoreServiceClient calls them
// (commands_v1, queued_result_v1, cancel_commands_v1).
const (
	// PathCommands takes POST with a Request.
	PathCommands = "/v1/datastore/commands"
	// PathQueue prefixes GET {queuedResultId} and POST {queuedResultId}/cancel.
	PathQueue = "/v1/datastore/queue/"
	// CancelSuffix follows the queuedResultId of a cancel call.
	CancelSuffix = "/cancel"
)

// Names of the calls, in errors.
const (
	opCommands = "datastore.Commands"
	opQueue    = "datastore.QueuedResult"
	opCancel   = "datastore.Cancel"
)

// QueuePath returns the path of the queued results of id, escaped.
func QueuePath(id string) string { return PathQueue + httpx.PathEscape(id) }

// CancelPath returns the path that cancels the queued commands of id.
func CancelPath(id string) string { return QueuePath(id) + CancelSuffix }

// Client sends DataStore commands to customers' devices, follows queued
// deliveries and cancels them. It is safe for concurrent use.
type Client struct {
	caller *transport.Caller
	limits Limits
}

// ClientOption changes a Client.
type ClientOption func(*Client)

// WithLimits checks requests against l instead of DefaultLimits().
func WithLimits(l Limits) ClientOption { return func(c *Client) { c.limits = l.WithDefaults() } }

// NewClient returns a client for cfg. Without cfg.Tokens it makes an LWA
// Provider of its own for cfg's credentials; to share tokens with other
// clients, set cfg.Tokens = lwa.NewProvider(cfg) first. Request and
// response bodies are encoded and decoded with the Config's Codec.
func NewClient(cfg alexa.Config, opts ...ClientOption) *Client {
	if cfg.Tokens == nil {
		cfg.Tokens = lwa.NewProvider(cfg)
	}
	c := &Client{caller: transport.New(cfg), limits: DefaultLimits()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Option changes a commands request.
type Option func(*Request)

// AttemptDeliveryUntil makes Alexa keep trying to deliver to offline
// devices until t. Without it, Alexa applies its own default.
func AttemptDeliveryUntil(t time.Time) Option {
	return func(r *Request) { r.AttemptDeliveryUntil = FormatTime(t) }
}

// NewRequest builds the request that Commands sends.
func NewRequest(target Target, cmds []Command, opts ...Option) *Request {
	r := &Request{Commands: cmds, Target: target}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Commands sends cmds to target (Amazon's commands_v1). Every device runs
// the commands in order. It checks the request first and sends nothing
// when it breaks a rule.
//
// A nil error means Alexa took the request: the outcome per device is in
// the Response's Results, and Failed lists the devices that need
// attention. Offline devices are answered DEVICE_UNAVAILABLE; with a
// QueuedResultID, Alexa keeps trying them until attemptDeliveryUntil.
//
// An error matches, with errors.As, an *alexa.ValidationError,
// *alexa.Error, *alexa.TransportError or *lwa.Error; match
// ErrPayloadTooLarge, ErrSupportRequired, ErrTooManyTargets and
// alexa.ErrThrottled with errors.Is.
func (c *Client) Commands(ctx context.Context, target Target, cmds []Command, opts ...Option) (*Response, error) {
	return c.Send(ctx, NewRequest(target, cmds, opts...))
}

// Send is Commands with a whole request, such as one read from a file.
func (c *Client) Send(ctx context.Context, r *Request) (*Response, error) {
	if err := c.limits.Validate(r); err != nil {
		return nil, err
	}
	body, err := c.caller.Config().Codec.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opCommands, err)
	}
	resp, err := c.caller.Do(ctx, &transport.Request{Op: opCommands, Method: http.MethodPost, Path: PathCommands, Scope: Scope, Body: body})
	if err != nil {
		return nil, wrap(err)
	}
	out, err := decodeResponse(c.caller.Config().Codec, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %w", opCommands, resp.StatusCode, err)
	}
	out.Attempts = resp.Attempts
	return out, nil
}

// QueuedResultPage returns one page of the deliveries of the queued
// request id that have not succeeded (Amazon's queued_result_v1). An
// unknown or expired id matches alexa.ErrNotFound.
func (c *Client) QueuedResultPage(ctx context.Context, id string, p Page) (*QueuedResults, error) {
	if err := c.limits.checkPage(opQueue, id, p); err != nil {
		return nil, err
	}
	// Query parameters in the order Amazon's SDK sends them.
	path := QueuePath(id)
	var q []string
	if p.MaxResults > 0 {
		q = append(q, "maxResults="+strconv.Itoa(p.MaxResults))
	}
	if p.NextToken != "" {
		q = append(q, "nextToken="+httpx.PathEscape(p.NextToken)) // "+" and "&" survive
	}
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	resp, err := c.caller.Do(ctx, &transport.Request{Op: opQueue, Method: http.MethodGet, Path: path, Scope: Scope})
	if err != nil {
		return nil, wrap(err)
	}
	out, err := decodeQueuedResults(c.caller.Config().Codec, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %w", opQueue, resp.StatusCode, err)
	}
	return out, nil
}

// QueuedResult iterates over every delivery of the queued request id that
// has not succeeded, fetching page after page as the loop goes on. An
// error ends the iteration: it is yielded once, with a zero DispatchResult.
//
//	for r, err := range client.QueuedResult(ctx, id) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(r.DeviceID, r.Type)
//	}
func (c *Client) QueuedResult(ctx context.Context, id string) iter.Seq2[DispatchResult, error] {
	return c.QueuedResultPages(ctx, id, 0)
}

// QueuedResultPages is QueuedResult with pages of pageSize results (0:
// the server's default).
func (c *Client) QueuedResultPages(ctx context.Context, id string, pageSize int) iter.Seq2[DispatchResult, error] {
	return func(yield func(DispatchResult, error) bool) {
		p := Page{MaxResults: pageSize}
		seen := map[string]bool{}
		for {
			page, err := c.QueuedResultPage(ctx, id, p)
			if err != nil {
				yield(DispatchResult{}, err)
				return
			}
			for _, r := range page.Items {
				if !yield(r, nil) {
					return
				}
			}
			next := page.PaginationContext.NextToken
			if next == "" {
				return
			}
			if seen[next] {
				// A server that hands out a token twice would loop forever.
				yield(DispatchResult{}, fmt.Errorf("%s: the server repeated nextToken %q", opQueue, next))
				return
			}
			seen[next] = true
			p.NextToken = next
		}
	}
}

// Cancel stops the queued deliveries of id that are still pending
// (Amazon's cancel_commands_v1). When nothing is left to cancel the error
// matches alexa.ErrNotFound, and ErrCommandsDelivered too when every
// delivery was made.
func (c *Client) Cancel(ctx context.Context, id string) error {
	if id == "" {
		return validate.Violations{{Field: "queuedResultId", Rule: "is required: the queuedResultId a commands call returned"}}.Err(opCancel)
	}
	_, err := c.caller.Do(ctx, &transport.Request{Op: opCancel, Method: http.MethodPost, Path: CancelPath(id), Scope: Scope})
	return wrap(err)
}

// decodeResponse decodes a commands response body with codec. It fails on
// a body that is not a JSON object, never panics, and keeps unknown result
// types as they are.
func decodeResponse(codec alexa.Codec, body []byte) (*Response, error) {
	var r Response
	if err := decodeObject(codec, body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// decodeQueuedResults decodes a queued-results response body with codec.
// It fails on a body that is not a JSON object and never panics.
func decodeQueuedResults(codec alexa.Codec, body []byte) (*QueuedResults, error) {
	var r QueuedResults
	if err := decodeObject(codec, body, &r); err != nil {
		return nil, err
	}
	if r.PaginationContext.TotalCount < 0 {
		return nil, fmt.Errorf("response: paginationContext.totalCount is negative (%d)", r.PaginationContext.TotalCount)
	}
	return &r, nil
}

func decodeObject(codec alexa.Codec, body []byte, v any) error {
	if codec == nil {
		codec = alexa.JSONCodec{}
	}
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" || trimmed[0] != '{' {
		return fmt.Errorf("response: want a JSON object, got %q", text.OneLine(trimmed, text.SnippetBytes))
	}
	if err := codec.Unmarshal(body, v); err != nil {
		return fmt.Errorf("response: %v", err)
	}
	return nil
}
