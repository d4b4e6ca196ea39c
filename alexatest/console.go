package alexatest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa/proactive"
)

// The console: a web page, served by the emulator itself, that shows
// what the simulated users would see and hear, live. The page is static
// HTML, CSS and a small script embedded in the binary; it renders the
// ConsoleStatePath JSON, which the emulator pushes as Server-Sent Events
// on ConsoleStreamPath whenever something changes.

// Console paths. They answer the clients the admin paths answer (loopback
// unless Options.AllowRemoteAdmin) and, unless Options.AllowRemoteAdmin,
// only requests whose Host names a loopback address or localhost, so that
// a web page elsewhere cannot read them by pointing its own domain at
// 127.0.0.1 (DNS rebinding).
const (
	// ConsolePath serves the console page.
	ConsolePath = "/"
	// ConsoleStreamPath is the console's live feed: Server-Sent Events,
	// each an event named "state" whose data is {"now": time, "state":
	// the ConsoleStatePath JSON}. It takes the filters of
	// ConsoleStatePath. A feed is sent again only when it changed, at
	// most a few times a second, and a client too slow to take it is
	// disconnected: nothing queues for it.
	ConsoleStreamPath = "/_emulator/console/stream"
	// ConsoleStatePath answers what the console shows, as JSON, once:
	// users (notifications, skill messages, subscriptions, DataStore
	// devices), multicast notifications, traffic and tokens, newest
	// first. It takes ?user= (a userId), ?name= (an event name) and
	// ?status= (2xx, 4xx, 5xx, refused: 4xx, 5xx or dropped, or one
	// status such as 403).
	ConsoleStatePath = "/_emulator/console/state"
	// ConsoleReadPath marks notifications read: POST {"user": userId},
	// or {"user": "Multicast"} for the multicast ones.
	ConsoleReadPath = "/_emulator/console/read"
	// ConsoleSubscriptionsPath subscribes or unsubscribes a user, where
	// the emulator simulates subscriptions: POST {"user": userId,
	// "event": name, "subscribed": true}. 404 otherwise.
	ConsoleSubscriptionsPath = "/_emulator/console/subscriptions"

	consoleAssets = "/_emulator/console/assets/"
	consoleCalls  = "/_emulator/console/calls/"  // + seq: a call's request body
	consoleEvents = "/_emulator/console/events/" // + seq: an event's body
)

// MaxConsoleStreams is how many console feeds the emulator serves at
// once; one more is answered 503, so that forgotten tabs cannot make it
// hold unbounded connections.
const MaxConsoleStreams = 8

// The console's bounds: what one feed holds, so that its size stays
// under a megabyte whatever was sent. Everything kept is in the admin
// listings.
const (
	consoleUsers       = 20   // device cards, most recently active first
	consoleUserIDs     = 500  // userIds offered by the user filter
	consoleEventNames  = 200  // event names offered by the name filter
	consolePerUser     = 10   // notifications and messages per card
	consolePerOneUser  = 50   // the same, when the feed is filtered to one user
	consoleMulticast   = 20   // multicast notifications
	consoleTraffic     = 100  // calls in the traffic panel
	consoleTokens      = 50   // token requests
	consoleDevices     = 5    // DataStore devices per card
	consoleObjects     = 20   // objects per device
	consoleContent     = 512  // bytes of an object's content or a message's data
	consoleKeptCalls   = 1000 // calls kept for the traffic panel (fewer with MaxRecords)
	consoleBodyHead    = 16 << 10
	consoleErrorHead   = 4 << 10
	consoleReadMarks   = 10_000
	consoleMinInterval = 150 * time.Millisecond // between two builds of one feed
	consolePoll        = 2 * time.Second        // a feed looks for changes made without a request
	consoleKeepAlive   = 15 * time.Second
	consoleWriteWait   = 10 * time.Second // a feed's client must take each update within this
)

//go:embed console
var consoleFiles embed.FS

// consoleFeatures connect the console to the emulator's optional
// features; a nil func hides what it would show. recipients and
// skillAnswer are called with the emulator's lock held: they read the
// record and take no lock.
type consoleFeatures struct {
	// subscriptions lists who is subscribed to which event name.
	subscriptions func() []consoleSubscription
	// subscribe subscribes (on) or unsubscribes user to event.
	subscribe func(user, event string, on bool) error
	// recipients are the subscribers a multicast event reached.
	recipients func(ev *Event) []string
	// skillAnswer is how the skill endpoint answered the message, nil
	// when it was not delivered to one.
	skillAnswer func(m *Message) *consoleSkillAnswer
}

// consoleSubscription is one user subscribed to one event name.
type consoleSubscription struct {
	User  string `json:"user"`
	Event string `json:"event"`
}

