package alexatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/skill"
)

// Admin paths of the skill side: what the emulator sends to the skill at
// Options.SkillEndpoint, and the CA a skill under test trusts.
//
//	GET  /_emulator/skill               the endpoint, the CA's path and the delivery counts (SkillStatus)
//	GET  /_emulator/skill/ca.pem        the root CA of SkillSigner, PEM
//	GET  /_emulator/skill/chain/{file}  the signing chain that SignatureCertChainUrl names
//	GET  /_emulator/skill/deliveries    requests sent to the skill (?user= ?type= ?state=), a Listing
//	GET  /_emulator/subscriptions       every user's subscriptions (?user=)
//	POST /_emulator/subscriptions       {"userId":"U","eventName":"E","subscribed":true}
//	POST /_emulator/grants              {"userId":"U"}: send an Alexa.Authorization.Grant
//
// The two POSTs wait for the skill's answer (at most SkillOptions.Timeout)
// and return it.
const (
	AdminSkill           = "/_emulator/skill"
	AdminSkillCA         = "/_emulator/skill/ca.pem"
	AdminSkillChain      = "/_emulator/skill/chain/"
	AdminSkillDeliveries = "/_emulator/skill/deliveries"
	AdminSubscriptions   = "/_emulator/subscriptions"
	AdminGrants          = "/_emulator/grants"
)

// Defaults of SkillOptions.
const (
	// DefaultSkillConcurrency is how many requests are sent to the skill
	// at once.
	DefaultSkillConcurrency = 4
	// DefaultSkillQueue is how many requests may wait for a sender; more
	// are skipped (DeliverySkipped), so that a slow or dead skill never
	// holds the emulator's memory.
	DefaultSkillQueue = 1000
	// DefaultSkillTimeout bounds one request to the skill, answer
	// included.
	DefaultSkillTimeout = 10 * time.Second
	// AlexaFirstRetry is the wait before Alexa's first retry of a skill
	// message its skill did not take, doubling after each further
	// failure: a value for SkillOptions.FirstRetry.
	AlexaFirstRetry = 30 * time.Second
	// DefaultApplicationID is the skill id the emulator's requests carry
	// (context.System.application.applicationId).
	DefaultApplicationID = "amzn1.ask.skill.alexatest"
	// maxSkillResponse is how much of the skill's answer a record keeps.
	maxSkillResponse = 1 << 10
)

// SkillOptions tune how the emulator calls the skill at
// Options.SkillEndpoint. The zero value sends at most
// DefaultSkillConcurrency requests at once, queues DefaultSkillQueue more,
// gives each DefaultSkillTimeout, and trusts the system roots for an https
// endpoint.
type SkillOptions struct {
	// ApplicationID is the skill id the requests carry. Default
	// DefaultApplicationID.
	ApplicationID string
	// APIEndpoint is context.System.apiEndpoint of the requests. Default
	// the emulator's own URL when NewServer or "alexa-oos emulator" serves
	// it; none otherwise.
	APIEndpoint string
	// Concurrency is how many requests are sent at once. Default
	// DefaultSkillConcurrency.
	Concurrency int
	// QueueSize is how many requests may wait for a sender; beyond it a
	// request is not sent and its record says DeliverySkipped. Default
	// DefaultSkillQueue.
	QueueSize int
	// Timeout bounds one request, the skill's answer included. Default
	// DefaultSkillTimeout.
	Timeout time.Duration
	// Signer signs the requests. Default: one made on first use, with a CA
	// of its own (see Emulator.SkillSigner).
	Signer *SkillSigner
	// HTTPClient sends the requests, such as an httptest TLS server's
	// Client(). Redirects are never followed. Default: a client that
	// trusts TLSRoots, or the system roots.
	HTTPClient alexa.HTTPClient
	// TLSRoots, when set, are the only roots trusted for an https
	// endpoint: for a skill serving a certificate of its own CA.
	TLSRoots *x509.CertPool
	// InsecureSkipVerify accepts any certificate from an https endpoint
	// on a loopback host, such as a self-signed one. With another host,
	// every delivery fails: see CheckSkillEndpoint.
	InsecureSkipVerify bool
	// FirstRetry, when positive, makes the emulator send a skill message
	// (Messaging.MessageReceived) the skill did not take again, as Alexa
	// does: after FirstRetry, then after twice as long after each further
	// failure, while the next attempt would come before the message
	// expires (its expiresAfterSeconds). Alexa's first retry comes after
	// AlexaFirstRetry, which "alexa-oos emulator" uses. Zero, the
	// default, sends once: a test sees the failure as final, and
	// WaitSkill returns without waiting for retries that may come minutes
	// later. A failure waiting for its retry is recorded as
	// DeliveryFailed with NextAttempt set; other requests (subscription
	// changes, grants) are sent once.
	FirstRetry time.Duration
}

