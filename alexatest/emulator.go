package alexatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
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
	TokenPath     = "/auth/o2/token"
	AdminEvents   = "/_emulator/events"
	AdminMessages = "/_emulator/messages"
	AdminTokens   = "/_emulator/tokens"
	AdminReset    = "/_emulator/reset"
)

// Options configure an Emulator. The zero value accepts any non-empty
// credentials and any scope, issues one-hour tokens and validates with
// proactive.DefaultRules.
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
	// Rules validate proactive events. Default proactive.DefaultRules.
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
	// DiscardRecords counts accepted events and messages (see Accepted)
	// without keeping them, so that Events and Messages stay empty and
	// memory flat however many arrive. Duplicate referenceIds are still
	// refused.
	DiscardRecords bool
	// DataStore configures the DataStore API and its simulated devices.
	DataStore DataStoreOptions
}

// Emulator is the http.Handler that emulates LWA and both APIs.
type Emulator struct {
	opts  Options
	rules proactive.Rules
	mux   *http.ServeMux

	mu       sync.Mutex
	tokens   map[string]issued
	tokenLog []TokenRequest
	events   []Event
	seen     map[string]bool // stage|audience|referenceId
	messages []Message
	faults   []*Fault
	rng      *mrand.Rand
	calls    map[string]int
	accepted int
	limiter  *limiter
	ds       *DataStore
}

type issued struct {
	scope  string
	expiry time.Time
}

// TokenRequest is a token request the emulator received. It holds no secret.
type TokenRequest struct {
	GrantType string    `json:"grantType"`
	ClientID  string    `json:"clientId"`
	Scope     string    `json:"scope,omitempty"`
	Status    int       `json:"status"`
	Error     string    `json:"error,omitempty"`
	Received  time.Time `json:"received"`
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
	Preview  []proactive.Spoken `json:"preview,omitempty"`
	Header   http.Header        `json:"-"`
	Received time.Time          `json:"received"`
}

// Message is a skill message the emulator accepted.
type Message struct {
	UserID              string          `json:"userId"`
	Data                json.RawMessage `json:"data"`
	ExpiresAfterSeconds int             `json:"expiresAfterSeconds"`
	Header              http.Header     `json:"-"`
	Received            time.Time       `json:"received"`
}

