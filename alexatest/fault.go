package alexatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/text"
)

// Fault is a failure the emulator injects into matching calls.
type Fault struct {
	// Path selects calls by path prefix, such as "/v1/skillmessages" or
	// TokenPath; empty matches every API and token call.
	Path string
	// Status, when set, is answered instead of serving the call, with an
	// Alexa error body, or LWA's {"error","error_description"} on
	// TokenPath (or Body, when set; sent as application/json when it is
	// JSON).
	Status int
	// Body replaces the error body of a forced Status.
	Body string
	// RetryAfter, when set, is sent as Retry-After (whole seconds, at
	// least 1, however large) with a forced Status.
	RetryAfter time.Duration
	// RetryAfterValue, when set, is sent verbatim as Retry-After with a
	// forced Status, taking precedence over RetryAfter: "1e7", an HTTP
	// date far ahead, or junk.
	RetryAfterValue string
	// Redirect, when set, answers with a redirect to this URL instead of
	// serving the call: Status is the redirect's status (301, 302, 303,
	// 307 or 308; default 307).
	Redirect string
	// Truncate serves the call, then answers its status (2xx for a
	// served call) with a Content-Length larger than the body written, and
	// closes the connection: the status line arrives, the body does not.
	Truncate bool
	// Echo answers Status (default 400) with the request echoed back:
	// request line, headers (Authorization included) and body, as a
	// misconfigured proxy might. The call is not served.
	Echo bool
	// Hang never answers: the call is held until the client gives up,
	// ClearFaults is called, or the Server closes. Give the client a
	// timeout.
	Hang bool
	// Latency delays the call (or the forced answer) by this much; it
	// ends early when the client gives up, ClearFaults is called or the
	// Server closes.
	Latency time.Duration
	// Drop closes the connection without an answer; the call is not served.
	Drop bool
	// Lose serves the call (an event or message is accepted and recorded)
	// and then closes the connection without an answer, as when a response
	// is lost on the way back. The client cannot tell it from Drop.
	Lose bool
	// Times is how many matching calls the fault hits; 0 means every one
	// until ClearFaults.
	Times int
	// Ratio, in (0,1), hits only that share of matching calls, chosen at
	// random (repeatably, by Options.Seed); 0 hits every one.
	Ratio float64

	// release ends Hang and Latency early; closed by ClearFaults.
	release chan struct{}
}

// InjectFault adds f; faults are tried in the order added and the first
// that hits a call applies.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f.release = make(chan struct{})
	e.faults = append(e.faults, &f)
}

// ClearFaults removes every fault and releases calls held by Hang or
// Latency.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.faults {
		close(f.release)
	}
	e.faults = nil
}

// takeFault counts the call and returns the fault that hits it, if any.
func (e *Emulator) takeFault(path string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[e.callKey(path)]++
	for i, f := range e.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		if f.Ratio > 0 && f.Ratio < 1 && e.rng.Float64() >= f.Ratio {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

// apply carries the fault out; it returns false when the call should
// still be served (latency only).
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, serve http.Handler) bool {
	// Read the body first: the server notices a client that hangs up
	// (and cancels r's context) only once the body has been consumed.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if f.Latency > 0 || f.Hang {
		var wait <-chan time.Time
		if !f.Hang {
			t := time.NewTimer(f.Latency)
			defer t.Stop()
			wait = t.C
		}
		select {
		case <-wait:
		case <-f.release:
			if f.Hang {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return true
		case <-r.Context().Done():
			return true
		}
	}
	if f.Lose {
		serve.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.Drop || f.Lose {
		hangUp(w)
		return true
	}
	switch {
	case f.Truncate:
		rec := httptest.NewRecorder()
		serve.ServeHTTP(rec, r)
		truncated(w, rec)
		return true
	case f.Redirect != "":
		status := f.Status
		if status == 0 {
			status = http.StatusTemporaryRedirect
		}
		w.Header().Set("Location", f.Redirect)
		w.WriteHeader(status)
		return true
	case f.Echo:
		status := f.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s %s %s\r\n", r.Method, r.URL.RequestURI(), r.Proto)
		r.Header.Write(w)
		io.WriteString(w, "\r\n")
		w.Write(body)
		return true
	}
	if f.Status == 0 {
		return false
	}
	switch {
	case f.RetryAfterValue != "":
		w.Header().Set("Retry-After", f.RetryAfterValue)
	case f.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.FormatInt(text.CeilSeconds(f.RetryAfter), 10))
	}
	if f.Body != "" {
		if json.Valid([]byte(f.Body)) {
			// As the real service labels its JSON: clients read it so.
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Body))
		return true
	}
	if strings.HasPrefix(r.URL.Path, TokenPath) || strings.EqualFold(r.URL.Path, TokenPath) {
		// LWA's own error shape, as its real answers have.
		lwaError(w, f.Status, lwaCode(f.Status), http.StatusText(f.Status)+" (injected by alexatest)")
		return true
	}
	apiError(w, f.Status, strconv.Itoa(f.Status), http.StatusText(f.Status)+" (injected by alexatest)", nil)
	return true
}

// lwaCode is the OAuth error code LWA answers with a status: what a
// client should make of a forced one.
func lwaCode(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_client"
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request"
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// truncated writes rec's status and headers with a Content-Length larger
// than the body that follows, then closes the connection.
func truncated(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	h := rec.Header().Clone()
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(rec.Body.Len()+64))
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(rec.Body.Bytes())
	buf.Flush()
}
