package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/lwa"
)

// messagesPer counts the emulator's messages by user.
func messagesPer(srv *alexatest.Server) map[string]int {
	per := map[string]int{}
	for _, m := range srv.Messages() {
		per[m.UserID]++
	}
	return per
}

// A journal reused with an edited, reordered input, with identical lines,
// skips exactly the lines whose content was delivered, as many times as
// it was delivered, and sends everything else.
func TestJournalEditedInput(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	path := filepath.Join(t.TempDir(), "journal")
	j := openJournal(t, path)
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(60, messageLine)), bulk.Options{Journal: j})
	if err != nil || sum.Sent != 60 {
		t.Fatalf("first run: %v %+v", err, sum)
	}
	j.Close()

	// Lines 41 to 100, last first; line 50 edited; lines 45 and 70 twice.
	var in []string
	for i := 100; i >= 41; i-- {
		l := messageLine(i)
		if i == 50 {
			l = strings.Replace(l, `"update"`, `"delete"`, 1)
		}
		in = append(in, l)
		if i == 45 || i == 70 {
			in = append(in, l)
		}
	}
	second := strings.Join(in, "\n")
	j = openJournal(t, path)
	if j.Loaded() != 60 {
		t.Errorf("journal loaded %d records, want 60", j.Loaded())
	}
	sum, err = bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(second), bulk.Options{Journal: j})
	j.Close()
	// 41..60 were delivered, but 50 changed: 19 skipped; of the two
	// copies of 45 one was delivered; everything else is sent.
	if err != nil || sum.Skipped != 19 || sum.Sent != 43 || !sum.AllDelivered() {
		t.Fatalf("second run: %v %+v", err, sum)
	}
	per := messagesPer(srv)
	for i := 1; i <= 100; i++ {
		want := 1
		if i == 45 || i == 50 || i == 70 {
			want = 2
		}
		if per[userID(i)] != want {
			t.Errorf("user of line %d got %d messages, want %d", i, per[userID(i)], want)
		}
	}

	// The same input again: everything is skipped.
	j = openJournal(t, path)
	defer j.Close()
	sum, err = bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(second), bulk.Options{Journal: j})
	if err != nil || sum.Skipped != 62 || sum.Sent != 0 || !sum.AllDelivered() {
		t.Fatalf("third run: %v %+v", err, sum)
	}
}

// The failures file fed back with the same journal (jq -c .input
// failures.jsonl > retry.jsonl) sends every item that was not delivered.
func TestRetryFailuresWithJournal(t *testing.T) {
	t.Parallel()
	const n = 40
	srv := newServer(t, alexatest.Options{})
	failing := []int{3, 17, 18, 40}
	for _, i := range failing {
		srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath + userID(i), Status: http.StatusBadRequest})
	}
	path := filepath.Join(t.TempDir(), "journal")
	j := openJournal(t, path)
	var failures bytes.Buffer
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(n, messageLine)), bulk.Options{Journal: j, Failures: bulk.NewFailureWriter(&failures)})
	j.Close()
	if err != nil || sum.Failed != len(failing) || sum.Sent != n-len(failing) {
		t.Fatalf("first run: %v %+v", err, sum)
	}

	// As jq -c .input does: each input, compact, one per line.
	var retry bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(failures.String()), "\n") {
		var f bulk.Failure
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		json.Compact(&retry, f.Input)
		retry.WriteByte('\n')
	}
	srv.ClearFaults()
	j = openJournal(t, path)
	defer j.Close()
	sum, err = bulk.SendMessages(context.Background(), fastConfig(srv), &retry, bulk.Options{Journal: j})
	if err != nil || sum.Sent != len(failing) || sum.Skipped != 0 || !sum.AllDelivered() {
		t.Fatalf("retry: %v %+v", err, sum)
	}
	per := messagesPer(srv)
	for i := 1; i <= n; i++ {
		if per[userID(i)] != 1 {
			t.Errorf("user of line %d got %d messages, want 1", i, per[userID(i)])
		}
	}
}

// throttler stands between the sender and the emulator: it answers 429
// with a Retry-After to the API calls hit chooses, and records when each
// API call was sent.
type throttler struct {
	next alexa.HTTPClient
	hit  func(n int) (retryAfter string, ok bool)

	mu     sync.Mutex
	n      int
	sent   []time.Time // when each API call went out
	thrown []time.Time // when each 429 was answered
}

func (th *throttler) Do(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, alexatest.TokenPath) {
		return th.next.Do(req)
	}
	th.mu.Lock()
	th.n++
	th.sent = append(th.sent, time.Now())
	ra, ok := th.hit(th.n)
	th.mu.Unlock()
	if !ok {
		return th.next.Do(req)
	}
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/json"}, "Retry-After": {ra}}
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(`{"code":"TOO_MANY_REQUESTS","message":"Too many requests"}`))}
	th.mu.Lock()
	th.thrown = append(th.thrown, time.Now())
	th.mu.Unlock()
	return resp, nil
}

func (th *throttler) calls() int {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.n
}

