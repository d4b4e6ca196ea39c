package alexatest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/proactive"
)

// A referenceId is remembered until its event's expiryTime, within five
// minutes and the longest event lifetime, then forgotten.
func TestRefSetForgetsAtExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := newRefSet(10, 24*time.Hour)
	k := func(ref string) refKey { return refKeyOf(proactive.Development, "u", ref) }
	if !s.add(k("hour"), now.Add(time.Hour), now) || !s.add(k("past"), now.Add(-time.Hour), now) || !s.add(k("year"), now.AddDate(1, 0, 0), now) {
		t.Fatal("a new referenceId was refused")
	}
	if s.add(k("past"), now, now.Add(4*time.Minute)) {
		t.Error("an already expired event's referenceId forgotten within five minutes")
	}
	if !s.add(k("past"), now, now.Add(6*time.Minute)) {
		t.Error("an already expired event's referenceId kept beyond five minutes")
	}
	if s.add(k("hour"), now.Add(time.Hour), now.Add(59*time.Minute)) {
		t.Error("repeat before expiryTime accepted")
	}
	if !s.add(k("hour"), now, now.Add(61*time.Minute)) {
		t.Error("referenceId kept after its event's expiryTime")
	}
	if !s.add(k("year"), now, now.Add(25*time.Hour)) {
		t.Error("referenceId kept beyond 24 hours")
	}
	if k("x") == refKeyOf(proactive.Live, "u", "x") || k("x") == refKeyOf(proactive.Development, "v", "x") {
		t.Error("stage and audience are not part of the key")
	}
}

// The call counters hold a handful of routes, whatever paths arrive.
func TestCallCountersBounded(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	for i := range 1000 {
		for _, p := range []string{fmt.Sprintf("/junk/%d", i), fmt.Sprintf("%su%d", MessagesPath, i), fmt.Sprintf("%s/x%d", proactive.PathLive, i)} {
			e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, p, nil))
		}
	}
	if n := len(e.calls); n != 3 {
		t.Errorf("%d counters after 3,000 distinct paths, want 3", n)
	}
}

// Issued tokens are bounded: beyond maxLiveTokens the oldest is forgotten.
func TestLiveTokensBounded(t *testing.T) {
	t.Parallel()
	e := New(Options{})
	c := e.Credentials()
	body := fmt.Sprintf("grant_type=client_credentials&client_id=%s&client_secret=%s&scope=alexa::proactive_events", c.ClientID, c.ClientSecret)
	for range maxLiveTokens + 5 {
		r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		e.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := len(e.tokens); n != maxLiveTokens {
		t.Errorf("%d live tokens, want %d", n, maxLiveTokens)
	}
}

// The ring keeps order across wrap-around and growth, and pages resume
// where the cursor says, also after older records were evicted.
func TestRingPages(t *testing.T) {
	t.Parallel()
	r := newRing(5, 1<<20, func(*int) int64 { return 1 })
	for i := range 8 {
		r.push(i)
	}
	if got := fmt.Sprint(r.all(nil)); got != "[3 4 5 6 7]" {
		t.Fatalf("all = %s", got)
	}
	items, next, more := r.page(0, 2, 1<<20, nil)
	if fmt.Sprint(items) != "[3 4]" || !more || next != 5 {
		t.Fatalf("page(0, 2) = %v %d %v", items, next, more)
	}
	r.push(8)
	r.push(9) // evicts 3 and 4; the cursor still points at 5
	items, next, more = r.page(next, 2, 1<<20, nil)
	if fmt.Sprint(items) != "[5 6]" || !more {
		t.Fatalf("page after eviction = %v %d %v", items, next, more)
	}
	items, _, more = r.page(next, 10, 1<<20, func(v *int) bool { return *v%2 == 1 })
	if fmt.Sprint(items) != "[7 9]" || more {
		t.Fatalf("filtered = %v %v", items, more)
	}
	items, _, more = r.page(0, 10, 2, nil) // budget of two records
	if len(items) != 2 || !more {
		t.Fatalf("budget: %v %v", items, more)
	}
	r.reset()
	if items, _, more := r.page(0, 10, 1<<20, nil); items == nil || len(items) != 0 || more {
		t.Fatalf("after reset: %#v %v", items, more)
	}
}
