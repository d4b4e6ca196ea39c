// Package transport is the one call path every API client of alexa-oos
// shares. The clients encode their bodies with the Config's Codec and hand
// over bytes; the call path attaches the bearer token of the call's scope,
// sends with the configured HTTPClient, maps the status to a result or an
// *alexa.Error, retries by the RetryPolicy, and on 401/403 invalidates the
// token and retries once with a fresh one.
package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/ctxshare"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/redact"
)

// Caller makes the calls of one API client. It is safe for concurrent use.
type Caller struct {
	cfg  alexa.Config
	http httpx.Doer // cfg.HTTPClient, refusing redirects
	// Header values shared by every request, built once: a transport may
	// replace them but never writes into them.
	ua, contentType []string
	auth            atomic.Pointer[authHeader] // of the last token used
	// rt is the Transport of an *http.Client without cookie jar, called
	// directly (see httpx.Direct); nil: calls go through http.
	rt http.RoundTripper
	// timeout is the *http.Client's Timeout, applied here when rt is
	// called directly.
	timeout time.Duration
	// refreshed is the token fetched after the last refusal, and when.
	refreshed atomic.Pointer[refreshedToken]
	// deadlines bound calls made with a context that never ends by the
	// HTTP client's Timeout, shared rather than one per call; nil when
	// the client is not an *http.Client with a Timeout.
	deadlines *ctxshare.Deadlines
}

// refreshedToken is a token fetched because the one before it was
// refused.
type refreshedToken struct {
	token string
	at    time.Time
}

// refusedTokenAge is how long a token fetched after a refusal is not
// replaced for another 403. Proactive Events answers 403 both for a token
// it does not take and for a Unicast event to a user who has not
// subscribed: a fresh token refused again is the user's refusal, and
// fetching yet another for every such user would flood LWA.
const refusedTokenAge = time.Minute

// freshlyRefused reports whether token was fetched after a refusal less
// than refusedTokenAge ago: another 403 is then not the token's fault.
func (c *Caller) freshlyRefused(token string) bool {
	f := c.refreshed.Load()
	return f != nil && f.token == token && time.Since(f.at) < refusedTokenAge
}

// authHeader is the Authorization header value of a token.
type authHeader struct {
	token string
	value []string
}

// authorization returns the Authorization header value for token, built
// once per token rather than once per request.
func (c *Caller) authorization(token string) []string {
	if a := c.auth.Load(); a != nil && a.token == token {
		return a.value
	}
	a := &authHeader{token: token, value: []string{"Bearer " + token}}
	c.auth.Store(a)
	return a.value
}

// New returns a Caller for cfg; unset fields take their defaults. The API
// clients set cfg.Tokens first (an LWA provider when the user gave none):
// a Caller without a token provider is a programming error, so New panics.
func New(cfg alexa.Config) *Caller {
	cfg = cfg.WithDefaults()
	if cfg.Tokens == nil {
		panic("transport.New needs Config.Tokens")
	}
	c := &Caller{cfg: cfg, http: httpx.NoRedirects(cfg.HTTPClient), rt: httpx.Direct(cfg.HTTPClient), ua: []string{UserAgent(cfg)}, contentType: []string{cfg.Codec.ContentType()}}
	if hc, ok := cfg.HTTPClient.(*http.Client); ok && hc.Timeout > 0 {
		c.timeout = hc.Timeout
		c.deadlines = ctxshare.New(context.Background(), hc.Timeout)
	}
	return c
}

// UserAgent returns the User-Agent header value of every request, API
// call or token request: "alexa-oos-go/<version> go/<runtime version>"
// and cfg.UserAgentSuffix, if any.
func UserAgent(cfg alexa.Config) string {
	ua := "alexa-oos-go/" + alexa.Version + " go/" + runtime.Version()
	if cfg.UserAgentSuffix != "" {
		ua += " " + cfg.UserAgentSuffix
	}
	return ua
}

// Config returns the configuration the Caller uses, defaults applied.
func (c *Caller) Config() alexa.Config { return c.cfg }

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
	// may have acted on it. The error then matches alexa.ErrOutcomeUnknown. By
	// default such failures are retried (at-least-once delivery).
	AtMostOnce bool
}

// Response is a successful call's response.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the response body, at most alexa.MaxErrorBody bytes.
	Body []byte
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// BodyErr is a failure reading the body after a 2xx status, nil
	// normally: the call succeeded (the status line said so) but Body may
	// be incomplete. The call is not retried.
	BodyErr error
	// MaybeDuplicated is true when an earlier attempt of this call failed
	// after its request was written in full: the server may have acted on
	// both, so the effect may have happened twice.
	MaybeDuplicated bool
}

