package alexatest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/skill"
)

// Default credentials of an emulator that was given none. Any non-empty
// pair is accepted then; these are what Server.Config hands out.
const (
	DefaultClientID     = "amzn1.application-oa2-client.alexatest"
	DefaultClientSecret = "alexatest-secret"
)

// Paths the emulator serves besides the API paths of the proactive and
// messaging packages.
const (
	TokenPath = "/auth/o2/token"
	// HealthPath answers GET with 200 {"status":"ok"} to any client.
	HealthPath = "/healthz"
	// The admin paths answer loopback clients only, unless
	// Options.AllowRemoteAdmin.
	AdminEvents   = "/_emulator/events"
	AdminMessages = "/_emulator/messages"
	AdminTokens   = "/_emulator/tokens"
	AdminReset    = "/_emulator/reset"
)

// Defaults of Options.
const (
	// DefaultMaxRecords is how many events, messages and token requests
	// (each) the emulator keeps: the most recent.
	DefaultMaxRecords = 10_000
	// DefaultMaxRecordBytes bounds the estimated memory of the records of
	// each kind, so that large events cannot make 10,000 records cost
	// gigabytes: 32 MiB.
	DefaultMaxRecordBytes = 32 << 20
	// DefaultReadTimeout is how long a client may take to send a request's
	// headers, and then again its body.
	DefaultReadTimeout = 10 * time.Second
)

// Options configure an Emulator. The zero value accepts any non-empty
// credentials and any scope, issues one-hour tokens, validates with
// proactive.DefaultRules() and keeps the last DefaultMaxRecords records of
// each kind.
type Options struct {
	// ClientID and ClientSecret, when both set, are the only credentials
	// accepted (401 invalid_client otherwise).
	ClientID, ClientSecret string
	// RefreshToken, when set, is the only refresh token accepted.
	RefreshToken string
	// Scopes, when set, are the only scopes granted (400 invalid_scope
	// otherwise).
	Scopes []string
	// TokenLifetime is the expires_in of issued tokens. Default one hour.
	TokenLifetime time.Duration
	// Rules validate proactive events. Default proactive.DefaultRules().
	Rules *proactive.Rules
	// KnownUsers, when set, are the only userIds that exist (404 otherwise).
	KnownUsers []string
	// Seed makes the choice of calls hit by a Fault's Ratio repeatable.
	Seed uint64
	// RateLimit, when positive, is how many API calls per second the
	// emulator serves (token calls excepted); calls over it are answered
	// 429 with a Retry-After, as Alexa throttles.
	RateLimit float64
	// RateBurst is how many calls may arrive at once within RateLimit.
	// Default: one second's worth, at least 1.
	RateBurst int

	// MaxRecords is how many accepted events, accepted messages and token
	// requests the emulator keeps, each: the most recent; older ones are
	// forgotten (Events, Messages, TokenRequests and the admin listings
	// show what is kept). 0 means DefaultMaxRecords; negative keeps none.
	MaxRecords int
	// MaxRecordBytes bounds, per kind, the estimated memory of the records
	// kept: the oldest are forgotten beyond it. Default
	// DefaultMaxRecordBytes.
	MaxRecordBytes int64
	// DiscardRecords keeps no event or message (as MaxRecords < 0 does,
	// token requests excepted): they are only counted (see Accepted), so
	// memory stays flat however many arrive. Duplicate referenceIds are
	// still refused.
	DiscardRecords bool
	// MaxReferenceIDs is how many accepted referenceIds the emulator
	// remembers, to refuse a repeat for the same stage and audience with
	// 409. Each is remembered until its event's expiryTime (at least five
	// minutes, at most 24 hours or Rules.MaxExpiry after it was accepted);
	// when full, the one due to be forgotten soonest goes first. 0 means
	// DefaultMaxReferenceIDs; negative remembers none.
	MaxReferenceIDs int
	// MaxEventBytes is the largest proactive event body accepted; a larger
	// one is answered 413. Default proactive.MaxRequestBytes; at most
	// 16 MiB. Skill messages are bounded by messaging.MaxDataBytes of data.
	MaxEventBytes int
	// ReadTimeout is how long a client may take to send a request's
	// headers (when served by NewServer or "alexa-oos emulator"), and then
	// again its body; a slower client is answered 408 and its connection
	// closed. Default DefaultReadTimeout.
	ReadTimeout time.Duration
	// AllowRemoteAdmin serves the /_emulator/ paths to any client. By
	// default they answer 403 to clients not on a loopback address, as
	// they show what was sent and can reset the emulator. Behind a
	// reverse proxy on the same machine every client looks local.
	AllowRemoteAdmin bool
	// DataStore configures the DataStore API and its simulated devices.
	DataStore DataStoreOptions

	// SkillEndpoint, when set, is the URL of the skill the emulator calls
	// as Alexa does, each request signed by SkillSigner: every accepted
	// skill message is sent there as Messaging.MessageReceived, every
	// subscription change (Subscribe) as
	// AlexaSkillEvent.ProactiveSubscriptionChanged and every SendGrant as
	// Alexa.Authorization.Grant. Requests are sent in the background,
	// never delaying the API's answer; the records show the skill's
	// answer (Message.Skill, SkillDeliveries). It must be https, or plain
	// http on a loopback host (CheckSkillEndpoint); otherwise every
	// delivery fails, saying why.
	SkillEndpoint string
	// Skill tunes the requests to SkillEndpoint.
	Skill SkillOptions
	// AllowUnsubscribed accepts Unicast events to users who have not
	// subscribed to the event's name. By default they are answered 403,
	// as Alexa answers them: subscribe users with Subscribe or the admin
	// endpoint first.
	AllowUnsubscribed bool
}

