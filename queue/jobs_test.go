package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/queue"
)

const eventLine = `{"event":{"name":"AMAZON.MessageAlert.Activated","payload":{"state":{"status":"UNREAD","freshness":"NEW"},"messageGroup":{"creator":{"name":"Andy"},"count":1}}},"relevantAudience":{"type":"Unicast","payload":{"user":"amzn1.ask.account.A"}}}`

// offlineQueue is a Queue whose database is never reached: for checks
// that must fail before any I/O.
func offlineQueue(t *testing.T) *queue.Queue {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	q, err := queue.New(pool, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func violations(t *testing.T, err error) []alexa.Violation {
	t.Helper()
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want an *alexa.ValidationError", err, err)
	}
	return ve.Violations
}

// Invalid jobs and options are refused, naming the field, before the
// database is reached.
func TestEnqueueRefusesInvalidJobsBeforeIO(t *testing.T) {
	t.Parallel()
	q := offlineQueue(t)
	ctx := context.Background()
	big := `{"userId":"u","data":{"x":"` + strings.Repeat("a", 7000) + `"}}`
	for _, tc := range []struct {
		name  string
		job   queue.Job
		opts  *queue.EnqueueOptions
		field string
	}{
		{"no user", &queue.MessageArgs{Data: json.RawMessage(`{}`)}, nil, "userId"},
		{"data not an object", &queue.MessageArgs{UserID: "u", Data: json.RawMessage(`[1]`)}, nil, "data"},
		{"data too big", mustMessage(t, big, false), nil, "data"},
		{"expiry out of range", &queue.MessageArgs{UserID: "u", ExpiresAfterSeconds: 5}, nil, "expiresAfterSeconds"},
		{"nil job", (*queue.MessageArgs)(nil), nil, "job"},
		{"bad priority", &queue.MessageArgs{UserID: "u"}, &queue.EnqueueOptions{Priority: 9}, "priority"},
		{"bad stage", &queue.EventArgs{Stage: "development", Request: json.RawMessage(eventLine)}, nil, "stage"},
		{"event not JSON", &queue.EventArgs{Request: json.RawMessage(`nope`)}, nil, "request"},
		{"event without name", &queue.EventArgs{Request: json.RawMessage(`{"event":{"payload":{}},"relevantAudience":{"type":"Multicast"}}`)}, nil, "event.name"},
		{"expires before the schedule", &queue.EventArgs{Request: json.RawMessage(strings.Replace(eventLine, `{"event"`,
			`{"timestamp":"2030-01-01T00:00:00Z","expiryTime":"2030-01-01T01:00:00Z","event"`, 1))},
			&queue.EnqueueOptions{At: time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC)}, "expiryTime"},
	} {
		_, err := q.Enqueue(ctx, tc.job, tc.opts)
		vs := violations(t, err)
		if vs[0].Field != tc.field {
			t.Errorf("%s: violations %v, want the first on %s", tc.name, vs, tc.field)
		}
		if _, err := q.EnqueueMany(ctx, []queue.Job{&queue.MessageArgs{UserID: "ok"}, tc.job}, tc.opts); !strings.Contains(errString(err), "jobs[1]") && tc.opts == nil {
			t.Errorf("%s: EnqueueMany error %v, want it to name jobs[1]", tc.name, err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustMessage(t *testing.T, line string, check bool) *queue.MessageArgs {
	t.Helper()
	var m queue.MessageArgs
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	if check {
		if _, err := queue.ParseMessage([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	return &m
}

// ParseMessage takes "bulk message" lines, with bulk's rules.
func TestParseMessage(t *testing.T) {
	t.Parallel()
	m, err := queue.ParseMessage([]byte(`{"userId":"amzn1.ask.account.A","data":{ "k" : "v" },"expiresAfterSeconds":600}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.UserID != "amzn1.ask.account.A" || string(m.Data) != `{"k":"v"}` || m.ExpiresAfterSeconds != 600 {
		t.Errorf("got %+v", m)
	}
	d, err := queue.ParseMessage([]byte(`{"userId":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Data) != `{}` || d.ExpiresAfterSeconds != messaging.DefaultExpiresAfterSeconds {
		t.Errorf("defaults: got %+v", d)
	}
	_, err = queue.ParseMessage([]byte(`{"userId":7,"expiresAfterSeconds":"x"}`))
	vs := violations(t, err)
	if len(vs) != 2 || vs[0].Field != "userId" || vs[1].Field != "expiresAfterSeconds" {
		t.Errorf("violations %v, want userId and expiresAfterSeconds", vs)
	}
	if _, err := queue.ParseMessage([]byte(`not json`)); err == nil {
		t.Error("a line that is not JSON was accepted")
	}
}

// An event without referenceId gets one derived from its content, the
// same whatever the spacing and key order; one with its own keeps it.
func TestParseEventReferenceID(t *testing.T) {
	t.Parallel()
	a, err := queue.ParseEvent([]byte(eventLine), "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Stage != proactive.Development {
		t.Errorf("stage %q, want %q for an empty stage", a.Stage, proactive.Development)
	}
	var spaced map[string]any
	json.Unmarshal([]byte(eventLine), &spaced)
	respaced, _ := json.MarshalIndent(spaced, "", "   ")
	b, err := queue.ParseEvent(respaced, proactive.Development)
	if err != nil {
		t.Fatal(err)
	}
	ref := func(e *queue.EventArgs) string {
		var r struct {
			ReferenceID string `json:"referenceId"`
			Timestamp   string `json:"timestamp"`
		}
		json.Unmarshal(e.Request, &r)
		if r.Timestamp != "" {
			t.Errorf("timestamp %q stored: it must be filled when the job runs", r.Timestamp)
		}
		return r.ReferenceID
	}
	if ref(a) == "" || ref(a) != ref(b) {
		t.Errorf("referenceIds %q and %q, want one non-empty id for one content", ref(a), ref(b))
	}
	c, err := queue.ParseEvent([]byte(strings.Replace(eventLine, `{"event"`, `{"referenceId":"mine-1","event"`, 1)), proactive.Live)
	if err != nil {
		t.Fatal(err)
	}
	if ref(c) != "mine-1" || c.Stage != proactive.Live {
		t.Errorf("got referenceId %q stage %q, want mine-1 LIVE", ref(c), c.Stage)
	}
	other, _ := queue.ParseEvent([]byte(strings.Replace(eventLine, "Andy", "Bea", 1)), "")
	if ref(other) == ref(a) {
		t.Error("two different events got the same referenceId")
	}
	if _, err := queue.ParseEvent([]byte(eventLine), "live"); err == nil {
		t.Error(`stage "live" (not proactive.Live) was accepted`)
	}
}