// CheckSkillEndpoint reports what is wrong with a skill endpoint URL, as
// an *alexa.ValidationError naming the field "skillEndpoint", or nil: it
// must be an absolute http or https URL without user information; plain
// http only to a loopback host (localhost, 127.0.0.1, ::1), as requests
// carry users' data; insecure (no certificate verification) only for a
// loopback host too.
func CheckSkillEndpoint(endpoint string, insecure bool) error {
	_, err := parseSkillEndpoint(endpoint, insecure)
	return err
}

func parseSkillEndpoint(endpoint string, insecure bool) (*url.URL, error) {
	var vs validate.Violations
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		vs.Add("skillEndpoint", "must be an http or https URL", endpoint)
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") || u.Host == "":
		vs.Add("skillEndpoint", "must be an absolute http or https URL, such as https://skill.example.com/alexa", endpoint)
	case u.User != nil:
		vs.Add("skillEndpoint", "must not hold user information", u.Scheme+"://…@"+u.Host)
	case strings.EqualFold(u.Scheme, "http") && !httpx.IsLoopback(u.Hostname()):
		vs.Add("skillEndpoint", "may be plain http only on a loopback host (localhost, 127.0.0.1, ::1); use https", endpoint)
	case insecure && !httpx.IsLoopback(u.Hostname()):
		vs.Add("skillEndpoint", "may skip certificate verification only on a loopback host; trust its CA instead", endpoint)
	}
	if err := vs.Err("alexatest"); err != nil {
		return nil, err
	}
	return u, nil
}

// DeliveryState is where a request to the skill stands.
type DeliveryState string

// The states of a SkillDelivery.
const (
	// DeliveryQueued: waiting for a sender.
	DeliveryQueued DeliveryState = "queued"
	// DeliverySending: sent, waiting for the skill's answer.
	DeliverySending DeliveryState = "sending"
	// DeliveryDelivered: the skill answered 2xx.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: the skill answered another status, did not answer
	// within SkillOptions.Timeout, or could not be reached.
	DeliveryFailed DeliveryState = "failed"
	// DeliverySkipped: not sent, as the queue was full
	// (SkillOptions.QueueSize) or the emulator was closing.
	DeliverySkipped DeliveryState = "skipped"
)

// SkillDelivery is a request the emulator sent, or meant to send, to the
// skill. It holds no secret: a grant's code is not kept.
type SkillDelivery struct {
	// ID numbers the deliveries from 0, in the order they were queued.
	ID uint64 `json:"id"`
	// Type is the request type, such as "Messaging.MessageReceived".
	Type string `json:"type"`
	// UserID is context.System.user.userId of the request.
	UserID    string `json:"userId"`
	RequestID string `json:"requestId"`
	// EventNames are, for a ProactiveSubscriptionChanged request, the
	// user's subscriptions it lists.
	EventNames []string      `json:"eventNames,omitempty"`
	State      DeliveryState `json:"state"`
	// StatusCode is the skill's HTTP status, 0 before or without an answer.
	StatusCode int `json:"statusCode,omitempty"`
	// Latency is from sending the request to the end of the skill's
	// answer. JSON gives it as latencyMs.
	Latency time.Duration `json:"-"`
	// Error says why a delivery failed or was skipped.
	Error string `json:"error,omitempty"`
	// Attempts is how many times the request was sent.
	Attempts int `json:"attempts"`
	// NextAttempt is when a failed skill message will be sent again (see
	// SkillOptions.FirstRetry); zero when no retry is due.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// Response is the start of the skill's answer, at most 1 KiB.
	Response string `json:"response,omitempty"`
	// Warning notes an answer Alexa would not accept though its status
	// is 2xx: a body that is not a JSON object with "version" and
	// "response", such as {"version":"1.0","response":{}}.
	Warning string    `json:"warning,omitempty"`
	Queued  time.Time `json:"queued"`
	Done    time.Time `json:"done,omitzero"`
}

