package queue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// RateLimit is a rate limit shared by every worker, stored as one row of
// RateLimitTable.
type RateLimit struct {
	// Name identifies the limit. Workers use their skill's client id
	// unless WorkerOptions.RateLimit names another.
	Name string `json:"name"`
	// PerSecond is how many API requests per second all workers together
	// may send, retries included.
	PerSecond float64 `json:"perSecond"`
	// Burst is how many requests may go at once after a quiet spell.
	Burst int `json:"burst"`
	// IdleSeconds is how long, since the first request under it, the
	// limit went unused because no worker was ready to send: there were
	// no jobs, or too few workers or too little concurrency (or machines
	// too busy) to keep up with it.
	IdleSeconds float64 `json:"idleSeconds"`
}

// SetRateLimit stores the limit name: perSecond requests per second across
// every worker using it, with bursts of burst (at least 1; 0 means 1).
// Running workers follow the new rate at their next draw. A perSecond of
// zero removes the limit.
func (q *Queue) SetRateLimit(ctx context.Context, name string, perSecond float64, burst int) error {
	switch {
	case name == "":
		return errors.New("queue.SetRateLimit: name is empty")
	case perSecond < 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0):
		return fmt.Errorf("queue.SetRateLimit: perSecond must be a positive number, or 0 to remove the limit (got %v)", perSecond)
	case burst < 0:
		return fmt.Errorf("queue.SetRateLimit: burst must not be negative (got %d)", burst)
	}
	burst = max(burst, 1)
	var err error
	if perSecond == 0 {
		_, err = q.pool.Exec(ctx, "DELETE FROM "+q.rateTable+" WHERE name = $1", name)
	} else {
		_, err = q.pool.Exec(ctx, `INSERT INTO `+q.rateTable+` (name, per_second, burst) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET per_second = EXCLUDED.per_second, burst = EXCLUDED.burst, updated_at = now()`,
			name, perSecond, burst)
	}
	if err != nil {
		return fmt.Errorf("queue.SetRateLimit: %w", q.dbError(err))
	}
	return nil
}

// RateLimits returns the stored limits, by name.
func (q *Queue) RateLimits(ctx context.Context) ([]RateLimit, error) {
	rows, err := q.pool.Query(ctx, "SELECT name, per_second, burst, idle_seconds FROM "+q.rateTable+" ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("queue.RateLimits: %w", q.dbError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RateLimit, error) {
		var l RateLimit
		err := r.Scan(&l.Name, &l.PerSecond, &l.Burst, &l.IdleSeconds)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("queue.RateLimits: %w", q.dbError(err))
	}
	return out, nil
}

// How a worker process draws from a shared limit. The bucket is a GCRA
// row: tat is the theoretical time at which everything granted so far has
// been sent at the limit's pace. A draw of n permits moves tat on by
// n/rate and returns where the batch starts relative to the database's
// clock, so no worker depends on its own clock agreeing with another's.
// The n permits are then spent locally, one every 1/rate. A worker that
// dies loses at most the permits it drew and had not spent: the rate can
// only dip, never overshoot.
const (
	// batchWindow sizes a draw: at most this much of the rate's time in
	// one batch (at least one permit), so that a dead worker wastes little.
	batchWindow = 50 * time.Millisecond
	// maxBatch bounds a draw whatever the rate.
	maxBatch = 500
	// unlimitedRecheck is how long a worker without a stored limit sends
	// freely before looking for one again.
	unlimitedRecheck = time.Second
	// horizon is how far ahead of now a process holds permits: it draws
	// again only when the last one it handed out is due within horizon,
	// so that a dead worker leaves a gap of about horizon at most. It
	// grows with the process's lag (late wake-ups and slow draws, as on a
	// busy machine), up to maxHorizon, so that a late draw does not lose
	// the limit's time.
	horizon    = 100 * time.Millisecond
	maxHorizon = time.Second
	// staleAfter drops drawn permits not spent this long (or the horizon,
	// when longer) after their turn, as when demand fell: using them late
	// would bunch requests together.
	staleAfter = 100 * time.Millisecond
)

// errNotSent is the error of a request that never left: its job ended
// (deadline or shutdown) while it waited for a permit.
var errNotSent = errors.New("queue: not sent: the job ended while waiting for the rate limit")

// limiter spends the permits one worker process draws from a shared limit.
type limiter struct {
	q    *Queue
	name string

	mu        sync.Mutex
	next      time.Time     // send time of the next drawn permit
	last      time.Time     // send time of the last permit handed out
	left      int           // drawn permits not yet handed out
	interval  time.Duration // 1/rate
	perSecond float64       // last known rate; 0 before the first draw
	free      time.Time     // no limit stored: send freely until then
	paused    time.Time     // throttled: send nothing before then
	drawing   chan struct{} // closed when the draw in progress ends
	waiting   int           // callers in wait
	holding   int           // callers in wait with a permit, sleeping until its time
	lag       time.Duration // moving average of wake-up lateness plus draw time
	woke      time.Duration // lateness of the last wake-up before a draw
}