// consoleSkillAnswer is how a skill endpoint answered a delivered message.
type consoleSkillAnswer struct {
	// Pending is true until the skill answered (or failed to).
	Pending bool `json:"pending,omitempty"`
	// Status is the skill's HTTP status, 0 when it did not answer.
	Status    int     `json:"status,omitempty"`
	LatencyMs float64 `json:"latencyMs,omitempty"`
	Error     string  `json:"error,omitempty"`
	// Attempts is how many times the message was sent to the skill;
	// NextAttempt when it will be sent again after a failure.
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
}

// console serves the web console and keeps its traffic log.
type console struct {
	e        *Emulator
	features consoleFeatures
	page     []byte
	assets   http.Handler
	// writeWait bounds each write to a feed (consoleWriteWait).
	writeWait time.Duration

	// read holds, per userId (or "Multicast"), the sequence number of the
	// first event not marked read. Guarded by e.mu.
	read map[string]uint64

	mu    sync.Mutex // guards calls; taken after e.mu, never before
	calls *ring[call]

	smu     sync.Mutex
	streams map[*feed]struct{}
	dropped int // feeds cut off as too slow
}

// feed is one connected console.
type feed struct {
	wake chan struct{} // a change happened; holds one, so changes coalesce
	quit chan struct{} // closed when the server shuts down
}

// call is an API call as the traffic panel shows it.
type call struct {
	Method, Path string
	Status       int // 0: the connection was dropped
	Code         string
	Message      string
	User, Event  string
	Body         []byte // the first consoleBodyHead bytes, secrets hidden
	BodySize     int64
	Received     time.Time
	Duration     time.Duration
}

func callSize(c *call) int64 {
	return int64(192 + len(c.Path) + len(c.Code) + len(c.Message) + len(c.User) + len(c.Event) + len(c.Body))
}

// newConsole serves the console on mux.
func newConsole(e *Emulator, mux *http.ServeMux) *console {
	kept := consoleKeptCalls
	switch {
	case e.opts.DiscardRecords || e.opts.MaxRecords < 0:
		kept = 0
	case e.opts.MaxRecords > 0:
		kept = min(kept, e.opts.MaxRecords)
	}
	budget := e.opts.MaxRecordBytes
	if budget <= 0 {
		budget = DefaultMaxRecordBytes
	}
	page, err := consoleFiles.ReadFile("console/index.html")
	if err != nil {
		panic(err) // embedded at build time
	}
	assets, _ := fs.Sub(consoleFiles, "console")
	c := &console{
		e:         e,
		features:  e.consoleHooks(),
		page:      page,
		assets:    http.StripPrefix(consoleAssets, http.FileServerFS(assets)),
		writeWait: consoleWriteWait,
		read:      map[string]uint64{},
		calls:     newRing(kept, budget, callSize),
		streams:   map[*feed]struct{}{},
	}
	mux.HandleFunc("GET /{$}", c.guard(c.servePage))
	mux.HandleFunc("GET "+consoleAssets, c.guard(c.serveAsset))
	mux.HandleFunc("GET "+ConsoleStreamPath, c.guard(c.serveStream))
	mux.HandleFunc("GET "+ConsoleStatePath, c.guard(c.serveState))
	mux.HandleFunc("GET "+consoleCalls+"{seq}", c.guard(c.serveCallBody))
	mux.HandleFunc("GET "+consoleEvents+"{seq}", c.guard(c.serveEventBody))
	mux.HandleFunc("POST "+ConsoleReadPath, c.guard(c.serveRead))
	mux.HandleFunc("POST "+ConsoleSubscriptionsPath, c.guard(c.serveSubscription))
	return c
}

// guard refuses console requests whose Host is not this machine (DNS
// rebinding), and changes sent by a page of another origin.
func (c *console) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !c.e.opts.AllowRemoteAdmin && !loopbackHost(r.Host) {
			apiError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("the console answers requests for localhost or a loopback address only (Host %q); allow others with --allow-remote-admin (Options.AllowRemoteAdmin)", r.Host), nil)
			return
		}
		if r.Method == http.MethodPost {
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
				apiError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("Origin %q: the console takes changes from its own page only", o), nil)
				return
			}
			if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
				apiError(w, http.StatusUnsupportedMediaType, "INVALID_REQUEST", "Content-Type: must be application/json", nil)
				return
			}
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h(w, r)
	}
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (c *console) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Everything comes from the emulator itself; no inline script or style.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Write(c.page)
}

func (c *console) serveAsset(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	c.assets.ServeHTTP(w, r)
}

// observe is called first for every request the emulator serves. For an
// API call it returns a writer that records the call for the traffic
// panel; the returned func, deferred, records it and wakes the feeds. A
// change through the admin paths wakes the feeds too.
func (c *console) observe(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	p := r.URL.Path
	if p == HealthPath || isAdmin(p) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return w, func() {}
		}
		return w, c.changed
	}
	t := &tracked{ResponseWriter: w, c: c, start: time.Now()}
	t.rec = call{Method: r.Method, Path: r.URL.EscapedPath(), Received: t.start}
	if r.URL.RawQuery != "" {
		t.rec.Path += "?" + string(redactForm([]byte(r.URL.RawQuery), false))
	}
	t.rec.User, _ = strings.CutPrefix(p, MessagesPath)
	if t.rec.User == p || strings.Contains(t.rec.User, "/") {
		t.rec.User = ""
	}
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	t.form = c.e.callKey(p) == TokenPath || strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
	head := consoleBodyHead
	if c.calls.max <= 0 {
		head = 0 // no call is kept: only count the body
	}
	t.body = &headReader{rc: r.Body, max: head}
	r.Body = t.body
	return t, t.done
}

