// Package ctxshare bounds many short calls in time for the price of a
// few contexts: a context with a deadline per call costs a context, a
// timer and a registration each, which at thousands of calls a second is
// a measurable share of a call's CPU time (net/http's Client.Timeout
// makes one per request). Calls starting close together share one
// instead, and Join gives each the values of its own context.
package ctxshare

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines hands out contexts that end at most d after they are asked
// for, and no sooner than d minus d/32: calls starting within the same
// d/32 share one context. Each ends at its deadline, or with the parent.
// net/http's Client adds no deadline of its own to a request whose
// context ends sooner than its Timeout, so a call bounded by a shared
// context at Client.Timeout costs no context of its own.
type Deadlines struct {
	parent  context.Context
	d, slot time.Duration
	cur     atomic.Pointer[slot]
	next    atomic.Uint32

	mu      sync.Mutex
	cancels []context.CancelFunc // of the contexts that may still be in use
}

type slot struct {
	// ctxs end at the same time; calls take them in turn, so that
	// concurrent calls do not all wait for the lock of one.
	ctxs  [shards]context.Context
	until time.Time // the contexts are handed out until then
}

// shards is how many contexts a slot has.
const shards = 8

// New returns Deadlines of d, which must be positive, whose contexts end
// with parent too.
func New(parent context.Context, d time.Duration) *Deadlines {
	return &Deadlines{parent: parent, d: d, slot: max(d/32, time.Nanosecond)}
}

// Context returns a context ending between d minus d/32 and d after now.
func (s *Deadlines) Context(now time.Time) context.Context {
	if c := s.cur.Load(); c != nil && now.Before(c.until) {
		return c.ctxs[s.next.Add(1)%shards]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cur.Load(); c != nil && now.Before(c.until) {
		return c.ctxs[s.next.Add(1)%shards]
	}
	// Contexts are handed out for a slot, then used for up to d: those
	// of the last d are kept, to cancel at Stop; older ones have ended.
	if keep := (int(s.d/s.slot) + 2) * shards; len(s.cancels) >= keep {
		s.cancels = append(s.cancels[:0], s.cancels[len(s.cancels)-keep+shards:]...)
	}
	c := &slot{until: now.Add(s.slot)}
	deadline := now.Add(s.d)
	for i := range c.ctxs {
		ctx, cancel := context.WithDeadline(s.parent, deadline)
		c.ctxs[i] = ctx
		s.cancels = append(s.cancels, cancel)
	}
	s.cur.Store(c)
	return c.ctxs[0]
}

// Stop ends every context handed out, once the calls using them are done,
// to release their timers before their deadlines.
func (s *Deadlines) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancels {
		cancel()
	}
	s.cancels = nil
	s.cur.Store(nil)
}

// Join returns a context that ends as end does (Done, Err, Deadline and
// Cause are end's) and holds the values of values, such as an
// httptrace.ClientTrace, but not its cancellation. Contexts derived from
// it are tied to end directly: no goroutine or timer per call.
func Join(end, values context.Context) context.Context {
	return &joined{Context: end, values: context.WithoutCancel(values)}
}

type joined struct {
	context.Context // end
	values          context.Context
}

// Value looks key up in values, then in end: the only value values hides
// is its cancellation, so that end's is found by the context package.
func (j *joined) Value(key any) any {
	if v := j.values.Value(key); v != nil {
		return v
	}
	return j.Context.Value(key)
}
