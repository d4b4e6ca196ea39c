package alexa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// Caller is the one call path every API client shares: it attaches the
// bearer token of the call's scope, sends with the HTTPClient, maps the
// status to a result or an *Error, retries by the RetryPolicy, and on
// 401/403 invalidates the token and retries once with a fresh one.
type Caller struct {
	cfg Config
	// Header values shared by every request, built once: a transport may
	// replace them but never writes into them.
	ua, accept, contentType []string
}

// NewCaller returns a Caller for cfg, which must have Tokens set; unset
// fields take their defaults.
func NewCaller(cfg Config) *Caller {
	cfg = cfg.WithDefaults()
	if cfg.Tokens == nil {
		panic("alexa: NewCaller needs Config.Tokens")
	}
	return &Caller{cfg: cfg, ua: []string{cfg.UserAgent()}, accept: []string{"application/json"}, contentType: []string{cfg.Codec.ContentType()}}
}

// Config returns the configuration the Caller uses, defaults applied.
func (c *Caller) Config() Config { return c.cfg }

// Request is one API call.
type Request struct {
	// Op names the call in errors and logs, such as "messaging.Send".
	Op string
	// Method is the HTTP method.
	Method string
	// Path is the escaped path below the endpoint, starting with "/".
	Path string
	// Scope is the LWA scope of the bearer token.
	Scope string
	// Body is the encoded request body, or nil.
	Body []byte
	// AtMostOnce stops the call, instead of retrying it, after a transport
	// failure that came once the request was written in full: the server
	// may have acted on it. The error then matches ErrOutcomeUnknown. By
	// default such failures are retried (at-least-once delivery).
	AtMostOnce bool
}

// Response is a successful call's response.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the response body, at most MaxErrorBody bytes.
	Body []byte
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// MaybeDuplicated is true when an earlier attempt of this call failed
	// after its request was written in full: the server may have acted on
	// both, so the effect may have happened twice.
	MaybeDuplicated bool
}

// Do performs r. A 2xx status is success; any other status is an *Error,
// a failure without response a *TransportError, and a token failure is
// returned as the token provider reported it.
func (c *Caller) Do(ctx context.Context, r *Request) (*Response, error) {
	url := c.cfg.Endpoint + r.Path
	reauthed := false
	attempts := 0
	sentBefore := false // an earlier attempt may have reached the server
	for retry := 1; ; {
		attempts++
		token, err := c.cfg.Tokens.Token(ctx, r.Scope)
		if err != nil {
			return nil, err
		}
		resp, err := c.once(ctx, r, url, token)
		if err == nil {
			resp.Attempts = attempts
			resp.MaybeDuplicated = sentBefore
			return resp, nil
		}
		var retryAfter time.Duration
		var ae *Error
		switch {
		case errors.As(err, &ae):
			ae.Attempts = attempts
			retryAfter = ae.RetryAfter
			if (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden) && !reauthed {
				// The cached token may have been revoked or expired early:
				// one more try with a fresh token, outside the retry budget.
				reauthed = true
				c.cfg.Tokens.Invalidate(r.Scope, token)
				c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "alexa: token refused, fetching a new one", slog.String("op", r.Op), slog.Int("status", ae.StatusCode))
				continue
			}
		default:
			var te *TransportError
			if errors.As(err, &te) {
				te.Attempts = attempts
				if te.Sent {
					if r.AtMostOnce || ctx.Err() != nil {
						// The caller must learn that the outcome is
						// unknown, even when it gave up itself.
						return nil, err
					}
					sentBefore = true
				}
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", r.Op, ctx.Err())
			}
		}
		if !c.cfg.Retry.Wait(ctx, retry, err, retryAfter) {
			return nil, err
		}
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "alexa: retrying", slog.String("op", r.Op), slog.Int("attempt", attempts+1), slog.String("error", err.Error()))
		retry++
	}
}

// once makes one HTTP attempt.
func (c *Caller) once(ctx context.Context, r *Request, url, token string) (*Response, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Op, err)
	}
	req.Header["Authorization"] = []string{"Bearer " + token}
	req.Header["User-Agent"] = c.ua
	req.Header["Accept"] = c.accept
	if r.Body != nil {
		req.Header["Content-Type"] = c.contentType
	}
	// Whether the request was written in full tells a failure the server
	// never saw from one whose outcome is unknown.
	var sent atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				sent.Store(true)
			}
		},
	}))
	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.log(ctx, r, url, 0, start, err)
		return nil, &TransportError{Op: r.Op, Method: r.Method, URL: url, Sent: sent.Load(), Err: err}
	}
	data, err := ReadBody(resp.Body)
	c.log(ctx, r, url, resp.StatusCode, start, err)
	if err != nil {
		return nil, &TransportError{Op: r.Op, Method: r.Method, URL: url, Sent: true, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
	return nil, DecodeError(r.Op, resp.StatusCode, resp.Header, data)
}

func (c *Caller) log(ctx context.Context, r *Request, url string, status int, start time.Time, err error) {
	if !c.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", r.Op), slog.String("method", r.Method), slog.String("url", url), slog.Int("status", status), slog.Duration("took", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "alexa: http", attrs...)
}

// ReadBody reads at most MaxErrorBody bytes of body, discards a bounded
// remainder so the connection can be reused, and closes it.
func ReadBody(body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, MaxErrorBody))
	if err == nil {
		_, _ = io.CopyN(io.Discard, body, 1<<20)
	}
	return data, err
}