// changed wakes every feed; a feed already woken stays so, once.
func (c *console) changed() {
	c.smu.Lock()
	defer c.smu.Unlock()
	for f := range c.streams {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// reset forgets the traffic and the read marks. The emulator's lock is held.
func (c *console) reset() {
	clear(c.read)
	c.mu.Lock()
	c.calls.reset()
	c.mu.Unlock()
}

// closeStreams ends the feeds connected now, so that a server can shut
// down: a feed never ends by itself.
func (c *console) closeStreams() {
	c.smu.Lock()
	defer c.smu.Unlock()
	for f := range c.streams {
		close(f.quit)
		delete(c.streams, f)
	}
}

// headReader passes a request body through, keeping its first max bytes.
type headReader struct {
	rc   io.ReadCloser
	max  int
	head []byte
	n    int64
}

func (h *headReader) Read(p []byte) (int, error) {
	n, err := h.rc.Read(p)
	if keep := min(n, h.max-len(h.head)); keep > 0 {
		h.head = append(h.head, p[:keep]...)
	}
	h.n += int64(n)
	return n, err
}

func (h *headReader) Close() error { return h.rc.Close() }

// tracked records one API call's status and refusal.
type tracked struct {
	http.ResponseWriter
	c        *console
	rec      call
	start    time.Time
	body     *headReader
	form     bool // a form, such as an LWA token request: it holds secrets
	status   int
	hijacked bool
	errBody  []byte
}

func (t *tracked) WriteHeader(code int) {
	if t.status == 0 && code >= 200 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *tracked) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	if t.status >= 400 {
		if keep := min(len(b), consoleErrorHead-len(t.errBody)); keep > 0 {
			t.errBody = append(t.errBody, b[:keep]...)
		}
	}
	return t.ResponseWriter.Write(b)
}

// Hijack lets the dropped-connection faults through; the call is shown
// as dropped.
func (t *tracked) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	t.hijacked = true
	return h.Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *tracked) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// done records the call. It is deferred by ServeHTTP, so it also runs
// when a fault aborts the handler, which it lets go on.
func (t *tracked) done() {
	if v := recover(); v != nil {
		t.hijacked = true
		defer panic(v)
	}
	rec := t.rec
	rec.Duration = time.Since(t.start)
	rec.Status = t.status
	switch {
	case t.hijacked:
		rec.Status, rec.Message = 0, "an injected fault took the connection: no answer, or one cut short"
	case rec.Status == 0:
		rec.Status = http.StatusOK
	}
	if rec.Status >= 400 {
		rec.Code, rec.Message = refusal(rec.Status, t.errBody)
	}
	rec.BodySize = t.body.n
	rec.Body = t.body.head
	if t.form {
		rec.Body = redactForm(rec.Body, true)
	} else if int64(len(rec.Body)) != rec.BodySize {
		// Only a whole body is read for its user and event.
	} else if user, event := aboutBody(rec.Body); user != "" || event != "" {
		rec.User, rec.Event = cmpOr(rec.User, user), event
	}
	c := t.c
	c.mu.Lock()
	c.calls.push(rec)
	c.mu.Unlock()
	c.changed()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// refusal reads the reason and message of an error body, whichever of
// the emulator's shapes it has: Alexa's {"code","message":"REASON: ..."},
// LWA's {"error","error_description"} or DataStore's {"type","message"}.
func refusal(status int, body []byte) (code, message string) {
	var v struct {
		Message string `json:"message"`
		Error   string `json:"error"`
		Desc    string `json:"error_description"`
		Type    string `json:"type"`
	}
	if json.Unmarshal(body, &v) != nil {
		// A plain answer: its first line, which cannot be the headers an
		// echoing proxy (Fault.Echo) sends back, Authorization included.
		text, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return http.StatusText(status), cutUTF8(strings.TrimSpace(text), 200)
	}
	switch {
	case v.Error != "":
		return v.Error, v.Desc
	case v.Type != "":
		return v.Type, v.Message
	}
	if reason, rest, ok := strings.Cut(v.Message, ": "); ok && reason != "" && strings.Trim(reason, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
		return reason, rest
	}
	return http.StatusText(status), v.Message
}

// redactForm hides the secrets of a form or query. In a form (an LWA
// token request) only the grant type, client id, scope and redirect URI
// are shown; in a query, values whose names speak of a token, secret,
// code or password are hidden.
func redactForm(body []byte, form bool) []byte {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return []byte("[not a valid form: not shown]")
	}
	for k := range f {
		lk := strings.ToLower(k)
		switch {
		case form && (k == "grant_type" || k == "client_id" || k == "scope" || k == "redirect_uri"):
		case !form && !strings.Contains(lk, "token") && !strings.Contains(lk, "secret") && !strings.Contains(lk, "code") && !strings.Contains(lk, "password"):
		default:
			f[k] = []string{"[redacted]"}
		}
	}
	return []byte(f.Encode())
}