// Emulator is the http.Handler that emulates LWA and both APIs.
type Emulator struct {
	opts        Options
	rules       proactive.Rules
	mux         *http.ServeMux
	maxEvent    int64
	readTimeout time.Duration

	mu       sync.Mutex
	tokens   map[string]issued
	live     *ring[string] // issued tokens, oldest first, to bound tokens
	tokenLog *ring[TokenRequest]
	events   *ring[Event]
	messages *ring[Message]
	refs     *refSet
	faults   []*Fault
	rng      *mrand.Rand
	calls    map[string]int // by route: a handful of keys
	accepted int
	limiter  *limiter
	ds       *DataStore
	sk       *skillSide
	subs     subscriptions
	grants   *grants
	console  *console // the web console (console.go)
}

// maxLiveTokens bounds the tokens the emulator honours at once; beyond
// it the oldest is forgotten (a call with it gets 403 INVALID_TOKEN, and
// clients fetch a new one).
const maxLiveTokens = 10_000

type issued struct {
	scope  string
	expiry time.Time
}

// refreshGrant is the scope recorded for a token of the refresh-token
// grant, which has none: such a token is good for no API.
const refreshGrant = "refresh_token"

// TokenRequest is a token request the emulator received. It holds no secret.
type TokenRequest struct {
	GrantType string `json:"grantType"`
	ClientID  string `json:"clientId"`
	Scope     string `json:"scope,omitempty"`
	// UserID is the user whose tokens were asked for: with
	// grant_type=authorization_code (a code from SendGrant) or a user's
	// refresh token.
	UserID   string    `json:"userId,omitempty"`
	Status   int       `json:"status"`
	Error    string    `json:"error,omitempty"`
	Received time.Time `json:"received"`
}

// Event is a proactive event the emulator accepted.
type Event struct {
	Stage proactive.Stage `json:"stage"`
	// Audience is the userId of a Unicast event, or "Multicast".
	Audience string `json:"audience"`
	// Request is the decoded body; Body the raw one.
	Request proactive.Request `json:"-"`
	Body    json.RawMessage   `json:"body"`
	// Preview holds, per locale, the sentence Alexa would speak.
	Preview []proactive.Spoken `json:"preview,omitempty"`
	// Subscribers are, for a Multicast event, the users subscribed to its
	// name when it was accepted, sorted, at most MaxListedSubscribers.
	Subscribers []string `json:"subscribers,omitempty"`
	// SubscriberCount is how many subscribed users the event reached: for
	// Multicast every user subscribed to its name; for Unicast 1, or 0
	// when Options.AllowUnsubscribed let it through to a user who is not
	// subscribed.
	SubscriberCount int         `json:"subscriberCount"`
	Header          http.Header `json:"-"`
	Received        time.Time   `json:"received"`
}

