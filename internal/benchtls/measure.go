package benchtls

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Burst sends messages 1 to n with send, from workers goroutines, and
// returns how long it took and the first error.
func Burst(ctx context.Context, n, workers int, send func(ctx context.Context, i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if err := send(ctx, i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), first
}

// Run is a timed run's wall and CPU time.
type Run struct {
	Wall, CPU time.Duration
}

// Add adds r's times to s.
func (s *Run) Add(r Run) {
	s.Wall += r.Wall
	s.CPU += r.CPU
}

// Timed runs f and returns its wall time and this process's CPU time
// meanwhile.
func Timed(f func() error) (Run, error) {
	c0, t0 := CPUTime(), time.Now()
	err := f()
	return Run{Wall: time.Since(t0), CPU: CPUTime() - c0}, err
}

// Variant is one sender of a comparison.
type Variant struct {
	Name string
	Send func(ctx context.Context, i int) error
}

// Compare sends bursts of burst messages with each variant in turn, 16 in
// flight, rounds times, rotating which goes first, and returns each
// variant's total wall and CPU time. Fine-grained turns give every
// variant the same machine, however its load drifts.
func Compare(ctx context.Context, rounds, burst int, vs []Variant) ([]Run, error) {
	total := make([]Run, len(vs))
	for r := range rounds {
		for k := range vs {
			i := (r + k) % len(vs)
			run, err := Timed(func() error {
				_, err := Burst(ctx, burst, Workers, vs[i].Send)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", vs[i].Name, err)
			}
			total[i].Add(run)
		}
	}
	return total, nil
}