// aboutBody finds the user and event name an API body is about, when its
// head is a whole JSON object.
func aboutBody(head []byte) (user, event string) {
	var v struct {
		Event struct {
			Name string `json:"name"`
		} `json:"event"`
		RelevantAudience struct {
			Payload struct {
				User string `json:"user"`
			} `json:"payload"`
		} `json:"relevantAudience"`
		Target struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"target"`
	}
	if len(head) == 0 || head[0] != '{' || json.Unmarshal(head, &v) != nil {
		return "", ""
	}
	user = v.RelevantAudience.Payload.User
	if v.Target.Type == "USER" {
		user = v.Target.ID
	}
	return user, v.Event.Name
}

// consoleFilter narrows what the console shows.
type consoleFilter struct {
	User   string `json:"user,omitempty"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status,omitempty"`
}

// parseConsoleFilter reads ?user= ?name= ?status=; it answers 400 and
// returns false for an unknown parameter or a bad status.
func parseConsoleFilter(w http.ResponseWriter, r *http.Request) (consoleFilter, bool) {
	q := r.URL.Query()
	for k := range q {
		if k != "user" && k != "name" && k != "status" {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("%s: unknown parameter; the console takes user, name, status", k), nil)
			return consoleFilter{}, false
		}
	}
	f := consoleFilter{User: q.Get("user"), Name: q.Get("name"), Status: q.Get("status")}
	switch f.Status {
	case "", "2xx", "4xx", "5xx", "refused":
	default:
		if n, err := strconv.Atoi(f.Status); err != nil || n < 100 || n > 599 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("status: must be 2xx, 4xx, 5xx, refused or an HTTP status such as 403 (got %q)", f.Status), nil)
			return f, false
		}
	}
	return f, true
}

// status reports whether an answer with this status is shown; 0 is a
// dropped connection.
func (f consoleFilter) status(s int) bool {
	switch f.Status {
	case "":
		return true
	case "2xx":
		return s >= 200 && s < 300
	case "4xx":
		return s >= 400 && s < 500
	case "5xx":
		return s >= 500
	case "refused":
		return s >= 400 || s == 0
	}
	return strconv.Itoa(s) == f.Status
}

// consoleState is the JSON of ConsoleStatePath: what the console shows.
// Lists are newest first; each "more" counts what matched but is not
// shown.
type consoleState struct {
	Now      time.Time     `json:"now"`
	Filter   consoleFilter `json:"filter"`
	Features struct {
		// Subscriptions and SkillAnswers are true where the emulator
		// simulates them.
		Subscriptions bool `json:"subscriptions"`
		SkillAnswers  bool `json:"skillAnswers"`
	} `json:"features"`
	Users     []*consoleUser `json:"users"`
	MoreUsers int            `json:"moreUsers"`
	// UserIDs and EventNames are what the filters offer.
	UserIDs    []string `json:"userIds"`
	EventNames []string `json:"eventNames"`
	Multicast  struct {
		Notifications []consoleNotification `json:"notifications"`
		More          int                   `json:"more"`
		Unread        int                   `json:"unread"`
	} `json:"multicast"`
	// Devices are DataStore devices of no user (targeted by deviceId).
	Devices     []consoleDevice `json:"devices"`
	Traffic     []consoleCall   `json:"traffic"`
	MoreTraffic int             `json:"moreTraffic"`
	Tokens      []consoleToken  `json:"tokens"`
	MoreTokens  int             `json:"moreTokens"`
	// Kept and Evicted count the records the emulator holds and has
	// forgotten (Options.MaxRecords), by kind.
	Kept    map[string]int    `json:"kept"`
	Evicted map[string]uint64 `json:"evicted"`
	// Feeds is how many consoles are connected; Dropped how many were
	// cut off as too slow.
	Feeds   int `json:"feeds"`
	Dropped int `json:"dropped"`
}

// consoleUser is a simulated user: a device card.
type consoleUser struct {
	ID            string                `json:"id"`
	Unread        int                   `json:"unread"`
	Notifications []consoleNotification `json:"notifications"`
	MoreNotes     int                   `json:"moreNotifications"`
	Messages      []consoleMessage      `json:"messages"`
	MoreMessages  int                   `json:"moreMessages"`
	// Subscriptions are event names; absent where not simulated.
	Subscriptions []string        `json:"subscriptions,omitempty"`
	Devices       []consoleDevice `json:"devices"`
	MoreDevices   int             `json:"moreDevices"`

	last time.Time
}