// Message is a skill message the emulator accepted.
type Message struct {
	UserID              string          `json:"userId"`
	Data                json.RawMessage `json:"data"`
	ExpiresAfterSeconds int             `json:"expiresAfterSeconds"`
	Header              http.Header     `json:"-"`
	Received            time.Time       `json:"received"`
	// Skill is the message's delivery to Options.SkillEndpoint as a
	// Messaging.MessageReceived request: queued at first, then with the
	// skill's status and latency once it answered. Nil when no skill
	// endpoint is set.
	Skill *SkillDelivery `json:"skill,omitempty"`
}

// New returns an Emulator.
func New(opts Options) *Emulator {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	e := &Emulator{
		opts:        opts,
		rules:       proactive.DefaultRules(),
		maxEvent:    proactive.MaxRequestBytes,
		readTimeout: DefaultReadTimeout,
		tokens:      map[string]issued{},
		rng:         mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		calls:       map[string]int{},
	}
	if opts.Rules != nil {
		e.rules = *opts.Rules
	}
	if opts.MaxEventBytes > 0 {
		e.maxEvent = min(int64(opts.MaxEventBytes), maxBody)
	}
	if opts.ReadTimeout > 0 {
		e.readTimeout = opts.ReadTimeout
	}
	records, kept := opts.MaxRecords, opts.MaxRecords
	if records == 0 {
		records, kept = DefaultMaxRecords, DefaultMaxRecords
	}
	if opts.DiscardRecords {
		kept = -1
	}
	budget := opts.MaxRecordBytes
	if budget <= 0 {
		budget = DefaultMaxRecordBytes
	}
	e.events = newRing(kept, budget, eventSize)
	e.messages = newRing(kept, budget, messageSize)
	e.tokenLog = newRing(records, budget, tokenRequestSize)
	e.live = newRing(maxLiveTokens, math.MaxInt64, func(*string) int64 { return 0 })
	e.live.onEvict = func(tok *string) { delete(e.tokens, *tok) }
	refs := opts.MaxReferenceIDs
	if refs == 0 {
		refs = DefaultMaxReferenceIDs
	}
	e.refs = newRefSet(refs, max(24*time.Hour, e.rules.MaxExpiry))
	e.limiter = newLimiter(opts.RateLimit, opts.RateBurst)
	e.sk = newSkillSide(e, opts, records, budget)
	e.subs = subscriptions{}
	e.grants = newGrants()
	mux := http.NewServeMux()
	// LWA's documented path and the capitalised one Amazon's SDKs use.
	mux.HandleFunc("POST "+TokenPath, e.token)
	mux.HandleFunc("POST /auth/O2/token", e.token)
	mux.HandleFunc("POST "+proactive.PathLive, e.proactive(proactive.Live))
	mux.HandleFunc("POST "+proactive.PathLive+"/", e.proactive(proactive.Live))
	mux.HandleFunc("POST "+proactive.PathDevelopment, e.proactive(proactive.Development))
	mux.HandleFunc("POST /v1/skillmessages/users/{userId}", e.message)
	mux.HandleFunc("GET "+HealthPath, health)
	mux.HandleFunc("GET "+AdminEvents, e.adminEvents)
	mux.HandleFunc("GET "+AdminMessages, e.adminMessages)
	mux.HandleFunc("GET "+AdminTokens, e.adminTokens)
	dso := opts.DataStore
	if dso.MaxRecords == 0 && opts.MaxRecords > 0 {
		// One knob (--max-records) for every kind of record.
		dso.MaxRecords = opts.MaxRecords
	}
	e.ds = newDataStore(e, dso, mux)
	e.skillRoutes(mux)
	e.subscriptionRoutes(mux)
	e.grantRoutes(mux)
	e.console = newConsole(e, mux)
	mux.HandleFunc("POST "+AdminReset, func(w http.ResponseWriter, r *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	e.mux = mux
	return e
}

// ServeHTTP reads the request body within the size and time limits,
// applies any injected fault and the rate limit, then serves the request.
// Admin paths are served to loopback clients only (see
// Options.AllowRemoteAdmin); the health path to anyone.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, served := e.console.observe(w, r) // the console's traffic panel and live updates
	defer served()
	p := r.URL.Path
	own := p == HealthPath || isAdmin(p)
	// Every body is read here, whatever the path, so that no client can
	// hold a connection by trickling one.
	if !e.readBody(w, r) {
		if !own {
			e.mu.Lock()
			e.calls[e.callKey(p)]++
			e.mu.Unlock()
		}
		return
	}
	if own {
		if isAdmin(p) && !e.opts.AllowRemoteAdmin && !fromLoopback(r) {
			apiError(w, http.StatusForbidden, "FORBIDDEN", "the emulator's admin paths answer loopback clients only; allow others with --allow-remote-admin (Options.AllowRemoteAdmin)", nil)
			return
		}
		e.mux.ServeHTTP(w, r)
		return
	}
	if f := e.takeFault(p); f != nil {
		if f.apply(w, r, e.mux) {
			return
		}
	}
	if e.throttle(w, r) {
		return
	}
	e.mux.ServeHTTP(w, r)
}

// Credentials returns the credentials the emulator accepts: the configured
// pair, or DefaultClientID and DefaultClientSecret.
func (e *Emulator) Credentials() alexa.Credentials {
	if e.opts.ClientID != "" && e.opts.ClientSecret != "" {
		return alexa.Credentials{ClientID: e.opts.ClientID, ClientSecret: e.opts.ClientSecret, RefreshToken: e.opts.RefreshToken}
	}
	rt := e.opts.RefreshToken
	if rt == "" {
		rt = "alexatest-refresh-token"
	}
	return alexa.Credentials{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret, RefreshToken: rt}
}

// lwaError writes an LWA error body. LWA's own wire fields are snake_case.
func lwaError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	encodeJSON(w, map[string]string{"error": code, "error_description": desc}, false)
}

