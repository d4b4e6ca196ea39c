package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/ctxshare"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/jsonl"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// DefaultConcurrency is the number of workers when Options.Concurrency is 0.
const DefaultConcurrency = 16

// DefaultMaxThrottleWait is Options.MaxThrottleWait when it is 0.
const DefaultMaxThrottleWait = 5 * time.Minute

// Options tune a bulk job. The zero value sends with 16 workers, no rate
// limit (DataStore: 25 calls per second), no journal and no failures file,
// delivering skill messages at least once and pausing up to 5 minutes when
// throttled.
type Options struct {
	// Concurrency is how many items are in flight at most. Default 16.
	Concurrency int
	// Rate caps HTTP requests per second across all workers, retries
	// included; 0 means no cap, except for SendDataStore, where it means
	// DefaultDataStoreRate. math.Inf(1) means no cap for every kind.
	Rate float64
	// MaxThrottleWait is the longest the job waits, all workers at once,
	// when Alexa throttles it beyond what the retry policy absorbs: a 429
	// whose Retry-After (seconds or an HTTP date) exceeds the policy's
	// MaxRetryAfter, or an item still answered 429 after its retries. The
	// job pauses until the Retry-After has passed (the policy's MaxDelay
	// when there is none) and sends the item again; it is not counted
	// failed. When the wait, added to what that item already waited, would
	// exceed MaxThrottleWait, the job stops with a *ThrottleError instead,
	// every unsent item left for a rerun. Default DefaultMaxThrottleWait;
	// negative: stop at once.
	MaxThrottleWait time.Duration
	// AtMostOnce makes skill messages go out at most once: a message
	// whose connection failed after it was written in full is not sent
	// again (messaging.AtMostOnce) but reported Unknown, written to the
	// failures file and not journaled. By default such a message is sent
	// again (at least once), and if it is then accepted it counts in
	// Summary.PossiblyDuplicated: the user may get it twice. Proactive
	// events need no such choice: their referenceId makes Alexa refuse a
	// second copy.
	AtMostOnce bool
	// Journal, when set, records delivered items durably and skips those
	// an earlier run recorded. It must be of the job's kind (and stage).
	// The caller opens and closes it.
	Journal *Journal
	// Failures, when set, receives every Failed, Invalid and Unknown item.
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

	// DataStore tunes SendDataStore.
	DataStore DataStoreOptions
}

// ThrottleError stops a job that Alexa asked to wait longer than
// Options.MaxThrottleWait. Nothing was sent after the 429; the throttled
// item and every item not yet sent are left for a rerun.
type ThrottleError struct {
	// Line is the throttled item's line.
	Line int
	// RetryAfter is how long Alexa asked to wait (the retry policy's
	// MaxDelay when the 429 carried no Retry-After).
	RetryAfter time.Duration
	// Waited is how long the job had already paused for this item.
	Waited time.Duration
	// Max is the job's MaxThrottleWait.
	Max time.Duration
	// Err is the 429 *alexa.Error.
	Err error
}

func (e *ThrottleError) Error() string {
	msg := fmt.Sprintf("bulk: throttled at line %d: Alexa asked to wait %s", e.Line, e.RetryAfter)
	if e.Waited > 0 {
		msg += fmt.Sprintf(" more, after %s", e.Waited)
	}
	if e.Max < 0 {
		return msg + ", and pausing is switched off: job stopped"
	}
	return msg + fmt.Sprintf(", longer than the longest pause allowed (%s): job stopped", e.Max)
}

// Unwrap returns the 429 error.
func (e *ThrottleError) Unwrap() error { return e.Err }

// ErrNetworkDown is matched by the *StopError of a job stopped because 64
// items in a row got no connection to the API, each after its retries.
var ErrNetworkDown = errors.New("network down")

// StopError stops a job at an item whose failure every other item would
// share: no access token could be had (lwa.ErrTokenUnavailable), the
// credentials were refused, the endpoint is refused as insecure, or the
// API cannot be reached (ErrNetworkDown). The items not yet sent are left
// for a rerun.
type StopError struct {
	// Line is the item's line.
	Line int
	// Err is its error.
	Err error
}

func (e *StopError) Error() string { return fmt.Sprintf("bulk: stopped at line %d: %v", e.Line, e.Err) }

// Unwrap returns the item's error.
func (e *StopError) Unwrap() error { return e.Err }