// horizon returns how far ahead permits are held now.
func (l *limiter) horizon() time.Duration {
	return min(horizon+3*l.lag, maxHorizon)
}

func newLimiter(q *Queue, name string) *limiter {
	return &limiter{q: q, name: name}
}

// wait blocks until the caller may send one request, or ctx ends
// (errNotSent).
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	l.waiting++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waiting--
		l.mu.Unlock()
	}()
	for {
		l.mu.Lock()
		now := time.Now()
		if now.Before(l.paused) {
			until := l.paused
			l.mu.Unlock()
			if err := sleepUntil(ctx, until); err != nil {
				return err
			}
			continue
		}
		if now.Before(l.free) {
			l.mu.Unlock()
			return nil
		}
		if l.left > 0 && now.Sub(l.next) > max(staleAfter, l.interval, l.horizon()) {
			l.left = 0
		}
		if l.left > 0 {
			at := l.next
			l.next = l.next.Add(l.interval)
			l.left--
			l.last = at
			l.holding++
			l.mu.Unlock()
			err := sleepUntil(ctx, at)
			l.mu.Lock()
			l.holding--
			paused := time.Now().Before(l.paused)
			l.mu.Unlock()
			if err != nil {
				return err
			}
			if paused {
				// Throttled while this permit was pending: void it.
				continue
			}
			return nil
		}
		if ahead := l.last.Sub(now); ahead > l.horizon() {
			// Enough permits are out: draw more when they are nearly spent.
			wake := now.Add(ahead - l.horizon())
			l.mu.Unlock()
			if err := sleepUntil(ctx, wake); err != nil {
				return err
			}
			l.mu.Lock()
			l.woke = time.Since(wake)
			l.mu.Unlock()
			continue
		}
		if l.drawing != nil {
			ch := l.drawing
			l.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return errNotSent
			}
			continue
		}
		// One permit for each caller without one.
		n := max(1, l.waiting-l.holding)
		if l.perSecond > 0 {
			n = min(n, max(1, int(l.perSecond*batchWindow.Seconds())), maxBatch)
		} else {
			n = 1
		}
		ch := make(chan struct{})
		l.drawing = ch
		late := l.woke
		l.woke = 0
		l.mu.Unlock()

		start := time.Now()
		err := l.draw(ctx, n)
		l.mu.Lock()
		l.drawing = nil
		close(ch)
		l.lag += (late + time.Since(start) - l.lag) / 4
		l.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return errNotSent
			}
			return err
		}
	}
}

// draw takes n permits from the database; without a stored limit it lets
// the process send freely for unlimitedRecheck.
func (l *limiter) draw(ctx context.Context, n int) error {
	var perSecond, ahead float64
	var burst int
	err := l.q.pool.QueryRow(ctx, `
WITH c AS (SELECT clock_timestamp() AS now)
UPDATE `+l.q.rateTable+` AS t
SET tat = GREATEST(COALESCE(t.tat, c.now), c.now) + make_interval(secs => $2::float8 / t.per_second),
    idle_seconds = t.idle_seconds + GREATEST(0, EXTRACT(EPOCH FROM (c.now - COALESCE(t.tat, c.now))))::float8
FROM c
WHERE t.name = $1
RETURNING t.per_second, t.burst, EXTRACT(EPOCH FROM (t.tat - c.now))::float8`, l.name, n).Scan(&perSecond, &burst, &ahead)
	got := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if errors.Is(err, pgx.ErrNoRows) {
		l.free = got.Add(unlimitedRecheck)
		l.perSecond = 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue: drawing from rate limit %q: %w", l.name, l.q.dbError(err))
	}
	// The batch ends at tat; its first permit is n intervals before, less
	// the burst tolerance.
	interval := time.Duration(float64(time.Second) / perSecond)
	first := ahead - float64(n)/perSecond - float64(burst-1)/perSecond
	l.next = got.Add(time.Duration(first * float64(time.Second)))
	l.interval = interval
	l.left = n
	l.perSecond = perSecond
	return nil
}

// pause holds every worker on the limit until d from now (Alexa answered
// 429 with Retry-After d): the bucket's tat moves past it, so the next
// draw of any worker starts after it.
func (l *limiter) pause(ctx context.Context, d time.Duration) error {
	l.mu.Lock()
	if until := time.Now().Add(d); until.After(l.paused) {
		l.paused = until
	}
	l.left = 0
	l.mu.Unlock()
	_, err := l.q.pool.Exec(ctx, `
UPDATE `+l.q.rateTable+`
SET tat = GREATEST(COALESCE(tat, clock_timestamp()), clock_timestamp() + make_interval(secs => $2::float8 + (burst - 1) / per_second))
WHERE name = $1`, l.name, d.Seconds())
	if err != nil {
		return fmt.Errorf("queue: pausing rate limit %q: %w", l.name, l.q.dbError(err))
	}
	return nil
}

// sleepUntil waits until t, or returns errNotSent when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		if ctx.Err() != nil {
			return errNotSent
		}
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return errNotSent
	}
}
