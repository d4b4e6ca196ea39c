package bulk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/jsonin"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// Kind says what a job sends.
type Kind string

// The kinds of bulk job.
const (
	KindMessage   Kind = "message"
	KindProactive Kind = "proactive"
	KindDataStore Kind = "datastore"
)

// MessageLine is one line of a bulk message input:
//
//	{"userId": "amzn1.ask.account.X", "data": {"k": "v"}, "expiresAfterSeconds": 600}
//
// expiresAfterSeconds is optional (default 3600) and data defaults to {}.
type MessageLine struct {
	UserID              string          `json:"userId"`
	Data                json.RawMessage `json:"data,omitempty"`
	ExpiresAfterSeconds int             `json:"expiresAfterSeconds,omitempty"`
}

// ParseMessage reads and validates one line of a bulk message input. It
// returns the userId and the message, its data compacted; or an
// *alexa.ValidationError listing every problem (the userId is returned
// when it could be read, to report with the error).
func ParseMessage(data []byte) (userID string, m *messaging.Message, err error) {
	userID, e, err := parseMessage(data)
	if err != nil {
		return userID, nil, err
	}
	return userID, &messaging.Message{Data: e.Data, ExpiresAfterSeconds: e.ExpiresAfterSeconds}, nil
}

// parseMessage is ParseMessage returning the message encoded: its data
// compact, its expiry with the default applied. A line of the usual shape
// is read in one pass (scanMessage); any other is decoded field by field,
// to name every problem.
func parseMessage(data []byte) (string, *skillmsg.Encoded, error) {
	if user, e, ok := scanMessage(data); ok {
		return user, e, nil
	}
	return parseMessageFields(data)
}

