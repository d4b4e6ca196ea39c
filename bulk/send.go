package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// DefaultConcurrency is the number of workers when Options.Concurrency is 0.
const DefaultConcurrency = 16

// Options tune a bulk job. The zero value sends with 16 workers, no rate
// limit, no journal and no failures file.
type Options struct {
	// Concurrency is how many items are in flight at most. Default 16.
	Concurrency int
	// Rate caps HTTP requests per second across all workers, retries
	// included; 0 means no cap.
	Rate float64
	// Journal, when set, records delivered items durably and skips those
	// an earlier run recorded. It must be of the job's kind (and stage).
	// The caller opens and closes it.
	Journal *Journal
	// Failures, when set, receives every Failed and Invalid item.
	Failures *FailureWriter
	// OnResult, when set, is called with every result, one call at a
	// time, in completion order. It must return quickly: workers wait.
	OnResult func(Result)

	// Stage is where proactive events go. Default proactive.Development.
	Stage proactive.Stage
	// Rules validate proactive events. Default proactive.DefaultRules().
	Rules *proactive.Rules
	// Now gives the time filled into proactive events that lack one.
	// Default time.Now.
	Now func() time.Time
}

// SendMessages sends one skill message per line of input, as
// {"userId": "...", "data": {...}, "expiresAfterSeconds": N} (see
// MessageLine), with clients built from cfg.
//
// It returns when every line has a result, or when ctx ends or a fatal
// error (credentials refused, journal or failures file unwritable) stops
// the job: then items not yet sent are left for a rerun, and the error is
// ctx's or the fatal one. A line's own failure is never an error here: it
// is in its Result and counted in the Summary.
func SendMessages(ctx context.Context, cfg alexa.Config, input io.Reader, opts Options) (*Summary, error) {
	e, err := newEngine(KindMessage, cfg, opts)
	if err != nil {
		return nil, err
	}
	client := messaging.NewClient(e.cfg)
	e.process = func(ctx context.Context, l Line) Result {
		res := Result{Line: l.N, Input: l.Data}
		userID, m, err := ParseMessage(l.Data)
		res.UserID = userID
		if err != nil {
			res.Status, res.Err = Invalid, err
			return res
		}
		out, err := client.Send(ctx, userID, m)
		if err != nil {
			return e.failed(res, err)
		}
		res.Status, res.Attempts = Sent, out.Attempts
		return res
	}
	return e.run(ctx, input)
}

