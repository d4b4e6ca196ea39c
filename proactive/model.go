package proactive

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/internal/validate"
)

// Stage selects the skill stage an event is sent to.
//
// Only Development and Live, exactly as declared, are stages. The zero
// value "" means Development, the safe side: an unset stage can never
// notify real customers. Any other value, "development" or "live" in
// lower case included, is refused by Client.Create (and by the bulk
// sender) with an *alexa.ValidationError naming the field "stage", before
// any network I/O. Use ParseStage for user-typed text.
type Stage string

// The two stages. Development events reach only the skill's testers and
// are not subject to notification limits.
const (
	Development Stage = "DEVELOPMENT"
	Live        Stage = "LIVE"
)

// Validate returns nil for Development, Live and "" (Development), and an
// *alexa.ValidationError naming the field "stage" for anything else.
func (s Stage) Validate() error {
	switch s {
	case "", Development, Live:
		return nil
	}
	var vs validate.Violations
	vs.Add("stage", `must be proactive.Development or proactive.Live ("" means Development)`, string(s))
	return vs.Err("proactive.Create")
}

// Path returns the API path of the stage: PathDevelopment for
// Development and "", PathLive for Live, and "" for anything else (which
// Validate refuses), so that no unknown value maps to the live stage.
func (s Stage) Path() string {
	switch s {
	case "", Development:
		return PathDevelopment
	case Live:
		return PathLive
	}
	return ""
}

// API paths of the two stages.
const (
	PathLive        = "/v1/proactiveEvents"
	PathDevelopment = "/v1/proactiveEvents/stages/development"
)

// ParseStage reads "development" or "live", in any case.
func ParseStage(s string) (Stage, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEVELOPMENT", "DEV":
		return Development, nil
	case "LIVE":
		return Live, nil
	}
	return "", fmt.Errorf("stage: must be development or live (got %q)", s)
}

// AudienceType says who receives an event: one customer or every
// subscriber.
type AudienceType string

// The audience types, spelled as the API wants them.
const (
	Unicast   AudienceType = "Unicast"
	Multicast AudienceType = "Multicast"
)

// Audience is the relevantAudience of a request: who receives the event.
type Audience struct {
	Type AudienceType `json:"type"`
	// Payload is {"user": userId} for Unicast and empty for Multicast.
	Payload map[string]any `json:"payload"`
}

// ToUser returns a Unicast audience of one customer, by the userId the
// skill sees in its requests.
func ToUser(userID string) Audience {
	return Audience{Type: Unicast, Payload: map[string]any{"user": userID}}
}

// ToAllSubscribers returns a Multicast audience: every customer subscribed
// to the event.
func ToAllSubscribers() Audience {
	return Audience{Type: Multicast, Payload: map[string]any{}}
}

// User returns the userId of a Unicast audience, or "".
func (a Audience) User() string {
	u, _ := a.Payload["user"].(string)
	return u
}

// MarshalJSON always writes a payload, {} when empty: the API wants one
// even for Multicast.
func (a Audience) MarshalJSON() ([]byte, error) { return json.Marshal(a.wire()) }

// wireAudience is an Audience as the API takes it.
type wireAudience struct {
	Type    AudienceType   `json:"type"`
	Payload map[string]any `json:"payload"`
}

func (a Audience) wire() wireAudience {
	p := a.Payload
	if p == nil {
		p = map[string]any{}
	}
	return wireAudience{a.Type, p}
}

// Event is what happened: a schema name and its payload.
type Event struct {
	// Name is the schema name, such as "AMAZON.WeatherAlert.Activated".
	Name string `json:"name"`
	// Payload is the schema's payload: a map, a struct that encodes to a
	// JSON object, or a json.RawMessage.
	Payload any `json:"payload"`
}

// LocalizedAttribute is one entry of localizedAttributes: a "locale" and a
// value for each localizedattribute:KEY placeholder the payload uses.
type LocalizedAttribute map[string]string

// Locale returns the entry's locale.
func (l LocalizedAttribute) Locale() string { return l["locale"] }

