package ctxshare_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/internal/ctxshare"
)

type key struct{}

// Calls in the same slot share a context; a later call gets a new one;
// every deadline is within d minus d/32 and d of the call.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	const d = 32 * time.Second
	s := ctxshare.New(context.Background(), d)
	defer s.Stop()
	now := time.Now()
	a := s.Context(now)
	da, _ := a.Deadline()
	if db, _ := s.Context(now.Add(time.Second - time.Nanosecond)).Deadline(); !db.Equal(da) {
		t.Error("two calls within a slot got different deadlines")
	}
	later := now.Add(time.Second)
	c := s.Context(later)
	if dc, _ := c.Deadline(); !dc.After(da) {
		t.Error("a call after the slot got the old deadline")
	}
	for _, tc := range []struct {
		ctx context.Context
		at  time.Time
	}{{a, now}, {a, now.Add(time.Second - time.Nanosecond)}, {c, later}} {
		dl, ok := tc.ctx.Deadline()
		if left := dl.Sub(tc.at); !ok || left > d || left < d-d/32 {
			t.Errorf("deadline %v after the call, want %v to %v", left, d-d/32, d)
		}
	}
	s.Stop()
	if a.Err() == nil || c.Err() == nil {
		t.Error("Stop left contexts running")
	}
}

// A shared context ends at its deadline, and with its parent.
func TestDeadlinesEnd(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(context.Background())
	s := ctxshare.New(parent, time.Millisecond)
	defer s.Stop()
	<-s.Context(time.Now()).Done()
	ctx := s.Context(time.Now().Add(time.Hour))
	cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("err %v, want canceled", ctx.Err())
	}
}

// A joined context has the values of one and the end of the other, and a
// context derived from it ends with the end.
func TestJoin(t *testing.T) {
	t.Parallel()
	values, stopValues := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	end, stopEnd := context.WithCancelCause(context.Background())
	j := ctxshare.Join(end, values)
	if j.Value(key{}) != "v" {
		t.Errorf("value %v", j.Value(key{}))
	}
	stopValues()
	child, stopChild := context.WithCancel(j)
	defer stopChild()
	if j.Err() != nil || child.Err() != nil {
		t.Fatal("the values' context ended the joined one")
	}
	cause := errors.New("job stopped")
	stopEnd(cause)
	<-child.Done()
	if context.Cause(child) != cause || context.Cause(j) != cause {
		t.Errorf("cause %v, %v", context.Cause(child), context.Cause(j))
	}
}