// SendMessages sends one skill message per line of input, as
// {"userId": "...", "data": {...}, "expiresAfterSeconds": N} (see
// MessageLine), with clients built from cfg.
//
// It returns when every line has a result, or when ctx ends or a fatal
// error stops the job (a *StopError, a *ThrottleError, a journal or
// failures file unwritable): then items not yet sent are left for a rerun,
// and the error is ctx's or the fatal one. A line's own failure is never
// an error here: it is in its Result and counted in the Summary.
func SendMessages(ctx context.Context, cfg alexa.Config, input io.Reader, opts Options) (*Summary, error) {
	e, err := newEngine(KindMessage, cfg, opts)
	if err != nil {
		return nil, err
	}
	var mopts []messaging.Option
	if opts.AtMostOnce {
		mopts = append(mopts, messaging.AtMostOnce())
	}
	client := messaging.NewClient(e.cfg, mopts...)
	e.process = func(ctx context.Context, it *item) Result {
		l := it.Line
		res := Result{Line: l.N, Input: l.Data}
		userID, m, err := parseMessage(l.Data)
		res.UserID = userID
		if err != nil {
			res.Status, res.Err = Invalid, err
			return res
		}
		// The data is compact JSON already: Send only checks it.
		out, err := client.Send(ctx, userID, &messaging.Message{Data: m.Data, ExpiresAfterSeconds: m.ExpiresAfterSeconds})
		if err != nil {
			return e.failed(res, err)
		}
		res.Status, res.Attempts, res.MaybeDuplicated = Sent, out.Attempts, out.MaybeDuplicated
		return res
	}
	return e.run(ctx, input)
}

// SendEvents sends one proactive event per line of input to opts.Stage:
// each line a Proactive Events request body, as "proactive send" takes
// it. A missing timestamp and expiryTime are filled from opts.Now, a
// missing referenceId with DeriveReferenceID, so that a rerun sends the
// same ids. An event Alexa answers 409 (its referenceId is already there:
// an earlier run, or an earlier attempt, delivered it) is Duplicate,
// counted as already delivered. Otherwise it behaves as SendMessages.
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
	client := proactive.NewClient(e.cfg, proactive.WithRules(rules))
	e.process = func(ctx context.Context, it *item) Result {
		l := it.Line
		res := Result{Line: l.N, Input: l.Data}
		req, err := parseEvent(l.Data, it.id.String(), now(), rules)
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
		case errors.As(err, &ae) && ae.StatusCode == http.StatusConflict:
			// Alexa has this referenceId: an earlier run sent it (its
			// acknowledgement lost with that run, or no journal kept).
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
	process func(context.Context, *item) Result
	parent  context.Context  // the caller's context of the running job
	http    alexa.HTTPClient // the configured client, under the gate
	// deadlines bound attempts by the client's Timeout, when it is an
	// *http.Client with one.
	deadlines *ctxshare.Deadlines

	limiter     *rate.Limiter
	maxThrottle time.Duration // Options.MaxThrottleWait, default applied
	notBefore   atomic.Int64  // unix nanos: no request is sent before
	retried     atomic.Int64
	throttled   atomic.Int64
	// delivered is set by the first item delivered; forbidden counts the
	// Unicast events refused 403 before it (see itemRefused).
	delivered atomic.Bool
	forbidden atomic.Int64
	// unreachable counts the items in a row that got no connection at
	// all (see networkDown).
	unreachable atomic.Int64

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
	e := &engine{kind: kind, opts: opts, maxThrottle: opts.MaxThrottleWait}
	if e.maxThrottle == 0 {
		e.maxThrottle = DefaultMaxThrottleWait
	}
	if opts.Rate > 0 && !math.IsInf(opts.Rate, 1) {
		e.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	// Tokens come from the caller's client, outside the gate: LWA's
	// limits are not the API's, and a token fetch must not wait behind
	// the calls that need it.
	cfg = cfg.WithDefaults()
	if cfg.Tokens == nil {
		cfg.Tokens = lwa.NewProvider(cfg) // one cache for every worker
	}
	e.http = cfg.HTTPClient
	cfg.HTTPClient = &gatedClient{next: cfg.HTTPClient, rt: httpx.Direct(cfg.HTTPClient), e: e}
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
	// rt is next's Transport, called directly (see httpx.Direct): the
	// engine bounds each attempt by the client's Timeout itself.
	rt http.RoundTripper
	e  *engine
}

func (g *gatedClient) Do(req *http.Request) (*http.Response, error) {
	if err := g.e.gate(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// An attempt under way when the job stops is let finish, so that its
	// item ends with a known outcome rather than cut off once sent. Only
	// the caller's own context ends it early; further attempts and waits
	// still stop with the job.
	// The attempt's context has the request's values (its trace) and
	// ends with the caller's context, or at the HTTP client's Timeout,
	// through a deadline shared with the attempts starting about now:
	// no goroutine, timer or registration of its own.
	end := g.e.parent
	if g.e.deadlines != nil {
		end = g.e.deadlines.Context(time.Now())
	}
	req = req.WithContext(ctxshare.Join(end, req.Context()))
	var resp *http.Response
	var err error
	if g.rt != nil {
		resp, err = httpx.RoundTrip(g.rt, req)
	} else {
		resp, err = g.next.Do(req)
	}
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		g.e.throttled.Add(1)
	}
	return resp, err
}

// failed returns res as Failed with err and its attempt count: Unknown
// when the request was written in full and no answer came.
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
	if errors.Is(err, alexa.ErrOutcomeUnknown) {
		res.Status = Unknown
	}
	return res
}

