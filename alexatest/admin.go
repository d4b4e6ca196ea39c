package alexatest

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/alexa-oos/alexa/proactive"
)

// Listing bounds. A page holds at most MaxListLimit records and stops
// early once they add up to about listBudget bytes, so that a listing
// response stays a few MiB (well under 10 MB) whatever was sent.
const (
	// DefaultListLimit is how many records a listing returns without ?limit=.
	DefaultListLimit = 100
	// MaxListLimit is the most records one listing page returns; a larger
	// ?limit= is lowered to it.
	MaxListLimit = 1000
	listBudget   = 4 << 20
)

// Listing is the JSON of the admin listings (GET /_emulator/events,
// /_emulator/messages and /_emulator/tokens): one page of records, oldest
// first.
//
// A listing takes ?limit= (default DefaultListLimit, at most
// MaxListLimit) and ?cursor=, the NextCursor of the previous page; and
// filters: events by ?audience= (a userId or "Multicast"; ?user= is the
// same), ?name= (the event name) and ?stage= (development or live);
// messages by ?user=; token requests by ?scope= and ?clientId=. An
// unknown parameter is refused (400), so that a mistyped filter never
// lists everything.
type Listing[T any] struct {
	// Items is the page: never null, [] when empty.
	Items []T `json:"items"`
	// NextCursor, when set, fetches the next page (as ?cursor=); absent on
	// the last page.
	NextCursor string `json:"nextCursor,omitempty"`
	// Evicted is how many older records of this kind the emulator has
	// forgotten since it started or was reset (Options.MaxRecords), so
	// that a listing shows when it is not the whole history.
	Evicted uint64 `json:"evicted"`
}

// health answers the health check.
func health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	encodeJSON(w, map[string]string{"status": "ok"}, false)
}

// fromLoopback reports whether the client is on this machine: a loopback
// address, or no IP address at all (a Unix socket).
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return !strings.ContainsAny(host, ".:") // not an address: a local socket
	}
	return ip.Unmap().IsLoopback()
}

// listQuery is a listing's parsed query.
type listQuery struct {
	url.Values
	limit  int
	cursor uint64
}

// parseList reads limit, cursor and the filters allowed; it answers 400
// and returns false for a bad or unknown parameter.
func parseList(w http.ResponseWriter, r *http.Request, filters ...string) (listQuery, bool) {
	q := listQuery{Values: r.URL.Query(), limit: DefaultListLimit}
	for k := range q.Values {
		if k != "limit" && k != "cursor" && !slices.Contains(filters, k) {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("%s: unknown parameter; this listing takes limit, cursor, %s", k, strings.Join(filters, ", ")), nil)
			return q, false
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("limit: must be a whole number from 1 to %d (got %q)", MaxListLimit, v), nil)
			return q, false
		}
		q.limit = min(n, MaxListLimit)
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("cursor: must be the nextCursor of an earlier page (got %q)", v), nil)
			return q, false
		}
		q.cursor = n
	}
	return q, true
}

// list writes one page of r, read under the emulator's lock.
func list[T any](e *Emulator, w http.ResponseWriter, r *ring[T], q listQuery, keep func(*T) bool) {
	e.mu.Lock()
	items, next, more := r.page(q.cursor, q.limit, listBudget, keep)
	out := Listing[T]{Items: items, Evicted: r.evicted}
	e.mu.Unlock()
	if more {
		out.NextCursor = strconv.FormatUint(next, 10)
	}
	w.Header().Set("Content-Type", "application/json")
	encodeJSON(w, out, true)
}

func (e *Emulator) adminEvents(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r, "audience", "user", "name", "stage")
	if !ok {
		return
	}
	audience, name := q.Get("audience"), q.Get("name")
	if u := q.Get("user"); u != "" {
		if audience != "" && audience != u {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("user: names the audience, which audience already gives (%q, %q)", u, audience), nil)
			return
		}
		audience = u
	}
	var stage proactive.Stage
	if v := q.Get("stage"); v != "" {
		s, err := proactive.ParseStage(v)
		if err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error(), nil)
			return
		}
		stage = s
	}
	list(e, w, e.events, q, func(ev *Event) bool {
		return (audience == "" || ev.Audience == audience) &&
			(name == "" || ev.Request.Event.Name == name) &&
			(stage == "" || ev.Stage == stage)
	})
}

func (e *Emulator) adminMessages(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r, "user")
	if !ok {
		return
	}
	user := q.Get("user")
	list(e, w, e.messages, q, func(m *Message) bool { return user == "" || m.UserID == user })
}

func (e *Emulator) adminTokens(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r, "scope", "clientId")
	if !ok {
		return
	}
	scope, id := q.Get("scope"), q.Get("clientId")
	list(e, w, e.tokenLog, q, func(t *TokenRequest) bool {
		return (scope == "" || t.Scope == scope) && (id == "" || t.ClientID == id)
	})
}