// SendEvents sends one proactive event per line of input to opts.Stage:
// each line a Proactive Events request body, as "proactive send" takes
// it. A missing timestamp and expiryTime are filled from opts.Now, a
// missing referenceId with DeriveReferenceID, so that a rerun sends the
// same ids. Otherwise it behaves as SendMessages.
func SendEvents(ctx context.Context, cfg alexa.Config, input io.Reader, opts Options) (*Summary, error) {
	if opts.Stage == "" {
		opts.Stage = proactive.Development
	}
	e, err := newEngine(KindProactive, cfg, opts)
	if err != nil {
		return nil, err
	}
	rules := proactive.DefaultRules()
	if opts.Rules != nil {
		rules = *opts.Rules
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	resumed := opts.Journal != nil && opts.Journal.Resumed()
	client := proactive.NewClient(e.cfg, proactive.WithRules(rules))
	e.process = func(ctx context.Context, l Line) Result {
		res := Result{Line: l.N, Input: l.Data}
		req, err := ParseEvent(l.N, l.Data, now(), rules)
		if req != nil {
			res.UserID, res.ReferenceID = req.RelevantAudience.User(), req.ReferenceID
		}
		if err != nil {
			res.Status, res.Err = Invalid, err
			return res
		}
		out, err := client.Create(ctx, req, opts.Stage)
		var ae *alexa.Error
		switch {
		case err == nil && out.AlreadyAccepted:
			res.Status, res.Attempts = Duplicate, out.Attempts
		case err == nil:
			res.Status, res.Attempts = Sent, out.Attempts
		case resumed && errors.As(err, &ae) && ae.StatusCode == http.StatusConflict:
			// A referenceId an earlier run of this job sent: its
			// acknowledgement was lost with that run.
			res.Status, res.Attempts = Duplicate, ae.Attempts
		default:
			return e.failed(res, err)
		}
		return res
	}
	return e.run(ctx, input)
}

// engine runs one job: a reader feeding workers, a shared gate that every
// HTTP attempt passes (throttle pause, then rate limit), and the results
// counted under one lock.
type engine struct {
	kind    Kind
	opts    Options
	cfg     alexa.Config
	process func(context.Context, Line) Result

	limiter   *rate.Limiter
	notBefore atomic.Int64 // unix nanos: no request is sent before
	retried   atomic.Int64
	throttled atomic.Int64

	mu     sync.Mutex
	sum    Summary
	closed bool
}

func newEngine(kind Kind, cfg alexa.Config, opts Options) (*engine, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Rate < 0 {
		return nil, fmt.Errorf("bulk: negative rate %v", opts.Rate)
	}
	if err := opts.Stage.Validate(); kind == KindProactive && err != nil {
		return nil, err
	}
	if j := opts.Journal; j != nil {
		h := j.Header()
		if h.Kind != kind || (kind == KindProactive && h.Stage != opts.Stage) {
			return nil, fmt.Errorf("bulk: journal %s is for bulk %s: %w", j.Path(), describe(h), ErrJournalMismatch)
		}
	}
	e := &engine{kind: kind, opts: opts}
	if opts.Rate > 0 {
		e.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	// Tokens come from the caller's client, outside the gate: LWA's
	// limits are not the API's, and a token fetch must not wait behind
	// the calls that need it.
	cfg = lwa.Configure(cfg)
	cfg.HTTPClient = &gatedClient{next: cfg.HTTPClient, e: e}
	policy := *cfg.Retry
	prev := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		e.retried.Add(1)
		if errors.Is(err, alexa.ErrThrottled) {
			e.pause(wait)
		}
		if prev != nil {
			prev(attempt, err, wait)
		}
	}
	cfg.Retry = &policy
	e.cfg = cfg
	e.sum = Summary{Kind: kind, Reasons: map[string]int{}, Resumed: opts.Journal != nil && opts.Journal.Resumed()}
	return e, nil
}

// pause holds every worker's next request until wait from now.
func (e *engine) pause(wait time.Duration) {
	until := time.Now().Add(wait).UnixNano()
	for {
		cur := e.notBefore.Load()
		if cur >= until || e.notBefore.CompareAndSwap(cur, until) {
			return
		}
	}
}

// gate waits until a request may be sent: past any throttle pause, then
// within the rate limit.
func (e *engine) gate(ctx context.Context) error {
	for pass := 0; ; pass++ {
		for {
			d := time.Until(time.Unix(0, e.notBefore.Load()))
			if d <= 0 {
				break
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		if e.limiter == nil || pass > 0 {
			return nil
		}
		// Reserve and wait rather than limiter.Wait, which fails at once
		// when the turn comes after ctx's deadline: the job should run
		// until the deadline, then stop as cancelled.
		r := e.limiter.Reserve()
		if d := r.Delay(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return ctx.Err()
			}
		}
		// A throttle may have begun while this request waited for its
		// turn: honour it too (once; the turn is not taken again).
	}
}

// gatedClient sends each HTTP attempt through the engine's gate and counts
// the 429 answers.
type gatedClient struct {
	next alexa.HTTPClient
	e    *engine
}

func (g *gatedClient) Do(req *http.Request) (*http.Response, error) {
	if err := g.e.gate(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := g.next.Do(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		g.e.throttled.Add(1)
	}
	return resp, err
}

// failed returns res as Failed with err and its attempt count.
func (e *engine) failed(res Result, err error) Result {
	res.Status, res.Err = Failed, err
	var (
		ae *alexa.Error
		te *alexa.TransportError
		ve *alexa.ValidationError
	)
	switch {
	case errors.As(err, &ve):
		res.Status = Invalid
	case errors.As(err, &ae):
		res.Attempts = ae.Attempts
	case errors.As(err, &te):
		res.Attempts = te.Attempts
	}
	return res
}

// fatal reports whether err will fail every other item too, so that the
// job should stop rather than burn through its input: credentials or
// permission refused, or a refused insecure endpoint.
func fatal(err error) bool {
	var le *lwa.Error
	var ie *alexa.InsecureURLError
	return errors.Is(err, alexa.ErrUnauthorized) ||
		errors.As(err, &le) && !le.Retryable() ||
		errors.As(err, &ie)
}

// run reads input and feeds the workers until it ends or the job stops.
func (e *engine) run(parent context.Context, input io.Reader) (*Summary, error) {
	start := time.Now()
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)

	lines := make(chan Line, e.opts.Concurrency)
	var wg sync.WaitGroup
	for range e.opts.Concurrency {
		wg.Go(func() { e.worker(ctx, stop, lines) })
	}
	// The reader has its own goroutine so that a stopped job returns even
	// while a read blocks (standard input from an idle pipe).
	type readResult struct {
		complete bool
		err      error
	}
	readDone := make(chan readResult, 1)
	go func() {
		defer close(lines)
		complete, err := e.read(ctx, stop, input, lines)
		readDone <- readResult{complete, err}
	}()
	wg.Wait()
	var rr readResult
	select {
	case rr = <-readDone:
	case <-ctx.Done():
	}
	complete, readErr := rr.complete, rr.err

	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true // a blocked reader reports nothing more
	sum := e.sum
	sum.Retried = int(e.retried.Load())
	sum.Throttled = int(e.throttled.Load())
	sum.Elapsed = time.Since(start)
	switch {
	case parent.Err() != nil:
		return &sum, parent.Err()
	case context.Cause(ctx) != nil:
		return &sum, context.Cause(ctx)
	case readErr != nil:
		return &sum, readErr
	}
	sum.Complete = complete
	return &sum, nil
}

// read hands the lines of input to the workers, reporting at once those
// the journal has and those too long to keep. complete is true when the
// whole input was read.
func (e *engine) read(ctx context.Context, stop context.CancelCauseFunc, input io.Reader, lines chan<- Line) (complete bool, err error) {
	lr := NewLineReader(input)
	for ctx.Err() == nil {
		l, err := lr.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("bulk: reading input: %w", err)
		}
		if j := e.opts.Journal; j != nil && j.Done(l.N) {
			e.report(stop, Result{Line: l.N, Status: Skipped, Input: l.Data})
			continue
		}
		if l.Err != nil {
			e.report(stop, Result{Line: l.N, Status: Invalid, Err: alexa.Violations{{Field: "line", Rule: l.Err.Error()}}.Err("bulk")})
			continue
		}
		select {
		case lines <- l:
		case <-ctx.Done():
		}
	}
	return false, nil
}

// worker sends the lines it takes, one at a time. An item counts as done,
// and the worker takes the next, only once its journal record is durable.
// Once the job stops, lines not yet taken are left unsent for a rerun.
func (e *engine) worker(ctx context.Context, stop context.CancelCauseFunc, lines <-chan Line) {
	for {
		var l Line
		var ok bool
		select {
		case l, ok = <-lines:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
		if ctx.Err() != nil {
			return
		}
		res := e.process(ctx, l)
		if res.Status.Delivered() && e.opts.Journal != nil {
			if err := e.opts.Journal.Record(l.N); err != nil {
				stop(err)
			}
		}
		if res.Status == Failed && fatal(res.Err) {
			stop(fmt.Errorf("bulk: stopped at line %d: %w", res.Line, res.Err))
		}
		e.report(stop, res)
	}
}

// report counts a result, writes it to the failures file and passes it
// to OnResult.
func (e *engine) report(stop context.CancelCauseFunc, r Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.sum.Read++
	switch r.Status {
	case Sent:
		e.sum.Sent++
	case Duplicate:
		e.sum.Duplicates++
	case Skipped:
		e.sum.Skipped++
	case Failed:
		e.sum.Failed++
		e.sum.Reasons[r.Reason()]++
	case Invalid:
		e.sum.Invalid++
		e.sum.Reasons[r.Reason()]++
	}
	if e.opts.Failures != nil {
		if err := e.opts.Failures.Write(r); err != nil {
			stop(fmt.Errorf("bulk: writing failures: %w", err))
		}
	}
	if e.opts.OnResult != nil {
		e.opts.OnResult(r)
	}
}