// MarshalJSON adds latencyMs, the latency in milliseconds.
func (d SkillDelivery) MarshalJSON() ([]byte, error) {
	type plain SkillDelivery
	return json.Marshal(struct {
		plain
		LatencyMS float64 `json:"latencyMs,omitempty"`
	}{plain(d), float64(d.Latency.Microseconds()) / 1000})
}

// UnmarshalJSON reads latencyMs back into Latency.
func (d *SkillDelivery) UnmarshalJSON(b []byte) error {
	type plain SkillDelivery
	var v struct {
		plain
		LatencyMS float64 `json:"latencyMs"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = SkillDelivery(v.plain)
	d.Latency = time.Duration(v.LatencyMS * float64(time.Millisecond))
	return nil
}

// SkillStats counts the requests for the skill since the emulator
// started or was last reset.
type SkillStats struct {
	// Pending are queued or being sent.
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	// Failed counts the requests that failed for good: those waiting
	// for a retry are Retrying.
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Retrying are failed skill messages waiting for their next attempt
	// (SkillOptions.FirstRetry).
	Retrying int `json:"retrying"`
}

// SkillStatus is the JSON of GET /_emulator/skill.
type SkillStatus struct {
	// Endpoint is Options.SkillEndpoint, "" when none is set.
	Endpoint      string `json:"endpoint"`
	ApplicationID string `json:"applicationId"`
	// CAPath is the admin path of the CA PEM, CertURL the
	// SignatureCertChainUrl the requests carry.
	CAPath  string     `json:"caPath"`
	CertURL string     `json:"certUrl"`
	Stats   SkillStats `json:"stats"`
	// AllowUnsubscribed is Options.AllowUnsubscribed.
	AllowUnsubscribed bool `json:"allowUnsubscribed"`
}

// ErrNoSkillEndpoint is returned by SendGrant when Options.SkillEndpoint
// is not set: there is nobody to send the grant to.
var ErrNoSkillEndpoint = errors.New("alexatest: no skill endpoint is set (Options.SkillEndpoint, alexa-oos emulator --skill-endpoint)")

// skillSide sends requests to the skill. The queue is guarded by qmu; the
// records and counts by the emulator's mutex.
type skillSide struct {
	e           *Emulator
	endpoint    string // "" when none is set
	endpointErr error
	opts        SkillOptions
	client      alexa.HTTPClient
	transport   *http.Transport // ours, to close idle connections
	signer      func() *SkillSigner
	apiEndpoint atomic.Pointer[string]
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	qmu      sync.Mutex
	queue    []*skillJob
	workers  int
	pending  int
	retrying map[*skillJob]*time.Timer // failed messages waiting for a retry
	closed   bool
	changed  chan struct{} // closed and replaced when pending drops

	// Guarded by e.mu.
	log   *ring[SkillDelivery]
	stats SkillStats
	epoch uint64 // bumped by Reset, so late answers are not counted
}

// skillJob is one request for the skill.
type skillJob struct {
	id     uint64
	msg    uint64 // the message record's sequence number, when hasMsg
	hasMsg bool
	epoch  uint64
	sysCtx skill.Context
	req    skill.Request
	done   chan struct{}
	result SkillDelivery // set before done is closed
	// expires is when a skill message expires: no retry is sent after
	// it. Zero for other requests, which are sent once.
	expires time.Time
}

func newSkillSide(e *Emulator, o Options, records int, budget int64) *skillSide {
	so := o.Skill
	if so.ApplicationID == "" {
		so.ApplicationID = DefaultApplicationID
	}
	if so.Concurrency <= 0 {
		so.Concurrency = DefaultSkillConcurrency
	}
	if so.QueueSize <= 0 {
		so.QueueSize = DefaultSkillQueue
	}
	if so.Timeout <= 0 {
		so.Timeout = DefaultSkillTimeout
	}
	s := &skillSide{e: e, endpoint: o.SkillEndpoint, opts: so, changed: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.log = newRing(records, budget, deliverySize)
	if so.APIEndpoint != "" {
		s.apiEndpoint.Store(&so.APIEndpoint)
	}
	s.signer = sync.OnceValue(func() *SkillSigner {
		if so.Signer != nil {
			return so.Signer
		}
		sg, err := NewSkillSigner(SkillSignerOptions{})
		if err != nil {
			// Only a failing random source or key generation gets here.
			panic(err)
		}
		return sg
	})
	if s.endpoint == "" {
		return s
	}
	u, err := parseSkillEndpoint(s.endpoint, so.InsecureSkipVerify)
	if err != nil {
		s.endpointErr = err
		return s
	}
	if so.HTTPClient != nil {
		s.client = httpx.NoRedirects(so.HTTPClient)
		return s
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		RootCAs:            so.TLSRoots,
		InsecureSkipVerify: so.InsecureSkipVerify && httpx.IsLoopback(u.Hostname()),
		MinVersion:         tls.VersionTLS12,
	}
	tr.MaxIdleConnsPerHost = so.Concurrency
	s.transport = tr
	s.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

func deliverySize(d *SkillDelivery) int64 {
	n := 256 + len(d.Type) + len(d.UserID) + len(d.RequestID) + len(d.Error) + len(d.Response) + len(d.Warning)
	for _, s := range d.EventNames {
		n += 16 + len(s)
	}
	return int64(n)
}

// push appends v and returns its sequence number.
func (r *ring[T]) pushSeq(v T) uint64 {
	r.push(v)
	return r.next - 1
}

// find returns the record numbered seq, or nil once it is forgotten.
func (r *ring[T]) find(seq uint64) *T {
	if seq < r.first() || seq >= r.next {
		return nil
	}
	return r.at(int(seq - r.first()))
}

// prepare records a request for userID and returns its job, or nil when
// no skill endpoint is set. The caller holds e.mu and passes the job to
// enqueue once it has released it.
func (s *skillSide) prepare(userID string, req skill.Request) *skillJob {
	if s.endpoint == "" {
		return nil
	}
	c := req.Info()
	c.Type = skillRequestType(req)
	c.RequestID = "amzn1.echo-api.request." + newUUID()
	sys := skill.System{
		Application: skill.Application{ApplicationID: s.opts.ApplicationID},
		User:        skill.User{UserID: userID},
	}
	if p := s.apiEndpoint.Load(); p != nil {
		sys.APIEndpoint = *p
	}
	d := SkillDelivery{Type: c.Type, UserID: userID, RequestID: c.RequestID, State: DeliveryQueued, Queued: time.Now()}
	if r, ok := req.(*skill.ProactiveSubscriptionChanged); ok {
		d.EventNames = r.EventNames()
	}
	d.ID = s.log.next // the number pushSeq gives it
	s.log.push(d)
	return &skillJob{id: d.ID, epoch: s.epoch, sysCtx: skill.Context{System: sys}, req: req, done: make(chan struct{}), result: d}
}

// skillRequestType is the type skill.Encode gives req.
func skillRequestType(req skill.Request) string {
	switch req.(type) {
	case *skill.MessageReceived:
		return skill.TypeMessageReceived
	case *skill.ProactiveSubscriptionChanged:
		return skill.TypeProactiveSubscriptionChanged
	case *skill.AuthorizationGrant:
		return skill.TypeAuthorizationGrant
	}
	return req.Info().Type
}

// enqueue queues j for a sender, or records it skipped when the queue is
// full or the emulator closed. A nil j does nothing.
func (s *skillSide) enqueue(j *skillJob) {
	if j == nil {
		return
	}
	s.qmu.Lock()
	if s.closed || len(s.queue) >= s.opts.QueueSize {
		why := fmt.Sprintf("not sent: %d requests already wait for the skill (SkillOptions.QueueSize)", len(s.queue))
		if s.closed {
			why = "not sent: the emulator is closed"
		}
		s.qmu.Unlock()
		s.finish(j, SkillDelivery{State: DeliverySkipped, Error: why})
		return
	}
	s.push(j)
	s.qmu.Unlock()
}

// work sends queued requests until the queue is empty. Senders start on
// demand and end when idle, so an idle emulator holds no goroutine.
func (s *skillSide) work() {
	defer s.wg.Done()
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.workers--
			s.qmu.Unlock()
			return
		}
		j := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.qmu.Unlock()

		s.update(j, func(d *SkillDelivery) {
			d.State, d.NextAttempt = DeliverySending, time.Time{}
			d.Attempts++
		})
		out := s.send(j)
		if !s.retryLater(j, out) {
			s.finish(j, out)
		}
		s.release()
	}
}

// retryLater records a failed attempt of a skill message and schedules
// the next one, when SkillOptions.FirstRetry asks for retries and the
// next attempt comes before the message expires. It reports whether it
// did; if not, the failure is final.
func (s *skillSide) retryLater(j *skillJob, out SkillDelivery) bool {
	if out.State != DeliveryFailed || s.opts.FirstRetry <= 0 || j.expires.IsZero() {
		return false
	}
	wait := s.opts.FirstRetry
	for range j.result.Attempts - 1 {
		if wait *= 2; wait > 24*time.Hour {
			break
		}
	}
	next := time.Now().Add(wait)
	if next.After(j.expires) {
		return false
	}
	// Lock order: e.mu, then qmu (reset holds e.mu and takes qmu).
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if j.epoch != s.epoch {
		// Reset since: the delivery is forgotten, and not sent again.
		return false
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.closed {
		return false
	}
	s.updateLocked(j, func(d *SkillDelivery) {
		d.take(out)
		d.NextAttempt = next
	})
	s.stats.Retrying++
	if s.retrying == nil {
		s.retrying = map[*skillJob]*time.Timer{}
	}
	s.retrying[j] = time.AfterFunc(wait, func() { s.retryNow(j) })
	return true
}

// retryNow queues j again, its retry being due.
func (s *skillSide) retryNow(j *skillJob) {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if _, ok := s.retrying[j]; !ok {
		// Stopped by close or reset meanwhile.
		return
	}
	delete(s.retrying, j)
	s.stats.Retrying--
	s.push(j)
}

// push queues j and starts a sender if fewer than Concurrency run; the
// caller holds qmu.
func (s *skillSide) push(j *skillJob) {
	s.queue = append(s.queue, j)
	s.pending++
	if s.workers < s.opts.Concurrency {
		s.workers++
		s.wg.Add(1)
		go s.work()
	}
}

// release counts one queued request as done and wakes WaitSkill.
func (s *skillSide) release() {
	s.qmu.Lock()
	s.pending--
	close(s.changed)
	s.changed = make(chan struct{})
	s.qmu.Unlock()
}

// update changes j's records (the delivery, and the message it carries)
// under the emulator's lock.
func (s *skillSide) update(j *skillJob, f func(*SkillDelivery)) {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	s.updateLocked(j, f)
}

func (s *skillSide) updateLocked(j *skillJob, f func(*SkillDelivery)) {
	f(&j.result)
	if d := s.log.find(j.id); d != nil {
		*d = j.result
	}
	if j.hasMsg {
		if m := s.e.messages.find(j.msg); m != nil {
			// A new value, never changed later: copies of the record
			// taken earlier share the old one.
			snap := j.result
			m.Skill = &snap
		}
	}
}

// take copies the outcome of an attempt, out, into d.
func (d *SkillDelivery) take(out SkillDelivery) {
	d.State, d.StatusCode, d.Latency, d.Error, d.Response, d.Warning = out.State, out.StatusCode, out.Latency, out.Error, out.Response, out.Warning
}

// finish records j's outcome and releases whoever waits for it.
func (s *skillSide) finish(j *skillJob, out SkillDelivery) {
	s.e.mu.Lock()
	s.updateLocked(j, func(d *SkillDelivery) {
		d.take(out)
		d.NextAttempt, d.Done = time.Time{}, time.Now()
	})
	if j.epoch == s.epoch {
		switch out.State {
		case DeliveryDelivered:
			s.stats.Delivered++
		case DeliverySkipped:
			s.stats.Skipped++
		default:
			s.stats.Failed++
		}
	}
	s.e.mu.Unlock()
	close(j.done)
}

// send makes the request and reads the skill's answer.
func (s *skillSide) send(j *skillJob) SkillDelivery {
	if s.endpointErr != nil {
		return SkillDelivery{State: DeliveryFailed, Error: s.endpointErr.Error()}
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	j.req.Info().Timestamp = time.Now().UTC().Truncate(time.Millisecond)
	body, err := skill.Encode(j.sysCtx, j.req)
	if err != nil {
		return SkillDelivery{State: DeliveryFailed, Error: "encoding the request: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return SkillDelivery{State: DeliveryFailed, Error: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "alexa-oos-emulator/"+alexa.Version)
	s.signer().Sign(req, body)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		out := SkillDelivery{State: DeliveryFailed, Latency: time.Since(start), Error: err.Error()}
		if ctx.Err() == context.DeadlineExceeded {
			out.Error = fmt.Sprintf("no answer within %s (SkillOptions.Timeout): %v", s.opts.Timeout, err)
		}
		return out
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxSkillResponse))
	if err == nil {
		// Read the rest, within bounds, so the connection can be reused.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	}
	resp.Body.Close()
	out := SkillDelivery{StatusCode: resp.StatusCode, Latency: time.Since(start), Response: validUTF8(head)}
	switch {
	case err != nil && resp.StatusCode/100 == 2:
		out.State, out.Error = DeliveryFailed, "reading the skill's answer: "+err.Error()
	case resp.StatusCode/100 == 2:
		out.State = DeliveryDelivered
		out.Warning = checkSkillResponse(head, len(head) == maxSkillResponse)
	case resp.StatusCode/100 == 3:
		out.State, out.Error = DeliveryFailed, fmt.Sprintf("the skill answered %d; redirects are not followed", resp.StatusCode)
	default:
		out.State, out.Error = DeliveryFailed, fmt.Sprintf("the skill answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return out
}

// checkSkillResponse notes an answer that is not a response envelope.
func checkSkillResponse(body []byte, truncated bool) string {
	if truncated {
		return ""
	}
	var env struct {
		Version  *string         `json:"version"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Version == nil || len(env.Response) == 0 {
		return `the answer is not a response envelope such as {"version":"1.0","response":{}}, which Alexa expects`
	}
	return ""
}

func validUTF8(b []byte) string {
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// wait blocks until j is done or ctx ends, and returns its record.
func (s *skillSide) wait(ctx context.Context, j *skillJob) SkillDelivery {
	select {
	case <-j.done:
		return j.result // written before done was closed
	case <-ctx.Done():
	}
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	return j.result
}

// close stops sending: queued requests are skipped, requests being sent
// are cancelled, and it waits for the senders to end.
func (s *skillSide) close() {
	s.qmu.Lock()
	if s.closed {
		s.qmu.Unlock()
		return
	}
	s.closed = true
	queued := s.queue
	s.queue = nil
	var waiting []*skillJob
	for j, t := range s.retrying {
		t.Stop()
		waiting = append(waiting, j)
	}
	s.retrying = nil
	s.qmu.Unlock()
	s.cancel()
	for _, j := range queued {
		s.finish(j, SkillDelivery{State: DeliverySkipped, Error: "not sent: the emulator closed"})
		s.release()
	}
	for _, j := range waiting {
		// The last attempt's failure stands, with no retry to come.
		s.e.mu.Lock()
		s.stats.Retrying--
		s.e.mu.Unlock()
		last := j.result
		last.NextAttempt = time.Time{}
		last.Error += " (no retry: the emulator closed)"
		s.finish(j, last)
	}
	s.wg.Wait()
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}

// reset forgets the records and counts, and the retries due; the caller
// holds e.mu.
func (s *skillSide) reset() {
	s.log.reset()
	s.stats = SkillStats{}
	s.epoch++
	s.qmu.Lock()
	for j, t := range s.retrying {
		t.Stop()
		close(j.done)
	}
	s.retrying = nil
	s.qmu.Unlock()
}

// SkillSigner returns the signer of the requests sent to the skill:
// SkillOptions.Signer, or one made on first use. Its CA is what a skill
// under test trusts.
func (e *Emulator) SkillSigner() *SkillSigner { return e.sk.signer() }

// SkillVerifierOptions returns options under which skill.NewVerifier
// trusts only the emulator's CA, and fetches its chain in process:
//
//	h := &skill.Handler{Verifier: skill.NewVerifier(srv.SkillVerifierOptions()), ...}
//
// A skill in another process uses RemoteSkillVerifierOptions instead.
func (e *Emulator) SkillVerifierOptions() skill.VerifierOptions {
	return e.SkillSigner().VerifierOptions()
}

// SkillDeliveries returns the requests sent, or meant to be sent, to the
// skill that the emulator keeps, oldest first: the last
// Options.MaxRecords.
func (e *Emulator) SkillDeliveries() []SkillDelivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sk.log.all(nil)
}

// SkillStats counts the requests for the skill.
func (e *Emulator) SkillStats() SkillStats {
	e.mu.Lock()
	st := e.sk.stats
	e.mu.Unlock()
	e.sk.qmu.Lock()
	st.Pending = e.sk.pending
	e.sk.qmu.Unlock()
	return st
}

// SkillStatus returns the skill endpoint, the skill id, the CA's admin
// path, the chain URL and the counts: what GET /_emulator/skill answers.
func (e *Emulator) SkillStatus() SkillStatus {
	return SkillStatus{
		Endpoint: e.sk.endpoint, ApplicationID: e.sk.opts.ApplicationID,
		CAPath: AdminSkillCA, CertURL: e.SkillSigner().CertURL(),
		Stats: e.SkillStats(), AllowUnsubscribed: e.opts.AllowUnsubscribed,
	}
}

// WaitSkill waits until no request for the skill is queued or being
// sent, each having been answered, failed or skipped, or until ctx ends
// (then it returns ctx's error). A failed skill message waiting for its
// retry (SkillOptions.FirstRetry) is not waited for. Requests are sent in the background, so
// that the API answers without waiting for the skill: tests call
// WaitSkill before looking at what the skill received.
func (e *Emulator) WaitSkill(ctx context.Context) error {
	s := e.sk
	for {
		s.qmu.Lock()
		if s.pending == 0 {
			s.qmu.Unlock()
			return nil
		}
		ch := s.changed
		s.qmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the requests to the skill: queued ones are skipped, those
// being sent are cancelled, and it waits for them to end. Later ones are
// skipped. The APIs keep working. Server.Close calls it.
func (e *Emulator) Close() { e.sk.close() }

// setAPIEndpoint sets context.System.apiEndpoint, unless
// SkillOptions.APIEndpoint did.
func (s *skillSide) setAPIEndpoint(u string) {
	if s.opts.APIEndpoint == "" {
		s.apiEndpoint.Store(&u)
	}
}

func (e *Emulator) skillRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AdminSkill, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, e.SkillStatus())
	})
	mux.HandleFunc("GET "+AdminSkillCA, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(e.SkillSigner().CAPEM())
	})
	mux.HandleFunc("GET "+AdminSkillChain+"{file}", func(w http.ResponseWriter, r *http.Request) {
		sg := e.SkillSigner()
		if r.PathValue("file") != path.Base(sg.CertURL()) {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "no such certificate chain: this emulator signs with "+sg.CertURL(), nil)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(sg.ChainPEM())
	})
	mux.HandleFunc("GET "+AdminSkillDeliveries, func(w http.ResponseWriter, r *http.Request) {
		q, ok := parseList(w, r, "user", "type", "state")
		if !ok {
			return
		}
		user, typ, state := q.Get("user"), q.Get("type"), DeliveryState(q.Get("state"))
		list(e, w, e.sk.log, q, func(d *SkillDelivery) bool {
			return (user == "" || d.UserID == user) && (typ == "" || d.Type == typ) && (state == "" || d.State == state)
		})
	})
}