// Request is a Proactive Events create request: the body of a POST to
// /v1/proactiveEvents.
type Request struct {
	// Timestamp is when the event happened.
	Timestamp time.Time
	// ReferenceID identifies the event: sending the same one again to the
	// same audience is refused as a duplicate (HTTP 409).
	ReferenceID string
	// ExpiryTime is when a still-pending notification is dropped: between
	// 5 minutes and 24 hours after Timestamp.
	ExpiryTime time.Time
	// Event is the schema name and payload.
	Event Event
	// LocalizedAttributes holds, per locale, the values of the payload's
	// localizedattribute:KEY placeholders.
	LocalizedAttributes []LocalizedAttribute
	// RelevantAudience says who receives the event.
	RelevantAudience Audience

	// decodeProblems holds fields that UnmarshalJSON could not read, so
	// that Validate reports them with the rest.
	decodeProblems []problem
	// unknownFields are top-level keys UnmarshalJSON ignored, for Warnings.
	unknownFields []string
}

// requestFields are the top-level fields of a create request, as the API
// names them: the JSON names of wireRequest.
var requestFields = jsonNames(reflect.TypeFor[wireRequest]())

// RequestFields returns the top-level fields of a create request, as the
// API names them: timestamp, referenceId, expiryTime, event,
// localizedAttributes and relevantAudience. The slice is the caller's.
func RequestFields() []string { return slices.Clone(requestFields) }

// jsonNames returns the JSON names of the fields of struct t, in order.
func jsonNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return names
}

type problem struct{ field, rule, value string }

// timeFormat is how times are sent: RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t as sent on the wire: RFC 3339 in UTC with
// milliseconds, such as 2026-11-25T12:00:00.000Z.
func FormatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// ParseTime reads a time leniently: RFC 3339 with any fraction and a Z or
// an offset, or without a zone (as Amazon's Python SDK sends naive
// datetimes), which is taken as UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 date-time: %q", s)
}

// wireRequest is a Request as the API documents it, in plain tagged
// fields: what the client hands to the Config's Codec.
type wireRequest struct {
	Timestamp           string               `json:"timestamp"`
	ReferenceID         string               `json:"referenceId"`
	ExpiryTime          string               `json:"expiryTime"`
	Event               Event                `json:"event"`
	LocalizedAttributes []LocalizedAttribute `json:"localizedAttributes"`
	RelevantAudience    wireAudience         `json:"relevantAudience"`
}

// MarshalJSON writes the request as the API documents it: times in UTC,
// localizedAttributes always an array, the audience payload always present.
func (r Request) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// wire returns the request as the API takes it.
func (r Request) wire() wireRequest {
	w := wireRequest{
		ReferenceID:         r.ReferenceID,
		Event:               r.Event,
		LocalizedAttributes: r.LocalizedAttributes,
		RelevantAudience:    r.RelevantAudience.wire(),
	}
	if !r.Timestamp.IsZero() {
		w.Timestamp = FormatTime(r.Timestamp)
	}
	if !r.ExpiryTime.IsZero() {
		w.ExpiryTime = FormatTime(r.ExpiryTime)
	}
	if w.LocalizedAttributes == nil {
		w.LocalizedAttributes = []LocalizedAttribute{}
	}
	return w
}

