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
	neturl "net/url"
	"sync/atomic"
	"time"

	"github.com/alexa-oos/alexa/internal/ctxshare"
)

// Caller is the one call path every API client shares: it attaches the
// bearer token of the call's scope, sends with the HTTPClient, maps the
// status to a result or an *Error, retries by the RetryPolicy, and on
// 401/403 invalidates the token and retries once with a fresh one.
type Caller struct {
	cfg  Config
	http HTTPClient // cfg.HTTPClient, refusing redirects
	// Header values shared by every request, built once: a transport may
	// replace them but never writes into them.
	ua, accept, contentType []string
	auth                    atomic.Pointer[authHeader] // of the last token used
	// deadlines bound calls made with a context that never ends by the
	// HTTP client's Timeout, shared rather than one per call; nil when
	// the client is not an *http.Client with a Timeout.
	deadlines *ctxshare.Deadlines
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

// NewCaller returns a Caller for cfg, which must have Tokens set; unset
// fields take their defaults.
func NewCaller(cfg Config) *Caller {
	cfg = cfg.WithDefaults()
	if cfg.Tokens == nil {
		panic("alexa: NewCaller needs Config.Tokens")
	}
	c := &Caller{cfg: cfg, http: NoRedirects(cfg.HTTPClient), ua: []string{cfg.UserAgent()}, accept: []string{"application/json"}, contentType: []string{cfg.Codec.ContentType()}}
	if hc, ok := cfg.HTTPClient.(*http.Client); ok && hc.Timeout > 0 {
		c.deadlines = ctxshare.New(context.Background(), hc.Timeout)
	}
	return c
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
	// BodyErr is a failure reading the body after a 2xx status, nil
	// normally: the call succeeded (the status line said so) but Body may
	// be incomplete. The call is not retried.
	BodyErr error
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
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	if c.deadlines != nil && ctx.Done() == nil {
		// A context that never ends: the client's Timeout bounds the
		// call, through a deadline shared with the calls starting about
		// now (net/http adds none of its own then).
		ctx = ctxshare.Join(c.deadlines.Context(time.Now()), ctx)
	}
	// Whether the request was written in full tells a failure the server
	// never saw from one whose outcome is unknown.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				sent.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, r.Method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Op, err)
	}
	req.Header["Authorization"] = c.authorization(token)
	req.Header["User-Agent"] = c.ua
	req.Header["Accept"] = c.accept
	if r.Body != nil {
		req.Header["Content-Type"] = c.contentType
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		te := c.transportError(r, url, sent.Load(), err, token)
		c.log(ctx, r, url, 0, start, te)
		return nil, te
	}
	if final := resp.Request; final != nil && final.URL != nil && (final.Method != req.Method || final.URL != req.URL && final.URL.String() != req.URL.String()) {
		// A configured client followed a redirect despite the policy:
		// whatever it got is not the answer to this call.
		resp.Body.Close()
		te := c.transportError(r, url, true, fmt.Errorf("%w: the HTTP client followed one to %s %s", ErrRedirected, final.Method, final.URL.Redacted()), token)
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

// secrets returns what must never appear in an error: the credentials and
// the bearer token sent.
func (c *Caller) secrets(token string) []string {
	return []string{c.cfg.Credentials.ClientSecret, c.cfg.Credentials.RefreshToken, token}
}

// transportError builds the *TransportError of a failed attempt. Its text
// names the method and URL once (a *url.Error would repeat them) and is
// redacted.
func (c *Caller) transportError(r *Request, url string, sent bool, err error, token string) *TransportError {
	return &TransportError{Op: r.Op, Method: r.Method, URL: url, Sent: sent, Err: RedactError(unwrapURLError(err), c.secrets(token)...)}
}

// redactError removes credentials a server echoed from e.
func (c *Caller) redactError(e *Error, token string) {
	secrets := c.secrets(token)
	if e.Body = RedactBytes(e.Body, secrets...); len(e.Body) > MaxErrorBody {
		e.Body = e.Body[:MaxErrorBody]
	}
	e.Message = Redact(e.Message, secrets...)
	e.Code = Redact(e.Code, secrets...)
	e.Header = RedactHeader(e.Header, secrets...)
}

// unwrapURLError returns the cause of a *url.Error, whose text repeats
// the method and URL that a TransportError already names.
func unwrapURLError(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
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