// Do performs r. A 2xx status is success; any other status is an
// *alexa.Error, a failure without response an *alexa.TransportError, and a
// token failure the token provider's error, wrapped with r.Op.
func (c *Caller) Do(ctx context.Context, r *Request) (*Response, error) {
	url := c.cfg.Endpoint + r.Path
	reauthed, refetched := false, false
	attempts := 0
	sentBefore := false // an earlier attempt may have reached the server
	for retry := 1; ; {
		attempts++
		token, err := c.cfg.Tokens.Token(ctx, r.Scope)
		if err != nil {
			// Which call needed the token: a log line shows it.
			return nil, fmt.Errorf("%s: %w", r.Op, err)
		}
		if refetched {
			// The token fetched because the last one was refused.
			c.refreshed.Store(&refreshedToken{token: token, at: time.Now()})
			refetched = false
		}
		resp, err := c.once(ctx, r, url, token)
		if err == nil {
			resp.Attempts = attempts
			resp.MaybeDuplicated = sentBefore
			return resp, nil
		}
		var retryAfter time.Duration
		var ae *alexa.Error
		switch {
		case errors.As(err, &ae):
			ae.Attempts = attempts
			retryAfter = ae.RetryAfter
			if errors.Is(ae, alexa.ErrUnauthorized) && (ae.StatusCode == http.StatusUnauthorized || !c.freshlyRefused(token)) && !reauthed {
				// The cached token may have been revoked or expired early:
				// one more try with a fresh token, outside the retry budget.
				reauthed, refetched = true, true
				c.cfg.Tokens.Invalidate(r.Scope, token)
				c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "alexa: token refused, fetching a new one", slog.String("op", r.Op), slog.Int("status", ae.StatusCode))
				continue
			}
		default:
			var te *alexa.TransportError
			if errors.As(err, &te) {
				te.Attempts = attempts
				if te.Sent {
					if ctx.Err() != nil {
						// The caller must learn that the outcome is
						// unknown, even when it gave up itself; and
						// that it gave up (net/http reports the
						// context's cause instead).
						if !errors.Is(te.Err, ctx.Err()) {
							te.Err = fmt.Errorf("%w: %w", ctx.Err(), te.Err)
						}
						return nil, err
					}
					if r.AtMostOnce {
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
	a := &attempt{}
	a.trace.WroteRequest = a.wroteRequest
	var body io.Reader
	if r.Body != nil {
		a.body.Reset(r.Body)
		body = &a.body
	}
	if c.deadlines != nil {
		if ctx.Done() == nil {
			// A context that never ends: the client's Timeout bounds the
			// call, through a deadline shared with the calls starting
			// about now (net/http adds none of its own then). A bare
			// Background carries no values to keep.
			if shared := c.deadlines.Context(time.Now()); ctx == context.Background() {
				ctx = shared
			} else {
				ctx = ctxshare.Join(shared, ctx)
			}
		} else if c.rt != nil {
			// The caller's context, bounded by the Timeout as
			// http.Client would, body included (once reads it all).
			if end := time.Now().Add(c.timeout); !deadlineBefore(ctx, end) {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, end)
				defer cancel()
			}
		}
	}
	ctx = httptrace.WithClientTrace(ctx, &a.trace)
	req, err := http.NewRequestWithContext(ctx, r.Method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Op, err)
	}
	req.Header["Authorization"] = c.authorization(token)
	req.Header["User-Agent"] = c.ua
	if r.Body != nil {
		req.Header["Content-Type"] = c.contentType
	}
	start := time.Now()
	resp, err := c.send(req)
	if err != nil {
		te := c.transportError(r, url, a.sent.Load(), err, token)
		c.log(ctx, r, url, 0, start, te)
		return nil, te
	}
	if final := resp.Request; final != nil && final.URL != nil && (final.Method != req.Method || final.URL != req.URL && final.URL.String() != req.URL.String()) {
		// A configured client followed a redirect despite the policy:
		// whatever it got is not the answer to this call.
		resp.Body.Close()
		te := c.transportError(r, url, true, fmt.Errorf("%w: the HTTP client followed one to %s %s", alexa.ErrRedirected, final.Method, final.URL.Redacted()), token)
		c.log(ctx, r, url, resp.StatusCode, start, te)
		return nil, te
	}
	var data []byte
	var readErr error
	if resp.ContentLength == 0 {
		// Nothing to read, as with a 202: no buffer either.
		resp.Body.Close()
	} else {
		data, readErr = ReadBody(resp.Body)
	}
	if readErr != nil {
		readErr = c.transportError(r, url, true, readErr, token)
	}
	c.log(ctx, r, url, resp.StatusCode, start, readErr)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The status line said the call succeeded: a body lost after it
		// must neither fail nor repeat the call.
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data, BodyErr: readErr}, nil
	}
	// A failure status stands even when its body was cut short.
	e := DecodeError(r.Op, resp.StatusCode, resp.Header, data)
	c.redactError(e, token)
	return nil, e
}

