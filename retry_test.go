package alexa_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
)

func TestBackoffJitterWithinBounds(t *testing.T) {
	t.Parallel()
	p := &alexa.RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxRetryAfter: time.Minute}
	for attempt := 1; attempt <= 8; attempt++ {
		d := p.BaseDelay << (attempt - 1)
		if d > p.MaxDelay {
			d = p.MaxDelay
		}
		seen := map[time.Duration]bool{}
		for range 200 {
			wait, ok := p.Backoff(attempt, 0)
			if !ok {
				t.Fatalf("Backoff(%d, 0) ok = false", attempt)
			}
			if wait < d/2 || wait > d {
				t.Fatalf("Backoff(%d, 0) = %v, want within [%v, %v]", attempt, wait, d/2, d)
			}
			seen[wait] = true
		}
		if len(seen) < 2 {
			t.Errorf("Backoff(%d, 0) gave the same wait 200 times: no jitter", attempt)
		}
	}
}

func TestBackoffCappedByMaxDelay(t *testing.T) {
	t.Parallel()
	p := &alexa.RetryPolicy{MaxAttempts: 100, BaseDelay: time.Second, MaxDelay: 3 * time.Second}
	for _, attempt := range []int{3, 10, 30, 63, 64, 100, 1 << 20} {
		wait, ok := p.Backoff(attempt, 0)
		if !ok || wait < 1500*time.Millisecond || wait > 3*time.Second {
			t.Errorf("Backoff(%d, 0) = %v, %v; want within [1.5s, 3s] and ok", attempt, wait, ok)
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	t.Parallel()
	// A policy with only MaxAttempts set backs off as the default one does.
	p := &alexa.RetryPolicy{MaxAttempts: 3}
	wait, ok := p.Backoff(1, 0)
	base := alexa.DefaultRetryPolicy().BaseDelay
	if !ok || wait < base/2 || wait > base {
		t.Errorf("Backoff(1, 0) = %v, %v; want within [%v, %v]", wait, ok, base/2, base)
	}
	wait, _ = p.Backoff(50, 0)
	if max := alexa.DefaultRetryPolicy().MaxDelay; wait > max {
		t.Errorf("Backoff(50, 0) = %v, want at most the default MaxDelay %v", wait, max)
	}
	if _, ok := p.Backoff(1, alexa.DefaultRetryPolicy().MaxRetryAfter+time.Second); ok {
		t.Error("a zero MaxRetryAfter does not fall back to the default")
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	t.Parallel()
	p := &alexa.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: 10 * time.Second}
	tests := []struct {
		retryAfter time.Duration
		ok         bool
	}{
		{time.Second, true},
		{7500 * time.Millisecond, true}, // verbatim, not capped by MaxDelay
		{10 * time.Second, true},
		{10*time.Second + time.Millisecond, false},
		{time.Hour, false},
	}
	for _, tt := range tests {
		wait, ok := p.Backoff(2, tt.retryAfter)
		if wait != tt.retryAfter || ok != tt.ok {
			t.Errorf("Backoff(2, %v) = %v, %v; want %v, %v", tt.retryAfter, wait, ok, tt.retryAfter, tt.ok)
		}
	}
}

func TestShouldRetry(t *testing.T) {
	t.Parallel()
	p := alexa.DefaultRetryPolicy()
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	transport := &alexa.TransportError{Op: "op", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"429", ctx, &alexa.Error{StatusCode: 429}, true},
		{"500", ctx, &alexa.Error{StatusCode: 500}, true},
		{"503 wrapped", ctx, fmt.Errorf("x: %w", &alexa.Error{StatusCode: 503}), true},
		{"400", ctx, &alexa.Error{StatusCode: 400}, false},
		{"403", ctx, &alexa.Error{StatusCode: 403}, false},
		{"409", ctx, &alexa.Error{StatusCode: 409}, false},
		{"transport", ctx, transport, true},
		{"validation", ctx, &alexa.ValidationError{Op: "op"}, false},
		{"plain error", ctx, errors.New("x"), false},
		{"context canceled", ctx, context.Canceled, false},
		{"retryable but caller gave up", cancelled, &alexa.Error{StatusCode: 503}, false},
		{"transport but caller gave up", cancelled, transport, false},
	}
	for _, tt := range tests {
		if got := p.ShouldRetry(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: ShouldRetry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// onRetryRecorder counts OnRetry calls.
type onRetryRecorder struct {
	calls []time.Duration
	fn    func()
}

func (r *onRetryRecorder) policy(maxAttempts int) *alexa.RetryPolicy {
	return &alexa.RetryPolicy{
		MaxAttempts: maxAttempts, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: 2 * time.Hour,
		OnRetry: func(attempt int, err error, wait time.Duration) {
			r.calls = append(r.calls, wait)
			if r.fn != nil {
				r.fn()
			}
		},
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	e503 := &alexa.Error{StatusCode: 503}
	ctx := context.Background()

	t.Run("retries while attempts remain", func(t *testing.T) {
		var r onRetryRecorder
		p := r.policy(3)
		if !p.Wait(ctx, 1, e503, 0) || !p.Wait(ctx, 2, e503, 0) {
			t.Fatal("Wait = false before the attempts are used up")
		}
		if p.Wait(ctx, 3, e503, 0) {
			t.Error("Wait = true after the last attempt")
		}
		if len(r.calls) != 2 {
			t.Errorf("OnRetry called %d times, want 2", len(r.calls))
		}
	})

	t.Run("not for permanent errors", func(t *testing.T) {
		var r onRetryRecorder
		if r.policy(3).Wait(ctx, 1, &alexa.Error{StatusCode: 400}, 0) {
			t.Error("Wait = true for HTTP 400")
		}
		if len(r.calls) != 0 {
			t.Error("OnRetry called for a call that is not retried")
		}
	})

	t.Run("NoRetry", func(t *testing.T) {
		if alexa.NoRetry().Wait(ctx, 1, e503, 0) {
			t.Error("NoRetry.Wait = true")
		}
	})

	t.Run("Retry-After beyond MaxRetryAfter", func(t *testing.T) {
		var r onRetryRecorder
		p := r.policy(3)
		p.MaxRetryAfter = time.Minute
		if p.Wait(ctx, 1, &alexa.Error{StatusCode: 429}, time.Hour) {
			t.Error("Wait = true for a Retry-After longer than MaxRetryAfter")
		}
		if len(r.calls) != 0 {
			t.Error("OnRetry called for a call that is not retried")
		}
	})

	t.Run("wait past the deadline", func(t *testing.T) {
		var r onRetryRecorder
		dctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		if r.policy(3).Wait(dctx, 1, &alexa.Error{StatusCode: 429}, 90*time.Minute) {
			t.Error("Wait = true though the wait ends after the deadline")
		}
		if dctx.Err() != nil {
			t.Error("Wait slept until the deadline instead of giving up at once")
		}
		if len(r.calls) != 0 {
			t.Error("OnRetry called for a call that is not retried")
		}
	})

	t.Run("caller cancels during the wait", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// OnRetry runs just before the wait: cancel there, so the wait (an
		// hour) can only end through the context.
		r := onRetryRecorder{fn: cancel}
		if r.policy(3).Wait(cctx, 1, e503, time.Hour) {
			t.Error("Wait = true after the context was cancelled")
		}
		if len(r.calls) != 1 || r.calls[0] != time.Hour {
			t.Errorf("OnRetry waits = %v, want [1h]", r.calls)
		}
	})

	t.Run("OnRetry is told the Retry-After", func(t *testing.T) {
		var r onRetryRecorder
		if !r.policy(3).Wait(ctx, 1, e503, 5*time.Millisecond) {
			t.Fatal("Wait = false")
		}
		if len(r.calls) != 1 || r.calls[0] != 5*time.Millisecond {
			t.Errorf("OnRetry waits = %v, want [5ms]", r.calls)
		}
	})
}

func TestDefaultRetryPolicy(t *testing.T) {
	t.Parallel()
	p := alexa.DefaultRetryPolicy()
	if p.MaxAttempts != 3 || p.BaseDelay != 200*time.Millisecond || p.MaxDelay != 5*time.Second || p.MaxRetryAfter != time.Minute {
		t.Errorf("DefaultRetryPolicy() = %+v", p)
	}
	if n := alexa.NoRetry(); n.MaxAttempts > 1 {
		t.Errorf("NoRetry().MaxAttempts = %d", n.MaxAttempts)
	}
	// Each call hands out a new policy: changing one, or the one a Config
	// got by default, changes no other.
	p.MaxAttempts = 99
	alexa.NoRetry().MaxAttempts = 99
	cfg := alexa.Config{}.WithDefaults()
	cfg.Retry.MaxAttempts = 98
	if alexa.DefaultRetryPolicy().MaxAttempts != 3 || alexa.NoRetry().MaxAttempts != 1 || (alexa.Config{}).WithDefaults().Retry.MaxAttempts != 3 {
		t.Error("changing a policy handed out changed the next one")
	}
	if alexa.DefaultRetryPolicy() == alexa.DefaultRetryPolicy() || alexa.NoRetry() == alexa.NoRetry() {
		t.Error("two calls returned the same policy")
	}
}
