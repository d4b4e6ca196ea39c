package alexatest_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/skill"
)

// With SkillOptions.FirstRetry, a skill message the skill did not take is
// sent again, after FirstRetry and then twice as long, as Alexa does,
// until the skill takes it: one record, three attempts, each signed anew
// and carrying the same message.
func TestSkillMessageRetried(t *testing.T) {
	t.Parallel()
	const first = 20 * time.Millisecond
	var mu sync.Mutex
	var at []time.Time
	var got []string
	done := make(chan struct{})
	srv := withSkill(t, alexatest.Options{Skill: alexatest.SkillOptions{FirstRetry: first}}, func(srv *alexatest.Server) http.Handler {
		h := &skill.Handler{
			Verifier: skill.NewVerifier(srv.SkillVerifierOptions()),
			OnMessage: func(_ context.Context, r *skill.MessageReceived) error {
				got = append(got, string(r.Message))
				return nil
			},
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			if len(at) < 3 {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
			close(done)
		})
	})
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{Data: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	<-done
	waitSkill(t, srv)
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 3 || len(got) != 1 || got[0] != `{"k":"v"}` {
		t.Fatalf("the skill saw %d attempts and took %q", len(at), got)
	}
	// Timers never fire early: each wait is at least the schedule's.
	if w1, w2 := at[1].Sub(at[0]), at[2].Sub(at[1]); w1 < first || w2 < 2*first {
		t.Errorf("waits %v and %v, want at least %v and %v", w1, w2, first, 2*first)
	}
	ds := srv.SkillDeliveries()
	if len(ds) != 1 || ds[0].State != alexatest.DeliveryDelivered || ds[0].Attempts != 3 || !ds[0].NextAttempt.IsZero() || ds[0].Error != "" {
		t.Errorf("deliveries %+v, want one delivered in 3 attempts", ds)
	}
	if st := srv.SkillStats(); st.Delivered != 1 || st.Failed != 0 || st.Retrying != 0 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A failure waiting for its retry is recorded as failed with the time of
// the next attempt, and counted as retrying; WaitSkill does not wait for
// it. Close ends it, the failure standing; Reset forgets it.
func TestSkillRetryPending(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"close", "reset"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			srv := withSkill(t, alexatest.Options{Skill: alexatest.SkillOptions{FirstRetry: time.Hour / 2}}, func(*alexatest.Server) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					calls++
					mu.Unlock()
					http.Error(w, "boom", http.StatusInternalServerError)
				})
			})
			before := time.Now()
			if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{}); err != nil {
				t.Fatal(err)
			}
			waitSkill(t, srv)
			d := srv.SkillDeliveries()[0]
			if d.State != alexatest.DeliveryFailed || d.Attempts != 1 || d.StatusCode != 500 || d.NextAttempt.Before(before.Add(time.Hour/2)) {
				t.Fatalf("delivery %+v, want failed once with a retry due in 30 minutes", d)
			}
			if st := srv.SkillStats(); st.Retrying != 1 || st.Failed != 0 {
				t.Errorf("stats %+v, want 1 retrying", st)
			}
			switch end {
			case "close":
				srv.Close()
				d := srv.SkillDeliveries()[0]
				if d.State != alexatest.DeliveryFailed || !d.NextAttempt.IsZero() || !strings.Contains(d.Error, "no retry: the emulator closed") {
					t.Errorf("after Close: %+v", d)
				}
				if st := srv.SkillStats(); st.Retrying != 0 || st.Failed != 1 {
					t.Errorf("after Close: stats %+v", st)
				}
			case "reset":
				srv.Reset()
				if st := srv.SkillStats(); st != (alexatest.SkillStats{}) {
					t.Errorf("after Reset: stats %+v", st)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Errorf("the skill was called %d times, want 1", calls)
			}
		})
	}
}

// A retry that would come after the message expires is not scheduled:
// the failure is final at once.
func TestSkillRetryNotPastExpiry(t *testing.T) {
	t.Parallel()
	srv := withSkill(t, alexatest.Options{Skill: alexatest.SkillOptions{FirstRetry: 61 * time.Second}}, func(*alexatest.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	})
	if _, err := messaging.NewClient(srv.Config()).Send(context.Background(), userA, &messaging.Message{ExpiresAfterSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	waitSkill(t, srv)
	if d := srv.SkillDeliveries()[0]; d.State != alexatest.DeliveryFailed || !d.NextAttempt.IsZero() || d.Attempts != 1 {
		t.Errorf("delivery %+v, want a final failure", d)
	}
	if st := srv.SkillStats(); st.Retrying != 0 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}