// UnmarshalJSON reads a request body leniently: times in any ISO 8601 form
// Amazon's SDKs send, the payload kept as raw JSON. A field that cannot be
// read (a malformed time, a non-string attribute) is not an error here:
// Validate reports it with every other problem.
func (r *Request) UnmarshalJSON(data []byte) error {
	var w struct {
		Timestamp   json.RawMessage `json:"timestamp"`
		ReferenceID json.RawMessage `json:"referenceId"`
		ExpiryTime  json.RawMessage `json:"expiryTime"`
		Event       *struct {
			Name    json.RawMessage `json:"name"`
			Payload json.RawMessage `json:"payload"`
		} `json:"event"`
		LocalizedAttributes json.RawMessage `json:"localizedAttributes"`
		RelevantAudience    *struct {
			Type    json.RawMessage `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"relevantAudience"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top) // it is an object: w decoded
	*r = Request{}
	for k := range top {
		if !slices.Contains(requestFields, k) {
			r.unknownFields = append(r.unknownFields, k)
		}
	}
	slices.Sort(r.unknownFields)
	r.Timestamp = r.decodeTime("timestamp", w.Timestamp)
	r.ExpiryTime = r.decodeTime("expiryTime", w.ExpiryTime)
	r.ReferenceID = r.decodeString("referenceId", w.ReferenceID)
	if w.Event != nil {
		r.Event.Name = r.decodeString("event.name", w.Event.Name)
		if len(w.Event.Payload) > 0 && string(w.Event.Payload) != "null" {
			r.Event.Payload = w.Event.Payload
		}
	}
	if len(w.LocalizedAttributes) > 0 && string(w.LocalizedAttributes) != "null" {
		r.decodeAttributes(w.LocalizedAttributes)
	}
	if w.RelevantAudience != nil {
		r.RelevantAudience.Type = AudienceType(r.decodeString("relevantAudience.type", w.RelevantAudience.Type))
		if p := w.RelevantAudience.Payload; len(p) > 0 && string(p) != "null" {
			if err := json.Unmarshal(p, &r.RelevantAudience.Payload); err != nil {
				r.fail("relevantAudience.payload", "must be a JSON object", string(p))
			}
		}
	}
	return nil
}

func (r *Request) fail(field, rule, value string) {
	r.decodeProblems = append(r.decodeProblems, problem{field, rule, value})
}

func (r *Request) decodeString(field string, raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		r.fail(field, "must be a string", string(raw))
	}
	return s
}

func (r *Request) decodeTime(field string, raw json.RawMessage) time.Time {
	s := r.decodeString(field, raw)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		r.fail(field, "must be an ISO 8601 date-time such as 2026-11-25T12:00:00Z", s)
	}
	return t
}

func (r *Request) decodeAttributes(raw json.RawMessage) {
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		r.fail("localizedAttributes", "must be an array of objects", string(raw))
		return
	}
	for i, e := range entries {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(e, &m); err != nil || m == nil {
			r.fail(fmt.Sprintf("localizedAttributes[%d]", i), "must be an object", string(e))
			m = nil
		}
		attr := LocalizedAttribute{}
		for k, v := range m {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				r.fail(fmt.Sprintf("localizedAttributes[%d].%s", i, k), "must be a string", string(v))
				continue
			}
			attr[k] = s
		}
		r.LocalizedAttributes = append(r.LocalizedAttributes, attr)
	}
}

// payloadJSON returns the event payload as JSON.
func (r *Request) payloadJSON() (json.RawMessage, error) {
	switch p := r.Event.Payload.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return p, nil
	case []byte:
		return p, nil
	}
	b, err := json.Marshal(r.Event.Payload)
	return bytes.TrimSpace(b), err
}

// DefaultLifetime is the expiry Fill gives a request without one.
const DefaultLifetime = time.Hour

// Fill sets what a hand-written request commonly leaves out: a missing
// Timestamp becomes now, a missing ExpiryTime Timestamp + DefaultLifetime,
// and a missing ReferenceID becomes referenceID. It returns one note per
// field it filled, such as "timestamp: filled with 2026-11-25T12:00:00.000Z",
// so tools can say what they sent.
func (r *Request) Fill(now time.Time, referenceID string) []string {
	var notes []string
	if r.Timestamp.IsZero() && !r.failed("timestamp") {
		r.Timestamp = now
		notes = append(notes, "timestamp: filled with "+FormatTime(now))
	}
	if r.ExpiryTime.IsZero() && !r.failed("expiryTime") {
		// An unreadable timestamp is reported by Validate; expiry then
		// counts from now rather than from the zero time.
		r.ExpiryTime = cmp.Or(r.Timestamp, now).Add(DefaultLifetime)
		notes = append(notes, "expiryTime: filled with "+FormatTime(r.ExpiryTime))
	}
	if r.ReferenceID == "" && !r.failed("referenceId") && referenceID != "" {
		r.ReferenceID = referenceID
		notes = append(notes, "referenceId: filled with "+referenceID)
	}
	return notes
}

// failed reports whether UnmarshalJSON could not read field.
func (r *Request) failed(field string) bool {
	for _, p := range r.decodeProblems {
		if p.field == field {
			return true
		}
	}
	return false
}
