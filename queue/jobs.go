package queue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// Job kinds, as River stores them in river_job.kind. They are part of the
// stored data: never renamed.
const (
	KindMessage   = "alexa_oos.skill_message"
	KindEvent     = "alexa_oos.proactive_event"
	KindDataStore = "alexa_oos.datastore_commands"
)

// Job is something the queue delivers: a *MessageArgs, *EventArgs or
// *DataStoreArgs (or their values). Build one with NewMessage,
// ParseMessage, NewEvent, ParseEvent, NewDataStore or ParseDataStore, or
// fill the struct and let Enqueue check it.
//
// The set is closed so that Enqueue can validate every job and give it its
// uniqueness key.
type Job interface {
	river.JobArgs
	// prepare validates the job and returns the args to store, with Key set
	// (to key, or to the content's key when key is empty).
	prepare(key string, c checks) (river.JobArgs, error)
}

// checks are the rules jobs are validated with, at enqueue and before
// they are sent: the queue's Options.
type checks struct {
	events    proactive.Rules
	datastore datastore.Limits
}

// defaultChecks are the rules of a zero Options.
func defaultChecks() checks {
	return checks{events: proactive.DefaultRules(), datastore: datastore.DefaultLimits()}
}

// MessageArgs is a skill-message job: one line of "bulk message" input,
//
//	{"userId": "amzn1.ask.account.X", "data": {"k": "v"}, "expiresAfterSeconds": 600}
//
// Data defaults to {} and ExpiresAfterSeconds to 3600.
type MessageArgs struct {
	UserID              string          `json:"userId"`
	Data                json.RawMessage `json:"data,omitempty"`
	ExpiresAfterSeconds int             `json:"expiresAfterSeconds,omitempty"`
	// Key is the job's uniqueness key: while a job of this kind and key is
	// waiting, running or completed (until River deletes it, 24 hours by
	// default), enqueuing another is a no-op. Enqueue sets it from
	// EnqueueOptions.UniqueKey, else from the content.
	Key string `json:"key" river:"unique"`
}

// Kind is KindMessage.
func (MessageArgs) Kind() string { return KindMessage }

// NewMessage returns the job of sending m to userID, checked as
// messaging.Client.Send checks it: an *alexa.ValidationError when invalid.
func NewMessage(userID string, m *messaging.Message) (*MessageArgs, error) {
	enc, err := skillmsg.Encode(userID, m.Data, m.ExpiresAfterSeconds, nil)
	if err != nil {
		return nil, err
	}
	return &MessageArgs{UserID: userID, Data: enc.Data, ExpiresAfterSeconds: enc.ExpiresAfterSeconds}, nil
}

// ParseMessage reads one line of "bulk message" input (see
// bulk.ParseMessage) into a job, or returns an *alexa.ValidationError
// naming every problem.
func ParseMessage(line []byte) (*MessageArgs, error) {
	userID, m, err := bulk.ParseMessage(line)
	if err != nil {
		return nil, err
	}
	return NewMessage(userID, m)
}

// message returns what to send: the user and the message, validated.
func (a MessageArgs) message() (string, *messaging.Message, error) {
	m := &messaging.Message{Data: a.Data, ExpiresAfterSeconds: a.ExpiresAfterSeconds}
	enc, err := skillmsg.Encode(a.UserID, m.Data, m.ExpiresAfterSeconds, nil)
	if err != nil {
		return a.UserID, nil, err
	}
	m.Data, m.ExpiresAfterSeconds = enc.Data, enc.ExpiresAfterSeconds
	return a.UserID, m, nil
}

func (a MessageArgs) prepare(key string, _ checks) (river.JobArgs, error) {
	_, m, err := a.message()
	if err != nil {
		return nil, err
	}
	a.Data, a.ExpiresAfterSeconds = m.Data.(json.RawMessage), m.ExpiresAfterSeconds
	if key == "" {
		key = contentKey(KindMessage, a.UserID, strconv.Itoa(a.ExpiresAfterSeconds), string(a.Data))
	}
	a.Key = key
	return a, nil
}

