package alexatest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault is a failure the emulator injects into matching calls.
type Fault struct {
	// Path selects calls by path prefix, such as "/v1/skillmessages" or
	// TokenPath; empty matches every API and token call.
	Path string
	// Status, when set, is answered instead of serving the call, with an
	// Alexa error body (or Body, when set).
	Status int
	// Body replaces the error body of a forced Status.
	Body string
	// RetryAfter, when set, is sent as Retry-After (whole seconds, at
	// least 1) with a forced Status.
	RetryAfter time.Duration
	// Latency delays the call (or the forced answer) by this much.
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
}

// InjectFault adds f; faults are tried in the order added and the first
// that hits a call applies.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
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
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Lose {
		serve.ServeHTTP(httptest.NewRecorder(), r)
	}
	if f.Drop || f.Lose {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if f.Body != "" {
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Body))
		return true
	}
	apiError(w, f.Status, strconv.Itoa(f.Status), http.StatusText(f.Status)+" (injected by alexatest)", nil)
	return true
}