// fatal reports whether err will fail every other item too, so that the
// job should stop rather than burn through its input: no token to be had,
// credentials or permission refused, or a refused insecure endpoint.
func fatal(err error) bool {
	var ie *alexa.InsecureURLError
	return errors.Is(err, lwa.ErrTokenUnavailable) ||
		errors.Is(err, alexa.ErrUnauthorized) ||
		errors.As(err, &ie)
}

// maxForbiddenFirst is how many Unicast events refused 403 stop a job
// in which nothing was delivered yet.
const maxForbiddenFirst = 1000

// itemRefused reports whether res, a failure that would stop the job, is
// the item's own: a Unicast proactive event refused 403. Alexa answers
// 403 to a Unicast event for a user who has not subscribed to the event,
// as it does to a token it does not take; so such a refusal fails the
// item, and the job goes on, unless the first maxForbiddenFirst ones come
// before anything was delivered: then the token is the likely cause, and
// the job stops.
func (e *engine) itemRefused(res Result) bool {
	var ae *alexa.Error
	if e.kind != KindProactive || res.UserID == "" || !errors.As(res.Err, &ae) || ae.StatusCode != http.StatusForbidden {
		return false
	}
	return e.delivered.Load() || e.forbidden.Add(1) < maxForbiddenFirst
}

// maxUnreachable is how many items in a row that got no connection stop
// a job: the API or the network is down, and the rest would fail alike.
const maxUnreachable = 64

// networkDown counts res against the items in a row that got no
// connection (a transport failure before the request was written, after
// every retry), and reports whether there are maxUnreachable of them. Any
// answer from the API ends the run.
func (e *engine) networkDown(res Result) bool {
	var te *alexa.TransportError
	if res.Status != Failed || !errors.As(res.Err, &te) || te.Sent {
		if res.Status != Invalid {
			e.unreachable.Store(0)
		}
		return false
	}
	return e.unreachable.Add(1) == maxUnreachable
}

// unsent reports whether err means the item was not sent at all (so it
// is not reported, and a rerun sends it): the token or the endpoint
// failed before any request left.
func unsent(err error) bool {
	var ie *alexa.InsecureURLError
	return errors.Is(err, lwa.ErrTokenUnavailable) || errors.As(err, &ie)
}

// run reads input and feeds the workers until it ends or the job stops.
func (e *engine) run(parent context.Context, input io.Reader) (*Summary, error) {
	start := time.Now()
	if j := e.opts.Journal; j != nil {
		if err := j.begin(); err != nil {
			return nil, err
		}
		defer j.end()
	}
	e.parent = parent
	if hc, ok := e.http.(*http.Client); ok && hc.Timeout > 0 {
		e.deadlines = ctxshare.New(parent, hc.Timeout)
		defer e.deadlines.Stop()
	}
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)

	lines := make(chan item, e.opts.Concurrency)
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
	var syncErr error
	if j := e.opts.Journal; j != nil {
		// Every record of the job is durable when it returns.
		syncErr = j.Sync()
	}
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
	case syncErr != nil:
		return &sum, syncErr
	}
	sum.Complete = complete
	return &sum, nil
}