// A Retry-After longer than the retry policy honours pauses the whole
// job, within Options.MaxThrottleWait: nobody sends until it has passed,
// and the throttled item is sent again, not failed.
func TestThrottlePausesJob(t *testing.T) {
	t.Parallel()
	const n, wait = 200, 300 * time.Millisecond
	srv := newServer(t, alexatest.Options{})
	cfg := srv.Config()
	cfg.Retry = &alexa.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}
	th := &throttler{next: alexa.NewHTTPClient(alexa.HTTPOptions{}), hit: func(n int) (string, bool) {
		return fmt.Sprint(wait.Seconds()), n == 10
	}}
	cfg.HTTPClient = th
	var failed []bulk.Result
	sum, err := bulk.SendMessages(context.Background(), cfg, generate(n, messageLine), bulk.Options{Concurrency: 4, OnResult: func(r bulk.Result) {
		if r.Status != bulk.Sent {
			failed = append(failed, r)
		}
	}})
	if err != nil || sum.Sent != n || sum.Failed != 0 || !sum.AllDelivered() || sum.Throttled != 1 {
		t.Fatalf("%v %+v %v", err, sum, failed)
	}
	if len(srv.Messages()) != n {
		t.Errorf("emulator got %d messages, want %d", len(srv.Messages()), n)
	}
	// Calls sent during the pause: at most those that raced the 429 to
	// the gate (one per other worker).
	th.mu.Lock()
	defer th.mu.Unlock()
	during := 0
	for _, s := range th.sent {
		if s.After(th.thrown[0]) && s.Before(th.thrown[0].Add(wait)) {
			during++
		}
	}
	if during > 3 {
		t.Errorf("%d calls went out during the %s pause", during, wait)
	}
}

// A throttle longer than Options.MaxThrottleWait, in seconds of any size
// or as an HTTP date far ahead, stops the job at once: nothing goes out at
// full speed, nothing is failed, and a rerun sends everything.
func TestThrottleStopsJob(t *testing.T) {
	t.Parallel()
	far := time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		retryAfter string
		max        time.Duration
		atLeast    time.Duration
	}{
		{"seconds", "120", time.Minute, 2 * time.Minute},
		{"1e7 seconds", "1e7", time.Minute, 1e7 * time.Second},
		{"HTTP date", far, time.Minute, time.Hour},
		{"pausing off", "1", -1, time.Second},
		// Short throttles, again and again: within MaxThrottleWait each,
		// but the item's pauses add up past it.
		{"repeated", "0.02", 100 * time.Millisecond, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 2000
			srv := newServer(t, alexatest.Options{})
			cfg := srv.Config()
			cfg.Retry = &alexa.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}
			th := &throttler{next: alexa.NewHTTPClient(alexa.HTTPOptions{}), hit: func(int) (string, bool) { return tt.retryAfter, true }}
			cfg.HTTPClient = th
			path := filepath.Join(t.TempDir(), "journal")
			j := openJournal(t, path)
			sum, err := bulk.SendMessages(context.Background(), cfg, generate(n, messageLine), bulk.Options{Concurrency: 4, Journal: j, MaxThrottleWait: tt.max})
			j.Close()
			var te *bulk.ThrottleError
			if !errors.As(err, &te) || !errors.Is(err, alexa.ErrThrottled) || te.RetryAfter < tt.atLeast || te.Max != tt.max {
				t.Fatalf("err = %v, want a *bulk.ThrottleError asking at least %s", err, tt.atLeast)
			}
			if sum == nil || sum.Failed != 0 || sum.Complete {
				t.Errorf("summary %+v: want nothing failed, the job incomplete", sum)
			}
			// Each worker's call is answered 429 and stops the job;
			// a pause lets no one through meanwhile.
			limit := 4 // one per worker
			if tt.name == "repeated" {
				// And one per worker after each pause.
				limit *= 1 + int(tt.max/(20*time.Millisecond))
			}
			if th.calls() > limit {
				t.Errorf("%d calls sent under a 429 with Retry-After %s, want at most %d", th.calls(), tt.retryAfter, limit)
			}

			// Throttling over, a rerun with the journal sends it all.
			cfg.HTTPClient = nil
			j = openJournal(t, path)
			defer j.Close()
			sum, err = bulk.SendMessages(context.Background(), cfg, generate(n, messageLine), bulk.Options{Journal: j})
			if err != nil || !sum.AllDelivered() || len(srv.Messages()) != n {
				t.Errorf("rerun: %v %+v, emulator has %d", err, sum, len(srv.Messages()))
			}
		})
	}
}