// consoleNotification is an accepted proactive event as a user hears it.
type consoleNotification struct {
	Seq         uint64          `json:"seq"`
	Name        string          `json:"name"`
	Stage       proactive.Stage `json:"stage"`
	ReferenceID string          `json:"referenceId"`
	// Audience is "unicast", or "multicast" (received as a subscriber).
	Audience string `json:"audience"`
	// Recipients counts the subscribers a multicast event reached, when
	// subscriptions are simulated.
	Recipients *int               `json:"recipients,omitempty"`
	Preview    []proactive.Spoken `json:"preview"`
	Received   time.Time          `json:"received"`
	Expiry     time.Time          `json:"expiry"`
	Unread     bool               `json:"unread"`
	BodyURL    string             `json:"bodyUrl"`
}

// consoleMessage is an accepted skill message.
type consoleMessage struct {
	Seq uint64 `json:"seq"`
	// Data is the message's data as compact JSON text, cut at
	// consoleContent bytes (Truncated) of DataBytes.
	Data                string              `json:"data"`
	DataBytes           int                 `json:"dataBytes"`
	Truncated           bool                `json:"truncated,omitempty"`
	ExpiresAfterSeconds int                 `json:"expiresAfterSeconds"`
	Received            time.Time           `json:"received"`
	Skill               *consoleSkillAnswer `json:"skill,omitempty"`
}

// consoleDevice is a DataStore device and what it stores.
type consoleDevice struct {
	ID          string          `json:"id"`
	Online      bool            `json:"online"`
	Removed     bool            `json:"removed,omitempty"`
	Pending     int             `json:"pending"`
	StoredBytes int             `json:"storedBytes"`
	Objects     []consoleObject `json:"objects"`
	MoreObjects int             `json:"moreObjects"`
}

type consoleObject struct {
	Namespace string `json:"namespace"`
	Key       string `json:"key"`
	Content   string `json:"content"`
}