// New returns an Emulator.
func New(opts Options) *Emulator {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	e := &Emulator{
		opts:   opts,
		rules:  proactive.DefaultRules,
		tokens: map[string]issued{},
		seen:   map[string]bool{},
		rng:    mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		calls:  map[string]int{},
	}
	if opts.Rules != nil {
		e.rules = *opts.Rules
	}
	e.limiter = newLimiter(opts.RateLimit, opts.RateBurst)
	mux := http.NewServeMux()
	// LWA's documented path and the capitalised one Amazon's SDKs use.
	mux.HandleFunc("POST "+TokenPath, e.token)
	mux.HandleFunc("POST /auth/O2/token", e.token)
	mux.HandleFunc("POST "+proactive.PathLive, e.proactive(proactive.Live))
	mux.HandleFunc("POST "+proactive.PathLive+"/", e.proactive(proactive.Live))
	mux.HandleFunc("POST "+proactive.PathDevelopment, e.proactive(proactive.Development))
	mux.HandleFunc("POST /v1/skillmessages/users/{userId}", e.message)
	mux.HandleFunc("GET "+AdminEvents, e.adminEvents)
	mux.HandleFunc("GET "+AdminMessages, e.adminMessages)
	mux.HandleFunc("GET "+AdminTokens, e.adminTokens)
	e.ds = newDataStore(e, opts.DataStore, mux)
	mux.HandleFunc("POST "+AdminReset, func(w http.ResponseWriter, r *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	e.mux = mux
	return e
}

// ServeHTTP applies any injected fault, then serves the request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/_emulator/") {
		if f := e.takeFault(r.URL.Path); f != nil {
			if f.apply(w, r, e.mux) {
				return
			}
		}
		if e.throttle(w, r) {
			return
		}
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

// lwaError writes an LWA error body.
func lwaError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
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
	status, code, desc := e.checkTokenRequest(f.Get("grant_type"), f.Get("client_id"), f.Get("client_secret"), f.Get("scope"), f.Get("refresh_token"))
	tr.Status, tr.Error = status, code
	scope := tr.Scope
	if tr.GrantType == "refresh_token" {
		scope = lwa.RefreshTokenScope
	}
	var tok string
	e.mu.Lock()
	e.tokenLog = append(e.tokenLog, tr)
	if status == http.StatusOK {
		tok = "Atza|alexatest." + randomHex(16)
		e.tokens[tok] = issued{scope: scope, expiry: time.Now().Add(e.opts.TokenLifetime)}
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
	if tr.GrantType == "refresh_token" {
		body["refresh_token"] = f.Get("refresh_token")
	} else {
		body["scope"] = tr.Scope
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	json.NewEncoder(w).Encode(body)
}

func (e *Emulator) checkTokenRequest(grant, id, secret, scope, refresh string) (int, string, string) {
	switch {
	case grant == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : grant_type"
	case grant != "client_credentials" && grant != "refresh_token":
		return http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server"
	case id == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_id"
	case secret == "":
		return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_secret"
	}
	if e.opts.ClientID != "" && e.opts.ClientSecret != "" && (id != e.opts.ClientID || secret != e.opts.ClientSecret) {
		return http.StatusUnauthorized, "invalid_client", "Client authentication failed"
	}
	if grant == "refresh_token" {
		if refresh == "" {
			return http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : refresh_token"
		}
		if e.opts.RefreshToken != "" && refresh != e.opts.RefreshToken {
			return http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
		}
		return http.StatusOK, "", ""
	}
	if scope == "" || (len(e.opts.Scopes) > 0 && !slices.Contains(e.opts.Scopes, scope)) {
		return http.StatusBadRequest, "invalid_scope", "The request has an invalid parameter : scope"
	}
	return http.StatusOK, "", ""
}

// apiError writes an Alexa API error body.
func apiError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	body := map[string]any{"code": code, "message": message}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
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

const maxBody = 1 << 20

func (e *Emulator) proactive(stage proactive.Stage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.authorize(w, r, proactive.Scope) {
			return
		}
		body, err := readAll(w, r)
		if err != nil {
			invalid(w, err)
			return
		}
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
		if req.RelevantAudience.Type == proactive.Unicast {
			audience = req.RelevantAudience.User()
		}
		key := string(stage) + "\x00" + audience + "\x00" + req.ReferenceID
		e.mu.Lock()
		dup := e.seen[key]
		if !dup {
			e.seen[key] = true
			e.accepted++
		}
		if !dup && !e.opts.DiscardRecords {
			spoken, _ := proactive.Preview(&req) // nil for schemas outside the catalogue
			e.events = append(e.events, Event{Stage: stage, Audience: audience, Request: req, Body: body, Preview: spoken, Header: redact(r.Header), Received: time.Now()})
		}
		e.mu.Unlock()
		if dup {
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
	body, err := readAll(w, r)
	if err != nil {
		invalid(w, err)
		return
	}
	var in struct {
		Data                json.RawMessage `json:"data"`
		ExpiresAfterSeconds *json.Number    `json:"expiresAfterSeconds"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		invalid(w, fmt.Errorf("body is not a JSON object: %v", err))
		return
	}
	m := &messaging.Message{Data: in.Data}
	if in.ExpiresAfterSeconds != nil {
		n, err := in.ExpiresAfterSeconds.Int64()
		if err != nil || n == 0 {
			// Zero would take the client-side default; on the wire it is
			// simply out of range.
			invalid(w, alexa.Violations{{Field: "expiresAfterSeconds", Rule: fmt.Sprintf("must be %d to %d", messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds), Value: in.ExpiresAfterSeconds.String()}}.Err(""))
			return
		}
		m.ExpiresAfterSeconds = int(n)
	}
	enc, err := messaging.Encode(user, m)
	if err != nil {
		invalid(w, err)
		return
	}
	if len(e.opts.KnownUsers) > 0 && !slices.Contains(e.opts.KnownUsers, user) {
		apiError(w, http.StatusNotFound, "USER_NOT_FOUND", "The passed userId does not exist", nil)
		return
	}
	e.mu.Lock()
	e.accepted++
	if !e.opts.DiscardRecords {
		e.messages = append(e.messages, Message{UserID: user, Data: enc.Data, ExpiresAfterSeconds: enc.ExpiresAfterSeconds, Header: redact(r.Header), Received: time.Now()})
	}
	e.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func readAll(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := alexa.ReadBody(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	return b, nil
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

// Events returns the accepted proactive events, oldest first.
func (e *Emulator) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Messages returns the accepted skill messages, oldest first.
func (e *Emulator) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.messages)
}

// MessagesFor returns the accepted skill messages of one user.
func (e *Emulator) MessagesFor(userID string) []Message {
	var out []Message
	for _, m := range e.Messages() {
		if m.UserID == userID {
			out = append(out, m)
		}
	}
	return out
}

// TokenRequests returns the token requests received, granted or not.
func (e *Emulator) TokenRequests() []TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.tokenLog)
}

// Calls returns how many requests reached path (faulted ones included).
// With Options.DiscardRecords, skill-message calls are counted together
// under MessagesPath, so that millions of users cost no memory.
func (e *Emulator) Calls(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[e.callKey(path)]
}

// MessagesPath is the path prefix of the Skill Messaging API.
const MessagesPath = "/v1/skillmessages/users/"

func (e *Emulator) callKey(path string) string {
	if e.opts.DiscardRecords && strings.HasPrefix(path, MessagesPath) {
		return MessagesPath
	}
	return path
}

// ExpireTokens makes every issued token expired, as if an hour had passed.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, t := range e.tokens {
		t.expiry = time.Now().Add(-time.Second)
		e.tokens[k] = t
	}
}

// Reset forgets every token, event, message, fault and count.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = map[string]issued{}
	e.tokenLog = nil
	e.events = nil
	e.seen = map[string]bool{}
	e.messages = nil
	e.faults = nil
	e.calls = map[string]int{}
	e.accepted = 0
	e.ds.reset()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (e *Emulator) adminEvents(w http.ResponseWriter, r *http.Request) {
	by := map[string][]Event{}
	for _, ev := range e.Events() {
		by[ev.Audience] = append(by[ev.Audience], ev)
	}
	writeJSON(w, by)
}

func (e *Emulator) adminMessages(w http.ResponseWriter, r *http.Request) {
	by := map[string][]Message{}
	for _, m := range e.Messages() {
		by[m.UserID] = append(by[m.UserID], m)
	}
	writeJSON(w, by)
}

func (e *Emulator) adminTokens(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, e.TokenRequests())
}