// parseMessageFields reads a line field by field, so that every problem
// is named at once.
func parseMessageFields(data []byte) (userID string, enc *skillmsg.Encoded, err error) {
	var w struct {
		UserID              json.RawMessage `json:"userId"`
		Data                json.RawMessage `json:"data"`
		ExpiresAfterSeconds json.RawMessage `json:"expiresAfterSeconds"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return "", nil, notJSON(data, err)
	}
	var vs validate.Violations
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top) // an object: w decoded
	addUnknown(&vs, slices.Sorted(maps.Keys(top)), messageFields)
	if len(w.UserID) > 0 && string(w.UserID) != "null" {
		if json.Unmarshal(w.UserID, &userID) != nil {
			vs.Add("userId", "must be a string", string(w.UserID))
		}
	}
	m := &messaging.Message{}
	if len(w.Data) > 0 {
		m.Data = w.Data
	}
	if e := w.ExpiresAfterSeconds; len(e) > 0 && string(e) != "null" {
		n, perr := strconv.Atoi(string(e))
		switch {
		case perr != nil:
			vs.Add("expiresAfterSeconds", "must be a whole number of seconds", string(e))
		case n == 0:
			// Zero would mean the default to skillmsg.Encode; written
			// out, it is out of range, as the API says.
			vs.Add("expiresAfterSeconds", fmt.Sprintf("must be %d to %d", messaging.MinExpiresAfterSeconds, messaging.MaxExpiresAfterSeconds), 0)
		default:
			m.ExpiresAfterSeconds = n
		}
	}
	enc, err = skillmsg.Encode(userID, m.Data, m.ExpiresAfterSeconds, nil)
	if err != nil {
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) {
			return userID, nil, err
		}
		for _, v := range ve.Violations {
			if v.Field == "userId" && vs.Has("userId") {
				continue // not a string: "is required" would say it again
			}
			vs = append(vs, v)
		}
	}
	if err := vs.Err("messaging.Send"); err != nil {
		return userID, nil, err
	}
	return userID, enc, nil
}

// ParseEvent reads one line of a bulk proactive input, a Proactive Events
// request body as "proactive send" takes it, fills what it leaves out
// (timestamp and expiryTime from now, referenceId with DeriveReferenceID
// of the line) and validates it with rules. The error is an
// *alexa.ValidationError; the request is returned with it when the line
// was JSON, to report its referenceId and user.
func ParseEvent(data []byte, now time.Time, rules proactive.Rules) (*proactive.Request, error) {
	return parseEvent(data, DeriveReferenceID(data), now, rules)
}

// parseEvent is ParseEvent with the derived referenceId given.
func parseEvent(data []byte, refID string, now time.Time, rules proactive.Rules) (*proactive.Request, error) {
	req := new(proactive.Request)
	if err := json.Unmarshal(data, req); err != nil {
		return nil, notJSON(data, err)
	}
	req.Fill(now, refID)
	err := rules.Validate(req)
	var vs validate.Violations
	var ve *alexa.ValidationError
	if errors.As(err, &ve) {
		vs = append(vs, ve.Violations...)
	}
	if addUnknown(&vs, req.UnknownFields(), proactive.RequestFields()) {
		return req, vs.Err("bulk")
	}
	return req, err
}

// DeriveReferenceID returns the referenceId given to a bulk proactive line
// that has none: its LineID in 32 hex digits. It depends on the line's
// content only, not on its place in the input: a rerun sends the same ids
// whatever was added, removed or reordered around them, so Alexa refuses
// (409) what it already accepted instead of notifying twice, and the job
// counts it already delivered. Identical lines are the same event: the
// second is answered 409 and counted already delivered. It passes
// proactive.Rules.StrictReferenceID.
func DeriveReferenceID(data []byte) string { return LineID(data).String() }

// ItemID identifies an item of a bulk input by its content: the first 16
// bytes of SHA-256 over the line with the spaces outside JSON strings
// removed (json.Compact), or over the line as is when it is not JSON.
// Lines that differ only in spacing have the same ItemID; any other change
// makes another ItemID. The journal records ItemIDs, and a proactive
// event's derived referenceId is its ItemID.
type ItemID [16]byte

// String returns the ItemID in 32 lowercase hex digits.
func (id ItemID) String() string { return hex.EncodeToString(id[:]) }

// compactBufs holds the buffers of LineID.
var compactBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// LineID returns the ItemID of an input line.
func LineID(data []byte) ItemID {
	data = bytes.TrimSpace(data)
	b := compactBufs.Get().(*bytes.Buffer)
	defer compactBufs.Put(b)
	b.Reset()
	if json.Compact(b, data) == nil {
		data = b.Bytes()
	}
	sum := sha256.Sum256(data)
	return ItemID(sum[:16])
}

// messageFields are the fields of a message line.
var messageFields = []string{"userId", "data", "expiresAfterSeconds"}

// addUnknown records each of keys that is not one of fields, in any case
// (encoding/json reads another case, and the line is sent as the API
// spells it): a misspelt field (such as "expiresAfterSecond") would otherwise be
// ignored and its default sent, and no one reads a million lines'
// warnings.
func addUnknown(vs *validate.Violations, keys, fields []string) (found bool) {
	for _, k := range keys {
		if !slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(f, k) }) {
			vs.Add(k, "is not a field of a line; the fields are "+strings.Join(fields, ", "), nil)
			found = true
		}
	}
	return found
}

// notJSON is the error of a line, data, that is not a JSON object:
// encoding/json's err said so.
func notJSON(data []byte, err error) error {
	rule := "must be a JSON object: " + err.Error()
	var se *jsonin.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(jsonin.CheckSyntax(data), &se):
		rule = fmt.Sprintf("must be JSON: %v, at column %d", se.Err, se.Column)
	case errors.As(err, &te) && te.Field == "":
		rule = "must be a JSON object, not a JSON " + te.Value
	}
	var vs validate.Violations
	vs.Add("line", rule, string(bytes.TrimSpace(data)))
	return vs.Err("bulk")
}