// token is the LWA token endpoint.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	// ParseForm reads the body whatever the Content-Type header's case,
	// as long as it names a form; Amazon's SDKs send "Content-type".
	if err := r.ParseForm(); err != nil {
		lwaError(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form: "+err.Error())
		return
	}
	f := r.PostForm
	tr := TokenRequest{GrantType: f.Get("grant_type"), ClientID: f.Get("client_id"), Scope: f.Get("scope"), Received: time.Now()}
	status, code, desc := e.checkTokenRequest(f.Get("grant_type"), f.Get("client_id"), f.Get("client_secret"), f.Get("scope"), f.Get("refresh_token"), f.Get("code"))
	scope := tr.Scope
	if tr.GrantType == "refresh_token" {
		scope = refreshGrant
	}
	// A user's tokens: for a code from SendGrant, or a refresh token
	// issued for one.
	user := status == http.StatusOK && (tr.GrantType == "authorization_code" || isUserRefresh(f.Get("refresh_token")))
	if user {
		tr.UserID, status, code, desc = e.redeemUser(tr.GrantType, f.Get("code"), f.Get("refresh_token"))
		scope = userTokenScope
	}
	tr.Status, tr.Error = status, code
	var tok, refresh string
	e.mu.Lock()
	e.tokenLog.push(tr)
	if status == http.StatusOK {
		tok = "Atza|alexatest." + randomHex(16)
		e.tokens[tok] = issued{scope: scope, expiry: time.Now().Add(e.opts.TokenLifetime)}
		e.live.push(tok)
		if user && tr.GrantType == "authorization_code" {
			refresh = e.newUserRefresh(tr.UserID)
		}
	}
	e.mu.Unlock()
	if status != http.StatusOK {
		lwaError(w, status, code, desc)
		return
	}
	body := map[string]any{
		"access_token": tok,
		"expires_in":   int(e.opts.TokenLifetime / time.Second),
		"token_type":   "bearer",
	}
	switch {
	case refresh != "":
		body["refresh_token"] = refresh
	case tr.GrantType == "refresh_token":
		body["refresh_token"] = f.Get("refresh_token")
	default:
		body["scope"] = tr.Scope
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	encodeJSON(w, body, false)
}

func (e *Emulator) checkTokenRequest(grant, id, secret, scope, refresh, code string) (int, string, string) {
	switch {
	case grant == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : grant_type"
	case grant != "client_credentials" && grant != "refresh_token" && grant != "authorization_code":
		return http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server"
	case id == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_id"
	case secret == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_secret"
	}
	if e.opts.ClientID != "" && e.opts.ClientSecret != "" && (id != e.opts.ClientID || secret != e.opts.ClientSecret) {
		return http.StatusUnauthorized, "invalid_client", "Client authentication failed"
	}
	if grant == "authorization_code" {
		if code == "" {
			return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : code"
		}
		return http.StatusOK, "", "" // the code is checked by redeemUser
	}
	if grant == "refresh_token" {
		if refresh == "" {
			return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : refresh_token"
		}
		if e.opts.RefreshToken != "" && refresh != e.opts.RefreshToken && !isUserRefresh(refresh) {
			return http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
		}
		return http.StatusOK, "", ""
	}
	if scope == "" || (len(e.opts.Scopes) > 0 && !slices.Contains(e.opts.Scopes, scope)) {
		return http.StatusBadRequest, "invalid_scope", "The request has an invalid parameter : scope"
	}
	return http.StatusOK, "", ""
}

// apiError writes an Alexa API error body: {"code": status, "message":
// "REASON: message"}. Amazon's SDKs (Python, Node, Java) all model code
// as an integer, and Python fails to decode a string there, so code is
// the HTTP status and the symbolic reason (INVALID_REQUEST, ...) leads
// the message, where every SDK shows it. A numeric reason, as injected
// faults give, adds nothing to the message. extra adds fields, such as
// the violations of a 400.
func apiError(w http.ResponseWriter, status int, reason, message string, extra map[string]any) {
	body := map[string]any{"code": status, "message": message}
	if reason != "" && strings.Trim(reason, "0123456789") != "" {
		body["message"] = reason + ": " + message
	}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	encodeJSON(w, body, false)
}

// encodeJSON writes v as JSON without HTML escaping, so that "<", ">"
// and "&" in messages and data read as sent.
func encodeJSON(w io.Writer, v any, indent bool) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	enc.Encode(v)
}