// EventArgs is a proactive-event job: one line of "bulk proactive" input
// (a Proactive Events request body) and the stage it goes to.
//
// Enqueue gives a request without referenceId one derived from its content
// (bulk.DeriveReferenceID), so that every attempt of the job sends the same
// id and Alexa refuses a second copy (409, which the worker counts as
// delivered). A missing timestamp and expiryTime are filled when the job
// runs, not when it is enqueued, so that a scheduled event does not expire
// in the queue.
type EventArgs struct {
	// Stage is proactive.Development or proactive.Live; empty means
	// Development, the side that notifies no customer.
	Stage proactive.Stage `json:"stage"`
	// Request is the request body as JSON.
	Request json.RawMessage `json:"request"`
	// Key is the job's uniqueness key, as MessageArgs.Key.
	Key string `json:"key" river:"unique"`
}

// Kind is KindEvent.
func (EventArgs) Kind() string { return KindEvent }

// NewEvent returns the job of sending req to stage. The request is checked
// with proactive.DefaultRules() (filling a missing timestamp and expiryTime
// for the check only); an invalid one is an *alexa.ValidationError.
func NewEvent(req *proactive.Request, stage proactive.Stage) (*EventArgs, error) {
	if req == nil {
		return nil, validate.Violations{{Field: "request", Rule: "is required"}}.Err("queue.NewEvent")
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return ParseEvent(raw, stage)
}

// ParseEvent reads one line of "bulk proactive" input into a job for
// stage, checked as NewEvent checks it.
func ParseEvent(line []byte, stage proactive.Stage) (*EventArgs, error) {
	a := EventArgs{Stage: stage, Request: line}
	prepared, err := a.prepare("", defaultChecks())
	if err != nil {
		return nil, err
	}
	out := prepared.(EventArgs)
	out.Key = ""
	return &out, nil
}

// checkStage refuses a stage other than the two the API has, so that a
// typo never reaches the live path; empty means Development.
func checkStage(s proactive.Stage) (proactive.Stage, error) {
	switch s {
	case "":
		return proactive.Development, nil
	case proactive.Development, proactive.Live:
		return s, nil
	}
	return "", validate.Violations{{Field: "stage", Rule: fmt.Sprintf("must be %s or %s", proactive.Development, proactive.Live), Value: text.ShowValue(string(s))}}.Err("queue.Enqueue")
}

// request decodes the request, fills a missing timestamp and expiryTime
// from now, and validates it with rules.
func (a EventArgs) request(now time.Time, rules proactive.Rules) (*proactive.Request, error) {
	req := new(proactive.Request)
	if err := json.Unmarshal(a.Request, req); err != nil {
		return nil, validate.Violations{{Field: "request", Rule: "must be a JSON object: " + err.Error()}}.Err("proactive.Create")
	}
	req.Fill(now, "")
	if err := rules.Validate(req); err != nil {
		return req, err
	}
	return req, nil
}

func (a EventArgs) prepare(key string, c checks) (river.JobArgs, error) {
	stage, err := checkStage(a.Stage)
	if err != nil {
		return nil, err
	}
	a.Stage = stage
	// The stored form, and the content the key and the referenceId are
	// derived from: compact JSON with every object's keys sorted, so that
	// the same event written with other spacing or key order is one item.
	var fields map[string]any
	d := json.NewDecoder(bytes.NewReader(a.Request))
	d.UseNumber()
	if err := d.Decode(&fields); err != nil || fields == nil || d.More() {
		msg := "must be a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, validate.Violations{{Field: "request", Rule: msg}}.Err("proactive.Create")
	}
	if ref, _ := fields["referenceId"].(string); ref == "" && (fields["referenceId"] == nil || fields["referenceId"] == "") {
		delete(fields, "referenceId")
		canonical, err := json.Marshal(fields)
		if err != nil {
			return nil, err
		}
		fields["referenceId"] = bulk.DeriveReferenceID(canonical)
	}
	if a.Request, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	if _, err := a.request(time.Now(), c.events); err != nil {
		return nil, err
	}
	if key == "" {
		key = contentKey(KindEvent, string(a.Stage), string(a.Request))
	}
	a.Key = key
	return a, nil
}

// contentKey is the default uniqueness key: SHA-256 over the parts, each
// length-prefixed so that no two contents give the same input.
func contentKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
