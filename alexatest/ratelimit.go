package alexatest

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/text"
	"golang.org/x/time/rate"
)

// limiter throttles the API calls when Options.RateLimit is set.
type limiter struct {
	lim *rate.Limiter
}

// newLimiter returns the limiter of perSecond calls with burst, or nil
// when perSecond is not positive (no limit).
func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

// throttle answers 429 to an API call over Options.RateLimit, with a
// Retry-After in whole seconds (at least 1) and an Alexa error body, and
// reports whether it did. Token calls are never throttled here: LWA's
// limits are not the APIs'.
func (e *Emulator) throttle(w http.ResponseWriter, r *http.Request) bool {
	if e.limiter == nil || !strings.HasPrefix(r.URL.Path, "/v1/") {
		return false
	}
	now := time.Now()
	res := e.limiter.lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if res.OK() && delay == 0 {
		return false
	}
	// Over the limit: give the token back, the call is refused.
	res.CancelAt(now)
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, text.CeilSeconds(delay)), 10))
	apiError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Rate exceeded (the emulator's RateLimit)", nil)
	return true
}

// Accepted returns how many proactive events and skill messages the
// emulator accepted (duplicates and refused calls excluded), whether or not
// Options.DiscardRecords keeps them.
func (e *Emulator) Accepted() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accepted
}