// read hands the lines of input to the workers, reporting at once those
// the journal has and those too long to keep. complete is true when the
// whole input was read.
func (e *engine) read(ctx context.Context, stop context.CancelCauseFunc, input io.Reader, lines chan<- item) (complete bool, err error) {
	lr := jsonl.NewReader(input)
	for ctx.Err() == nil {
		l, err := lr.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("bulk: reading input: %w", err)
		}
		if l.Err != nil {
			e.report(stop, Result{Line: l.N, Status: Invalid, Err: validate.Violations{{Field: "line", Rule: l.Err.Error()}}.Err("bulk")})
			continue
		}
		it := item{Line: l}
		if e.opts.Journal != nil || e.kind == KindProactive {
			// The journal's key, and a proactive event's referenceId.
			it.id = LineID(l.Data)
		}
		if j := e.opts.Journal; j != nil && j.take(it.id) {
			e.report(stop, Result{Line: l.N, Status: Skipped, Input: l.Data})
			continue
		}
		select {
		case lines <- it:
		case <-ctx.Done():
		}
	}
	return false, nil
}

// cutShort reports whether err is the end of the job's ctx.
func cutShort(ctx context.Context, err error) bool {
	cause := context.Cause(ctx)
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || cause != nil && errors.Is(err, cause)
}

// item is a line on its way to a worker.
type item struct {
	jsonl.Line
	id ItemID
	// throttled is how long the job already paused for this item.
	throttled time.Duration
}

// worker sends the lines it takes, one at a time. A delivered item is
// recorded in the journal (durable within the sync interval, and all of
// them when the job ends). Once the job stops, lines not yet taken are
// left unsent for a rerun.
func (e *engine) worker(ctx context.Context, stop context.CancelCauseFunc, lines <-chan item) {
	for {
		var it item
		var ok bool
		select {
		case it, ok = <-lines:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
		for ctx.Err() == nil {
			res := e.process(ctx, &it)
			if e.settle(ctx, stop, &it, res) {
				break
			}
		}
	}
}

// settle decides what becomes of an item's result: reported (true), or
// sent again after a throttle pause (false). An item cut short by the
// job's end, or not sent because the job must stop, is not reported and
// is left for a rerun (true, as there is nothing more to do).
func (e *engine) settle(ctx context.Context, stop context.CancelCauseFunc, it *item, res Result) (done bool) {
	if res.Status == Failed {
		switch {
		case ctx.Err() != nil && (cutShort(ctx, res.Err) || e.cfg.Retry.ShouldRetry(context.Background(), res.Err)):
			// Stopped while waiting for a token, a pause or a retry (an
			// item whose request was written is Unknown, and reported):
			// left for a rerun like the items not yet taken.
			return true
		case unsent(res.Err):
			stop(&StopError{Line: res.Line, Err: res.Err})
			return true
		case errors.Is(res.Err, alexa.ErrThrottled):
			// Without a Retry-After, the longest backoff of the policy.
			wait := e.cfg.Retry.MaxDelay
			if wait <= 0 {
				wait = alexa.DefaultRetryPolicy().MaxDelay
			}
			var ae *alexa.Error
			if errors.As(res.Err, &ae) && ae.RetryAfter > 0 {
				wait = ae.RetryAfter
			}
			if e.maxThrottle < 0 || it.throttled+wait > e.maxThrottle {
				stop(&ThrottleError{Line: res.Line, RetryAfter: wait, Waited: it.throttled, Max: e.maxThrottle, Err: res.Err})
				return true
			}
			// Alexa asked for more than the retry policy waits: every
			// worker pauses, then this item goes again.
			it.throttled += wait
			e.pause(wait)
			return false
		}
	}
	if res.Status.Delivered() && e.opts.Journal != nil {
		if err := e.opts.Journal.Record(it.id); err != nil {
			stop(err)
		}
	}
	if res.Status.Delivered() {
		e.delivered.Store(true)
	}
	if res.Status == Failed && fatal(res.Err) && !e.itemRefused(res) {
		stop(&StopError{Line: res.Line, Err: res.Err})
	}
	if e.networkDown(res) {
		stop(&StopError{Line: res.Line, Err: fmt.Errorf("%w: %d items in a row got no connection, after their retries: %w", ErrNetworkDown, maxUnreachable, res.Err)})
	}
	e.report(stop, res)
	return true
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
	case Unknown:
		e.sum.Unknown++
		e.sum.Reasons[r.Reason()]++
	}
	if r.MaybeDuplicated && r.Status.Delivered() {
		e.sum.PossiblyDuplicated++
	}
	if r.Status == Sent && r.DataStore != nil && len(r.DataStore.QueuedResultIDs) > 0 {
		e.sum.Queued++
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
