package alexa

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy says which failed calls are retried and how long to wait.
// A call is retried on HTTP 429, on 5xx and on transport errors, waiting
// the server's Retry-After when it gives one and a jittered exponential
// backoff otherwise, and never past the caller's context deadline.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// 1 or less switches retries off.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles on each
	// retry, with full jitter. Default 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff (not Retry-After). Default 5s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a longer one ends
	// the call with the error, whose RetryAfter tells the caller when to
	// come back. Default 60s.
	MaxRetryAfter time.Duration
	// OnRetry, if set, is told of every retry before its wait: the attempt
	// that failed, its error and the wait. Bulk senders use it to slow
	// every worker when one is throttled.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// Defaults of a RetryPolicy's zero fields.
const (
	defaultAttempts      = 3
	defaultBaseDelay     = 200 * time.Millisecond
	defaultMaxDelay      = 5 * time.Second
	defaultMaxRetryAfter = 60 * time.Second
)

// DefaultRetryPolicy returns the policy a Config without Retry uses: up to
// three attempts, backoff from 200ms to 5s, Retry-After honoured up to a
// minute. Each call returns a new policy, so changing one changes no
// other client:
//
//	p := alexa.DefaultRetryPolicy()
//	p.MaxAttempts = 5
//	cfg.Retry = p
func DefaultRetryPolicy() *RetryPolicy {
	return &RetryPolicy{MaxAttempts: defaultAttempts, BaseDelay: defaultBaseDelay, MaxDelay: defaultMaxDelay, MaxRetryAfter: defaultMaxRetryAfter}
}

// NoRetry returns a new policy that makes a single attempt.
func NoRetry() *RetryPolicy { return &RetryPolicy{MaxAttempts: 1} }

// ShouldRetry reports whether err is worth another attempt: an error in
// its chain says so with a Retryable method (HTTP 429 and 5xx, transport
// failures), and it is not the caller's own cancellation.
func (p *RetryPolicy) ShouldRetry(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// Backoff returns the wait before retry number attempt (1 for the first
// retry): retryAfter when the server gave one, else jittered exponential
// backoff. ok is false when retryAfter exceeds MaxRetryAfter.
func (p *RetryPolicy) Backoff(attempt int, retryAfter time.Duration) (wait time.Duration, ok bool) {
	if retryAfter > 0 {
		max := p.MaxRetryAfter
		if max <= 0 {
			max = defaultMaxRetryAfter
		}
		return retryAfter, retryAfter <= max
	}
	base, max := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = defaultBaseDelay
	}
	if max <= 0 {
		max = defaultMaxDelay
	}
	shift := min(attempt-1, 20)
	if shift < 0 {
		shift = 0
	}
	d := base << shift
	if d > max || d <= 0 {
		d = max
	}
	// Full jitter, keeping at least half: spreads a crowd of retries
	// without ever retrying at once.
	return d/2 + rand.N(d/2+1), true
}

// Wait sleeps before retry number attempt after err, which carried
// retryAfter. It returns false, without sleeping, when no further attempt
// should be made: attempts are used up, the wait is longer than allowed, or
// it would end past ctx's deadline; and false when ctx ends while waiting.
func (p *RetryPolicy) Wait(ctx context.Context, attempt int, err error, retryAfter time.Duration) bool {
	if attempt >= p.MaxAttempts || !p.ShouldRetry(ctx, err) {
		return false
	}
	wait, ok := p.Backoff(attempt, retryAfter)
	if !ok {
		return false
	}
	if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
		return false
	}
	if p.OnRetry != nil {
		p.OnRetry(attempt, err, wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