// consoleCall is an API call in the traffic panel.
type consoleCall struct {
	Seq        uint64    `json:"seq"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	Code       string    `json:"code,omitempty"`
	Message    string    `json:"message,omitempty"`
	User       string    `json:"user,omitempty"`
	Event      string    `json:"event,omitempty"`
	Received   time.Time `json:"received"`
	DurationMs float64   `json:"durationMs"`
	BodyBytes  int64     `json:"bodyBytes"`
	BodyURL    string    `json:"bodyUrl,omitempty"`
}

// consoleToken is a token request: never the token.
type consoleToken struct {
	GrantType string     `json:"grantType"`
	ClientID  string     `json:"clientId"`
	Scope     string     `json:"scope,omitempty"`
	Status    int        `json:"status"`
	Error     string     `json:"error,omitempty"`
	Received  time.Time  `json:"received"`
	Expiry    *time.Time `json:"expiry,omitempty"`
}

// build gathers what the console shows with filter f.
func (c *console) build(f consoleFilter) *consoleState {
	e, feats := c.e, c.features
	st := &consoleState{Filter: f, Users: []*consoleUser{}, UserIDs: []string{}, EventNames: []string{}, Devices: []consoleDevice{}, Traffic: []consoleCall{},
		Tokens: []consoleToken{}, Kept: map[string]int{}, Evicted: map[string]uint64{}}
	st.Features.Subscriptions = feats.subscriptions != nil && feats.subscribe != nil
	st.Features.SkillAnswers = feats.skillAnswer != nil
	st.Multicast.Notifications = []consoleNotification{}

	subs := map[string][]string{}
	if feats.subscriptions != nil {
		for _, s := range feats.subscriptions() {
			subs[s.User] = append(subs[s.User], s.Event)
		}
	}
	ds := e.ds
	ds.mu.Lock()
	deviceUsers := slices.Collect(maps.Keys(ds.users))
	ds.mu.Unlock()

	perUser := consolePerUser
	if f.User != "" {
		perUser = consolePerOneUser
	}
	now := time.Now()
	accepted := f.status(http.StatusAccepted)
	matchName := func(name string) bool { return f.Name == "" || f.Name == name }

	e.mu.Lock()
	// Pass 1: every user known, with their latest activity.
	last := map[string]time.Time{}
	seen := func(u string, t time.Time) {
		if cur, ok := last[u]; !ok || t.After(cur) {
			last[u] = t
		}
	}
	for _, u := range e.opts.KnownUsers {
		seen(u, time.Time{})
	}
	for _, u := range deviceUsers {
		seen(u, time.Time{})
	}
	for u := range subs {
		seen(u, time.Time{})
	}
	names := map[string]bool{}
	for i := range e.events.n {
		ev := e.events.at(i)
		if len(names) < consoleEventNames {
			names[ev.Request.Event.Name] = true
		}
		if ev.Audience != string(proactive.Multicast) {
			seen(ev.Audience, ev.Received)
		} else if feats.recipients != nil {
			for _, u := range feats.recipients(ev) {
				seen(u, ev.Received)
			}
		}
	}
	for i := range e.messages.n {
		m := e.messages.at(i)
		seen(m.UserID, m.Received)
	}
	delete(last, "")
	all := slices.Collect(maps.Keys(last))
	slices.SortFunc(all, func(a, b string) int {
		if c := last[b].Compare(last[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	st.UserIDs = append(st.UserIDs, all[:min(len(all), consoleUserIDs)]...)
	for n := range names {
		if n != "" {
			st.EventNames = append(st.EventNames, n)
		}
	}
	for _, s := range proactive.Schemas() {
		if !names[s.Name] {
			st.EventNames = append(st.EventNames, s.Name)
		}
	}
	slices.Sort(st.EventNames)

	// The cards: the most recently active users the filter keeps.
	cards := map[string]*consoleUser{}
	for _, u := range all {
		if f.User != "" && u != f.User {
			continue
		}
		if len(cards) == consoleUsers {
			st.MoreUsers++
			continue
		}
		cu := &consoleUser{ID: u, Notifications: []consoleNotification{}, Messages: []consoleMessage{}, Devices: []consoleDevice{}, last: last[u]}
		if feats.subscriptions != nil {
			cu.Subscriptions = []string{}
			for _, ev := range subs[u] {
				if matchName(ev) {
					cu.Subscriptions = append(cu.Subscriptions, ev)
				}
			}
			slices.Sort(cu.Subscriptions)
		}
		cards[u] = cu
		st.Users = append(st.Users, cu)
	}
	if f.User != "" && cards[f.User] == nil {
		// A user the emulator has not heard of yet still gets a card.
		cu := &consoleUser{ID: f.User, Notifications: []consoleNotification{}, Messages: []consoleMessage{}, Devices: []consoleDevice{}}
		cards[f.User] = cu
		st.Users = append(st.Users, cu)
	}

	// Pass 2: their notifications and messages, newest first.
	unread := func(key string, seq uint64, ev *Event) bool {
		return seq >= c.read[key] && ev.Request.ExpiryTime.After(now)
	}
	add := func(cu *consoleUser, n consoleNotification) {
		if n.Unread {
			cu.Unread++
		}
		if len(cu.Notifications) < perUser {
			cu.Notifications = append(cu.Notifications, n)
		} else {
			cu.MoreNotes++
		}
	}
	for i := e.events.n - 1; i >= 0; i-- {
		ev := e.events.at(i)
		if !accepted || !matchName(ev.Request.Event.Name) {
			continue
		}
		seq := e.events.first() + uint64(i)
		n := consoleNotification{Seq: seq, Name: ev.Request.Event.Name, Stage: ev.Stage, ReferenceID: ev.Request.ReferenceID, Audience: "unicast",
			Preview: ev.Preview, Received: ev.Received, Expiry: ev.Request.ExpiryTime, BodyURL: consoleEvents + strconv.FormatUint(seq, 10)}
		if n.Preview == nil {
			n.Preview = []proactive.Spoken{}
		}
		if ev.Audience != string(proactive.Multicast) {
			if cu := cards[ev.Audience]; cu != nil {
				n.Unread = unread(ev.Audience, seq, ev)
				add(cu, n)
			}
			continue
		}
		n.Audience = "multicast"
		var recips []string
		if feats.recipients != nil {
			recips = feats.recipients(ev)
			n.Recipients = new(len(recips))
		}
		// Without subscriptions the recipients are unknown: a multicast
		// event is shown whatever the user filter, as it may reach them.
		if f.User == "" || feats.recipients == nil || slices.Contains(recips, f.User) {
			m := n
			m.Unread = unread(string(proactive.Multicast), seq, ev)
			if m.Unread {
				st.Multicast.Unread++
			}
			if len(st.Multicast.Notifications) < consoleMulticast {
				st.Multicast.Notifications = append(st.Multicast.Notifications, m)
			} else {
				st.Multicast.More++
			}
		}
		for _, u := range recips {
			if cu := cards[u]; cu != nil {
				m := n
				m.Unread = unread(u, seq, ev)
				add(cu, m)
			}
		}
	}
	for i := e.messages.n - 1; i >= 0; i-- {
		m := e.messages.at(i)
		cu := cards[m.UserID]
		if cu == nil || !accepted || f.Name != "" {
			continue
		}
		if len(cu.Messages) == perUser {
			cu.MoreMessages++
			continue
		}
		cm := consoleMessage{Seq: e.messages.first() + uint64(i), Data: string(m.Data), DataBytes: len(m.Data), ExpiresAfterSeconds: m.ExpiresAfterSeconds, Received: m.Received}
		if len(cm.Data) > consoleContent {
			cm.Data, cm.Truncated = cutUTF8(cm.Data, consoleContent), true
		}
		if feats.skillAnswer != nil {
			cm.Skill = feats.skillAnswer(m)
		}
		cu.Messages = append(cu.Messages, cm)
	}
	for i := e.tokenLog.n - 1; i >= 0; i-- {
		tr := e.tokenLog.at(i)
		if !f.status(tr.Status) {
			continue
		}
		if len(st.Tokens) == consoleTokens {
			st.MoreTokens++
			continue
		}
		t := consoleToken{GrantType: tr.GrantType, ClientID: tr.ClientID, Scope: tr.Scope, Status: tr.Status, Error: tr.Error, Received: tr.Received}
		if tr.Status == http.StatusOK {
			t.Expiry = new(tr.Received.Add(e.opts.TokenLifetime))
		}
		st.Tokens = append(st.Tokens, t)
	}
	st.Kept["events"], st.Evicted["events"] = e.events.n, e.events.evicted
	st.Kept["messages"], st.Evicted["messages"] = e.messages.n, e.messages.evicted
	st.Kept["tokens"], st.Evicted["tokens"] = e.tokenLog.n, e.tokenLog.evicted
	e.mu.Unlock()

	// DataStore devices of the cards, and those of no user.
	ds.mu.Lock()
	for _, cu := range st.Users {
		for _, id := range ds.users[cu.ID] {
			if d := ds.devices[id]; d != nil && len(cu.Devices) < consoleDevices {
				cu.Devices = append(cu.Devices, consoleDeviceOf(ds.snapshot(d)))
			} else {
				cu.MoreDevices++
			}
		}
	}
	if f.User == "" {
		for _, id := range slices.Sorted(maps.Keys(ds.devices)) {
			if d := ds.devices[id]; d.user == "" && !d.removed && len(st.Devices) < consoleDevices {
				st.Devices = append(st.Devices, consoleDeviceOf(ds.snapshot(d)))
			}
		}
	}
	ds.mu.Unlock()

	c.mu.Lock()
	for i := c.calls.n - 1; i >= 0; i-- {
		cl := c.calls.at(i)
		if !f.status(cl.Status) || (f.User != "" && cl.User != f.User) || (f.Name != "" && cl.Event != f.Name) {
			continue
		}
		if len(st.Traffic) == consoleTraffic {
			st.MoreTraffic++
			continue
		}
		seq := c.calls.first() + uint64(i)
		cc := consoleCall{Seq: seq, Method: cl.Method, Path: cl.Path, Status: cl.Status, Code: cl.Code, Message: cl.Message, User: cl.User, Event: cl.Event,
			Received: cl.Received, DurationMs: float64(cl.Duration.Microseconds()) / 1000, BodyBytes: cl.BodySize}
		if cl.BodySize > 0 {
			cc.BodyURL = consoleCalls + strconv.FormatUint(seq, 10)
		}
		st.Traffic = append(st.Traffic, cc)
	}
	st.Kept["calls"], st.Evicted["calls"] = c.calls.n, c.calls.evicted
	c.mu.Unlock()

	c.smu.Lock()
	st.Feeds, st.Dropped = len(c.streams), c.dropped
	c.smu.Unlock()
	return st
}

// consoleDeviceOf is d as a card shows it: its first objects, each cut
// at consoleContent bytes.
func consoleDeviceOf(d Device) consoleDevice {
	cd := consoleDevice{ID: d.ID, Online: d.Online, Removed: d.Removed, Pending: d.Pending, StoredBytes: d.StoredBytes, Objects: []consoleObject{}}
	for _, ns := range slices.Sorted(maps.Keys(d.Store)) {
		for _, k := range slices.Sorted(maps.Keys(d.Store[ns])) {
			if len(cd.Objects) == consoleObjects {
				cd.MoreObjects++
				continue
			}
			cd.Objects = append(cd.Objects, consoleObject{Namespace: ns, Key: k, Content: cutUTF8(string(d.Store[ns][k]), consoleContent)})
		}
	}
	return cd
}

// cutUTF8 cuts s to at most n bytes on a character boundary, marking the
// cut with an ellipsis.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// encode is the JSON of a state, without its time, so that two states
// compare equal when nothing the console shows changed.
func encodeState(st *consoleState) []byte {
	st.Now = time.Time{}
	var b bytes.Buffer
	encodeJSON(&b, st, false)
	return bytes.TrimRight(b.Bytes(), "\n")
}

func (c *console) serveState(w http.ResponseWriter, r *http.Request) {
	f, ok := parseConsoleFilter(w, r)
	if !ok {
		return
	}
	st := c.build(f)
	st.Now = time.Now().UTC()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, st)
}

// serveStream serves a console feed: the state now, then again whenever
// it changes. Changes only wake the feed (coalescing), the state is built
// when the feed is ready for it, and a write that the client does not
// take within writeWait ends the feed: a slow client skips states or is
// dropped, and never makes the emulator hold more.
func (c *console) serveStream(w http.ResponseWriter, r *http.Request) {
	f, ok := parseConsoleFilter(w, r)
	if !ok {
		return
	}
	s := &feed{wake: make(chan struct{}, 1), quit: make(chan struct{})}
	c.smu.Lock()
	full := len(c.streams) >= MaxConsoleStreams
	if !full {
		c.streams[s] = struct{}{}
	}
	c.smu.Unlock()
	if full {
		w.Header().Set("Retry-After", "5")
		apiError(w, http.StatusServiceUnavailable, "TOO_MANY_CONSOLES", fmt.Sprintf("%d consoles are open already; close one and reload", MaxConsoleStreams), nil)
		return
	}
	defer func() {
		c.smu.Lock()
		delete(c.streams, s)
		c.smu.Unlock()
	}()
	rc := http.NewResponseController(w)
	// A feed's write deadline must not outlive it on a kept-alive connection.
	defer rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(c.writeWait))
		_, err := w.Write(b)
		if err == nil {
			err = rc.Flush()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.smu.Lock()
			c.dropped++
			c.smu.Unlock()
		}
		return err == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	poll := time.NewTicker(consolePoll)
	defer poll.Stop()
	var sent [sha256.Size]byte
	lastWrite := time.Now()
	for first := true; ; first = false {
		body := encodeState(c.build(f))
		if sum := sha256.Sum256(body); first || sum != sent {
			var b bytes.Buffer
			fmt.Fprintf(&b, "event: state\ndata: {\"now\":%q,\"state\":", time.Now().UTC().Format(time.RFC3339Nano))
			b.Write(body)
			b.WriteString("}\n\n")
			if !write(b.Bytes()) {
				return
			}
			sent, lastWrite = sum, time.Now()
		} else if time.Since(lastWrite) >= consoleKeepAlive {
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		case <-s.wake:
		case <-poll.C:
		}
		// Let a burst of changes land before building again.
		t := time.NewTimer(consoleMinInterval)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.quit:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// seqParam reads the {seq} path value.
func seqParam(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	n, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("seq: must be a record's number (got %q)", r.PathValue("seq")), nil)
	}
	return n, err == nil
}

// ringAt returns a copy of the record with sequence number seq, if kept.
func ringAt[T any](r *ring[T], seq uint64) (T, bool) {
	var zero T
	if seq < r.first() || seq >= r.next {
		return zero, false
	}
	return *r.at(int(seq - r.first())), true
}

// writeBody answers a recorded body as text: indented when it is JSON.
func writeBody(w http.ResponseWriter, body []byte, size int64) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Cache-Control", "no-store")
	var b bytes.Buffer
	if int64(len(body)) == size && json.Indent(&b, body, "", "  ") == nil {
		b.WriteByte('\n')
		w.Write(b.Bytes())
		return
	}
	w.Write(body)
	if int64(len(body)) < size {
		fmt.Fprintf(w, "\n… (the first %d of %d bytes)\n", len(body), size)
	}
}

func (c *console) serveCallBody(w http.ResponseWriter, r *http.Request) {
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	cl, found := ringAt(c.calls, seq)
	c.mu.Unlock()
	if !found {
		apiError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("call %d is no longer kept", seq), nil)
		return
	}
	writeBody(w, cl.Body, cl.BodySize)
}

func (c *console) serveEventBody(w http.ResponseWriter, r *http.Request) {
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	c.e.mu.Lock()
	ev, found := ringAt(c.e.events, seq)
	c.e.mu.Unlock()
	if !found {
		apiError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("event %d is no longer kept", seq), nil)
		return
	}
	writeBody(w, ev.Body, int64(len(ev.Body)))
}

// readJSON decodes a console request body into v; it answers 400 and
// returns false when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "body: "+err.Error(), nil)
		return false
	}
	return true
}

// serveRead marks every notification of a user (or the multicast ones)
// accepted so far as read.
func (c *console) serveRead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User string `json:"user"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.User == "" {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", `user: is required: a userId, or "Multicast"`, nil)
		return
	}
	e := c.e
	e.mu.Lock()
	if _, ok := c.read[in.User]; !ok && len(c.read) >= consoleReadMarks {
		for k := range c.read { // forget one mark: its notifications read as new again
			delete(c.read, k)
			break
		}
	}
	c.read[in.User] = e.events.next
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveSubscription subscribes or unsubscribes a user, where the emulator
// simulates subscriptions.
func (c *console) serveSubscription(w http.ResponseWriter, r *http.Request) {
	if c.features.subscribe == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "this emulator does not simulate subscriptions", nil)
		return
	}
	var in struct {
		User       string `json:"user"`
		Event      string `json:"event"`
		Subscribed *bool  `json:"subscribed"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	switch {
	case in.User == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "user: is required: the userId to subscribe", nil)
		return
	case in.Event == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "event: is required: an event name such as "+proactive.SchemaWeatherAlert, nil)
		return
	case in.Subscribed == nil:
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "subscribed: is required: true to subscribe, false to unsubscribe", nil)
		return
	}
	if err := c.features.subscribe(in.User, in.Event, *in.Subscribed); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error(), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