// RemoteSkillVerifierOptions returns options under which skill.NewVerifier
// trusts only the CA of the emulator at emulatorURL (such as
// http://127.0.0.1:8934), for a skill in another process than the
// emulator: it fetches the CA once, from AdminSkillCA, and its HTTPClient
// fetches the signing chain that the requests name
// (https://s3.amazonaws.com/echo.api/alexatest-….pem) from the emulator
// instead of Amazon, so the chain URL keeps the form Alexa's has. Any
// other chain URL gets 404, so such a verifier accepts the emulator's
// requests only. The emulator makes a new CA each time it starts: build
// the verifier again after restarting it.
//
// The admin paths answer loopback clients only unless the emulator allows
// others (Options.AllowRemoteAdmin, --allow-remote-admin).
func RemoteSkillVerifierOptions(ctx context.Context, emulatorURL string) (skill.VerifierOptions, error) {
	base := strings.TrimRight(emulatorURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		var vs validate.Violations
		vs.Add("emulatorURL", "must be the emulator's http or https URL, such as http://127.0.0.1:8934", emulatorURL)
		return skill.VerifierOptions{}, vs.Err("alexatest.RemoteSkillVerifierOptions")
	}
	hc := alexa.NewHTTPClient(alexa.HTTPOptions{})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+AdminSkillCA, nil)
	if err != nil {
		return skill.VerifierOptions{}, fmt.Errorf("alexatest: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return skill.VerifierOptions{}, &alexa.TransportError{Op: "alexatest.RemoteSkillVerifierOptions", Method: http.MethodGet, URL: base + AdminSkillCA, Err: err}
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return skill.VerifierOptions{}, &alexa.TransportError{Op: "alexatest.RemoteSkillVerifierOptions", Method: http.MethodGet, URL: base + AdminSkillCA, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return skill.VerifierOptions{}, fmt.Errorf("alexatest: GET %s: HTTP %d: %s", base+AdminSkillCA, resp.StatusCode, strings.TrimSpace(validUTF8(pem[:min(len(pem), 200)])))
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return skill.VerifierOptions{}, fmt.Errorf("alexatest: GET %s: no PEM certificate in the answer", base+AdminSkillCA)
	}
	return skill.VerifierOptions{Roots: roots, HTTPClient: remoteChainClient{base: base, next: hc}}, nil
}

// remoteChainClient fetches the emulator's chain for a chain URL on
// Amazon's host.
type remoteChainClient struct {
	base string
	next alexa.HTTPClient
}

func (c remoteChainClient) Do(req *http.Request) (*http.Response, error) {
	u := req.URL
	file := path.Base(path.Clean("/" + u.Path))
	if req.Method != http.MethodGet || !strings.EqualFold(u.Hostname(), skill.CertChainHost) || !strings.HasPrefix(file, "alexatest-") {
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{
			Status: "404 Not Found", StatusCode: http.StatusNotFound,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader("not an emulator chain")), Request: req,
		}, nil
	}
	out, err := http.NewRequestWithContext(req.Context(), http.MethodGet, c.base+AdminSkillChain+url.PathEscape(file), nil)
	if err != nil {
		return nil, err
	}
	return c.next.Do(out)
}