// attempt is what one HTTP attempt needs beside its request, in one
// allocation.
type attempt struct {
	body bytes.Reader
	// sent tells a failure the server never saw from one whose outcome
	// is unknown: whether the request was written in full.
	sent  atomic.Bool
	trace httptrace.ClientTrace
}

func (a *attempt) wroteRequest(i httptrace.WroteRequestInfo) {
	if i.Err == nil {
		a.sent.Store(true)
	}
}

// deadlineBefore reports whether ctx ends by t.
func deadlineBefore(ctx context.Context, t time.Time) bool {
	d, ok := ctx.Deadline()
	return ok && !d.After(t)
}

// send sends req with the Transport directly when it can, else with the
// HTTP client.
func (c *Caller) send(req *http.Request) (*http.Response, error) {
	if c.rt == nil {
		return c.http.Do(req)
	}
	return httpx.RoundTrip(c.rt, req)
}

// secrets returns what must never appear in an error: the credentials and
// the bearer token sent.
func (c *Caller) secrets(token string) []string {
	return []string{c.cfg.Credentials.ClientSecret, c.cfg.Credentials.RefreshToken, token}
}

// transportError builds the *alexa.TransportError of a failed attempt. Its text
// names the method and URL once (a *url.Error would repeat them) and is
// redacted.
func (c *Caller) transportError(r *Request, url string, sent bool, err error, token string) *alexa.TransportError {
	return &alexa.TransportError{Op: r.Op, Method: r.Method, URL: url, Sent: sent, Err: redact.Error(httpx.UnwrapURLError(err), c.secrets(token)...)}
}

// redactError removes credentials a server echoed from e.
func (c *Caller) redactError(e *alexa.Error, token string) {
	secrets := c.secrets(token)
	if e.Body = redact.Bytes(e.Body, secrets...); len(e.Body) > alexa.MaxErrorBody {
		e.Body = e.Body[:alexa.MaxErrorBody]
	}
	e.Message = redact.String(e.Message, secrets...)
	e.Code = redact.String(e.Code, secrets...)
	e.Header = redact.Header(e.Header, secrets...)
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

// ReadBody reads at most alexa.MaxErrorBody bytes of body, discards a bounded
// remainder so the connection can be reused, and closes it.
func ReadBody(body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, alexa.MaxErrorBody))
	if err == nil {
		_, _ = io.CopyN(io.Discard, body, 1<<20)
	}
	return data, err
}

// DecodeError builds the *alexa.Error for a response with a failure status and
// its (already bounded) body. It never fails: a body that is not Alexa's
// JSON error leaves Code and Message empty and is kept in Body.
//
// Error bodies are read with encoding/json whatever the Config's Codec:
// they come from Alexa, but also from proxies and CDNs, and are read
// leniently (a code as number or string, or DataStore's "type").
func DecodeError(op string, status int, header http.Header, body []byte) *alexa.Error {
	e := &alexa.Error{Op: op, StatusCode: status, Header: header, Body: body}
	if len(body) > alexa.MaxErrorBody {
		e.Body = body[:alexa.MaxErrorBody]
	}
	e.Code, e.Message = decodeCodeMessage(body)
	e.Reason = reason(e.Code, e.Message)
	if header != nil {
		e.RetryAfter = httpx.ParseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}

// reason returns the symbolic reason of an error body: code when it is a
// word, else the UPPER_CASE word before a colon that starts message.
func reason(code, message string) string {
	if isReason(code) {
		return code
	}
	if word, _, ok := strings.Cut(message, ":"); ok && isReason(word) {
		return word
	}
	return ""
}

// isReason reports whether s is a word such as USER_NOT_SUBSCRIBED:
// capital letters, digits and underscores, starting with a letter.
func isReason(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// decodeCodeMessage reads {"code": 123 | "X", "message": "..."} leniently,
// or {"type": "X", "message": "..."} as DataStore answers: type stands in
// for a missing code.
func decodeCodeMessage(body []byte) (code, message string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return "", ""
	}
	var v struct {
		Code    json.RawMessage `json:"code"`
		Type    json.RawMessage `json:"type"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	code = jsonScalar(v.Code)
	if code == "" {
		code = jsonScalar(v.Type)
	}
	return code, jsonScalar(v.Message)
}

// jsonScalar renders a JSON string, number or boolean as text.
func jsonScalar(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	return ""
}