// authorize checks the bearer token of an API request.
func (e *Emulator) authorize(w http.ResponseWriter, r *http.Request, scope string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		apiError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Request is missing the Authorization bearer token", nil)
		return false
	}
	e.mu.Lock()
	t, found := e.tokens[tok]
	e.mu.Unlock()
	switch {
	case !found:
		apiError(w, http.StatusForbidden, "INVALID_TOKEN", "The authentication token is invalid or doesn't have authentication to access the resource", nil)
	case time.Now().After(t.expiry):
		apiError(w, http.StatusForbidden, "EXPIRED_TOKEN", "The authentication token is expired", nil)
	case t.scope != scope:
		apiError(w, http.StatusForbidden, "INVALID_SCOPE", fmt.Sprintf("The authentication token has scope %q; this API needs %q", t.scope, scope), nil)
	default:
		return true
	}
	return false
}

func invalid(w http.ResponseWriter, err error) {
	var ve *alexa.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			msgs[i] = v.String()
		}
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", strings.Join(msgs, "; "), map[string]any{"violations": ve.Violations})
		return
	}
	apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error(), nil)
}

// tooLarge answers 413 for a body over an API's limit.
func tooLarge(w http.ResponseWriter, message string) {
	apiError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", message, nil)
}

func (e *Emulator) proactive(stage proactive.Stage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.authorize(w, r, proactive.Scope) {
			return
		}
		body, _ := io.ReadAll(r.Body) // read and bounded by ServeHTTP
		var req proactive.Request
		if err := json.Unmarshal(body, &req); err != nil {
			invalid(w, fmt.Errorf("body is not a JSON object: %v", err))
			return
		}
		if err := e.rules.Validate(&req); err != nil {
			invalid(w, err)
			return
		}
		audience := string(proactive.Multicast)
		unicast := req.RelevantAudience.Type == proactive.Unicast
		if unicast {
			audience = req.RelevantAudience.User()
		}
		var ev Event
		keep := e.events.max > 0
		if keep {
			spoken, _ := proactive.Preview(&req) // nil for schemas outside the catalogue
			ev = Event{Stage: stage, Audience: audience, Request: req, Body: body, Preview: spoken, Header: redact(r.Header), Received: time.Now()}
		}
		e.mu.Lock()
		var reached []string
		count := 0
		if unicast {
			if e.subs.has(audience, req.Event.Name) {
				count = 1
			} else if !e.opts.AllowUnsubscribed {
				e.mu.Unlock()
				notSubscribed(w, audience, req.Event.Name)
				return
			}
		} else {
			reached, count = e.subs.subscribers(req.Event.Name)
		}
		fresh := e.refs.add(refKeyOf(stage, audience, req.ReferenceID), req.ExpiryTime, time.Now())
		if fresh {
			e.accepted++
			if keep {
				ev.Subscribers, ev.SubscriberCount = reached, count
			}
			e.events.push(ev) // counted only, when none are kept
		}
		e.mu.Unlock()
		if !fresh {
			apiError(w, http.StatusConflict, "DUPLICATE_REFERENCE_ID", fmt.Sprintf("An event with referenceId %q was already created for this audience", req.ReferenceID), nil)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (e *Emulator) message(w http.ResponseWriter, r *http.Request) {
	if !e.authorize(w, r, messaging.Scope) {
		return
	}
	user := r.PathValue("userId")
	body, _ := io.ReadAll(r.Body) // read and bounded by ServeHTTP
	var in struct {
		Data                json.RawMessage `json:"data"`
		ExpiresAfterSeconds *json.Number    `json:"expiresAfterSeconds"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		invalid(w, fmt.Errorf("body is not a JSON object: %v", err))
		return
	}
	var data bytes.Buffer
	if json.Compact(&data, in.Data) == nil && data.Len() > messaging.MaxDataBytes {
		tooLarge(w, fmt.Sprintf("data: must be at most %d bytes as compact JSON (got %d bytes)", messaging.MaxDataBytes, data.Len()))
		return
	}
	m := &messaging.Message{Data: in.Data}
	if data.Len() > 0 {
		m.Data = json.RawMessage(data.Bytes())
	}
	if in.ExpiresAfterSeconds != nil {
		n, err := in.ExpiresAfterSeconds.Int64()
		if err != nil || n == 0 {
			// Zero would take the client-side default; on the wire it is
			// simply out of range.
			invalid(w, validate.Violations{{Field: "expiresAfterSeconds", Rule: fmt.Sprintf("must be %d to %d", messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds), Value: in.ExpiresAfterSeconds.String()}}.Err(""))
			return
		}
		m.ExpiresAfterSeconds = int(n)
	}
	enc, err := skillmsg.Encode(user, m.Data, m.ExpiresAfterSeconds, nil)
	if err != nil {
		invalid(w, err)
		return
	}
	if len(e.opts.KnownUsers) > 0 && !slices.Contains(e.opts.KnownUsers, user) {
		apiError(w, http.StatusNotFound, "USER_NOT_FOUND", "The passed userId does not exist", nil)
		return
	}
	var msg Message
	if e.messages.max > 0 {
		msg = Message{UserID: user, Data: enc.Data, ExpiresAfterSeconds: enc.ExpiresAfterSeconds, Header: redact(r.Header), Received: time.Now()}
	}
	e.mu.Lock()
	e.accepted++
	j := e.sk.prepare(user, &skill.MessageReceived{Message: enc.Data})
	if j != nil {
		d := j.result
		msg.Skill = &d
		j.msg, j.hasMsg = e.messages.pushSeq(msg), true
		// Alexa retries a skill message until it expires.
		j.expires = time.Now().Add(time.Duration(enc.ExpiresAfterSeconds) * time.Second)
	} else {
		e.messages.push(msg) // counted only, when none are kept
	}
	e.mu.Unlock()
	e.sk.enqueue(j) // in the background: the API answers at once
	w.WriteHeader(http.StatusAccepted)
}

// redact copies h with the bearer token hidden, so recorded requests can
// be printed and compared safely.
func redact(h http.Header) http.Header {
	c := h.Clone()
	if c.Get("Authorization") != "" {
		c.Set("Authorization", "Bearer [redacted]")
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Events returns the accepted proactive events the emulator keeps, oldest
// first: the last Options.MaxRecords (within Options.MaxRecordBytes).
func (e *Emulator) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events.all(nil)
}

// Messages returns the accepted skill messages the emulator keeps, oldest
// first: the last Options.MaxRecords (within Options.MaxRecordBytes).
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.messages.all(nil)
}

// MessagesFor returns the kept skill messages of one user, oldest first.
func (e *Emulator) MessagesFor(userID string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.messages.all(func(m *Message) bool { return m.UserID == userID })
}

// TokenRequests returns the token requests received, granted or not, that
// the emulator keeps: the last Options.MaxRecords.
func (e *Emulator) TokenRequests() []TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenLog.all(nil)
}

// Calls returns how many requests reached the route of path (faulted and
// refused ones included). Calls are counted per route, so that arbitrary
// paths cost no memory: the token path (either casing), each proactive
// stage, every skill-message path together (MessagesPath, whatever the
// user), the DataStore paths together, and every other path together.
func (e *Emulator) Calls(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[e.callKey(path)]
}

// MessagesPath is the path prefix of the Skill Messaging API.
const MessagesPath = "/v1/skillmessages/users/"

// Route keys of Calls besides the API paths.
const (
	datastorePrefix = "/v1/datastore/"
	otherRoute      = "other"
	adminPrefix     = "/_emulator/"
)

// callKey is the route path is counted under.
func (e *Emulator) callKey(path string) string {
	switch {
	case strings.EqualFold(path, TokenPath):
		return TokenPath
	case path == proactive.PathDevelopment:
		return proactive.PathDevelopment
	case path == proactive.PathLive || strings.HasPrefix(path, proactive.PathLive+"/"):
		return proactive.PathLive
	case strings.HasPrefix(path, MessagesPath):
		return MessagesPath
	case strings.HasPrefix(path, datastorePrefix):
		return datastorePrefix
	}
	return otherRoute
}

// ExpireTokens makes every issued token expired, as if an hour had passed:
// the emulator's APIs answer 401 to them, and a client fetches new ones.
// A user's token (authorization-code grant) is not checked by any API of
// the emulator, and lwa.UserTokens refreshes it by the expiry it stored:
// to test a refresh, give it a short Options.TokenLifetime (with a smaller
// RefreshMargin) or store an earlier Expiry.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, t := range e.tokens {
		t.expiry = time.Now().Add(-time.Second)
		e.tokens[k] = t
	}
}

// Reset forgets every token, event, message, referenceId, fault and count,
// the subscriptions, grant codes and users' tokens, and the records of
// requests sent to the skill (those being sent still go).
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = map[string]issued{}
	e.live.reset()
	e.tokenLog.reset()
	e.events.reset()
	e.refs.reset()
	e.messages.reset()
	e.faults = nil
	e.calls = map[string]int{}
	e.accepted = 0
	e.ds.reset()
	e.sk.reset()
	e.subs = subscriptions{}
	e.grants.reset()
	e.console.reset()
}

// writeJSON answers v as indented JSON, for the admin endpoints.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	encodeJSON(w, v, true)
}