// A token endpoint that hangs stops the job as soon as the token
// provider gives up, instead of making every item wait for it in turn.
func TestHungTokenEndpointStopsJob(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: alexatest.TokenPath, Hang: true})
	cfg := srv.Config()
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	cfg.Retry = &alexa.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	var reported int
	sum, err := bulk.SendMessages(context.Background(), cfg, generate(20000, messageLine), bulk.Options{Concurrency: 8, OnResult: func(bulk.Result) { reported++ }})
	var se *bulk.StopError
	if !errors.As(err, &se) || !errors.Is(err, lwa.ErrTokenUnavailable) {
		t.Fatalf("err = %v, want a *bulk.StopError matching lwa.ErrTokenUnavailable", err)
	}
	if sum.Read != 0 || sum.Failed != 0 || reported != 0 || sum.Complete {
		t.Errorf("summary %+v, %d results: want nothing failed, every item left for a rerun", sum, reported)
	}
	if calls := srv.Calls(alexatest.TokenPath); calls > 8*2 {
		t.Errorf("%d token requests", calls)
	}
	if srv.Accepted() != 0 {
		t.Errorf("%d messages sent without a token", srv.Accepted())
	}
}

// Skill messages whose response is lost after the request was sent: by
// default they are sent again and counted possibly duplicated; with
// AtMostOnce they are reported Unknown, in the failures file and not in
// the journal, and sent once only.
func TestAtMostOnce(t *testing.T) {
	t.Parallel()
	lost := []int{3, 5}
	for _, atMostOnce := range []bool{false, true} {
		t.Run(fmt.Sprint("AtMostOnce=", atMostOnce), func(t *testing.T) {
			t.Parallel()
			const n = 10
			srv := newServer(t, alexatest.Options{})
			for _, i := range lost {
				srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath + userID(i), Lose: true, Times: 1})
			}
			path := filepath.Join(t.TempDir(), "journal")
			j := openJournal(t, path)
			var failures bytes.Buffer
			results := map[int]bulk.Result{}
			var mu sync.Mutex
			sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(n, messageLine)), bulk.Options{
				AtMostOnce: atMostOnce, Journal: j, Failures: bulk.NewFailureWriter(&failures),
				OnResult: func(r bulk.Result) { mu.Lock(); results[r.Line] = r; mu.Unlock() },
			})
			j.Close()
			if err != nil {
				t.Fatal(err)
			}
			per := messagesPer(srv)
			if !atMostOnce {
				if sum.Sent != n || sum.PossiblyDuplicated != len(lost) || !sum.AllDelivered() || failures.Len() != 0 {
					t.Errorf("summary %+v, failures %q", sum, failures.String())
				}
				for _, i := range lost {
					if !results[i].MaybeDuplicated || per[userID(i)] != 2 {
						t.Errorf("line %d: %+v, %d messages arrived", i, results[i], per[userID(i)])
					}
				}
				if !strings.Contains(sum.String(), "possibly duplicated 2") {
					t.Errorf("summary text:\n%s", sum)
				}
				return
			}
			if sum.Sent != n-len(lost) || sum.Unknown != len(lost) || sum.PossiblyDuplicated != 0 || sum.AllDelivered() || sum.Reasons["unknown"] != len(lost) {
				t.Errorf("summary %+v", sum)
			}
			for _, i := range lost {
				r := results[i]
				if r.Status != bulk.Unknown || !errors.Is(r.Err, alexa.ErrOutcomeUnknown) || per[userID(i)] != 1 {
					t.Errorf("line %d: %s %v, %d messages arrived", i, r.Status, r.Err, per[userID(i)])
				}
			}
			if !strings.Contains(sum.String(), "outcome unknown 2") {
				t.Errorf("summary text:\n%s", sum)
			}
			var got []int
			for _, l := range strings.Split(strings.TrimSpace(failures.String()), "\n") {
				var f bulk.Failure
				json.Unmarshal([]byte(l), &f)
				if f.Status != bulk.Unknown || f.Reason != "unknown" {
					t.Errorf("failure %s", l)
				}
				got = append(got, f.Line)
			}
			slices.Sort(got)
			if !slices.Equal(got, lost) {
				t.Errorf("failures file holds lines %v, want %v", got, lost)
			}
			// Not journaled: a rerun sends them (the user decides).
			j = openJournal(t, path)
			defer j.Close()
			sum, err = bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(n, messageLine)), bulk.Options{Journal: j, AtMostOnce: true})
			if err != nil || sum.Skipped != n-len(lost) || sum.Sent != len(lost) {
				t.Errorf("rerun: %v %+v", err, sum)
			}
		})
	}
}

// A 2xx whose body is cut off is delivered: counted sent, journaled, and
// sent once, not retried.
func TestTruncated2xxIsDelivered(t *testing.T) {
	t.Parallel()
	const n = 50
	srv := newServer(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath, Truncate: true})
	j := openJournal(t, filepath.Join(t.TempDir(), "journal"))
	defer j.Close()
	sum, err := bulk.SendMessages(context.Background(), fastConfig(srv), strings.NewReader(lines(n, messageLine)), bulk.Options{Journal: j})
	if err != nil || sum.Sent != n || !sum.AllDelivered() || sum.PossiblyDuplicated != 0 || sum.Retried != 0 {
		t.Fatalf("%v %+v", err, sum)
	}
	if j.Recorded() != n {
		t.Errorf("journaled %d, want %d", j.Recorded(), n)
	}
	for u, c := range messagesPer(srv) {
		if c != 1 {
			t.Errorf("%s got %d messages", u, c)
		}
	}
}
