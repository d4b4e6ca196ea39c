// Package skillmsg holds the wire form of a skill message and its rules,
// written once for the messaging client, the bulk sender, the command and
// the emulator: the API path of a userId, and a message checked and
// encoded as the API takes it.
package skillmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/alexa-oos/alexa/internal/httpx"
	"github.com/alexa-oos/alexa/internal/jsonscan"
	"github.com/alexa-oos/alexa/internal/validate"
)

// Limits of a message, as the API documents them.
const (
	MinExpiresAfterSeconds     = 60
	MaxExpiresAfterSeconds     = 86400
	DefaultExpiresAfterSeconds = 3600
	// MaxDataBytes bounds data encoded as compact JSON (6 KB).
	MaxDataBytes = 6 * 1024
)

// Op names a message's call in errors.
const Op = "messaging.Send"

// Path returns the API path for userID, escaped so that a userId can never
// change the path.
func Path(userID string) string { return "/v1/skillmessages/users/" + httpx.PathEscape(userID) }

// Encoded is a message checked and ready to send.
type Encoded struct {
	// Data is the compact JSON of the data object.
	Data json.RawMessage `json:"data"`
	// ExpiresAfterSeconds, with the default applied.
	ExpiresAfterSeconds int `json:"expiresAfterSeconds"`
}

// Encode validates a message of data, kept expiresAfterSeconds (0: the
// default), for userID and returns it encoded. Data that is not already
// JSON (json.RawMessage or []byte) is encoded with marshal, nil meaning
// encoding/json's. Every violation is reported at once in an
// *alexa.ValidationError. The userId must pass validate.CheckUserID.
func Encode(userID string, data any, expiresAfterSeconds int, marshal func(any) ([]byte, error)) (*Encoded, error) {
	var vs validate.Violations
	if userID == "" {
		vs.Add("userId", "is required: the userId the skill sees in its requests", nil)
	}
	vs.AddUserID("userId", userID)
	e := &Encoded{ExpiresAfterSeconds: expiresAfterSeconds}
	if e.ExpiresAfterSeconds == 0 {
		e.ExpiresAfterSeconds = DefaultExpiresAfterSeconds
	}
	if e.ExpiresAfterSeconds < MinExpiresAfterSeconds || e.ExpiresAfterSeconds > MaxExpiresAfterSeconds {
		vs.Add("expiresAfterSeconds", fmt.Sprintf("must be %d to %d", MinExpiresAfterSeconds, MaxExpiresAfterSeconds), expiresAfterSeconds)
	}
	raw, err := encodeData(data, marshal)
	switch {
	case err != nil:
		rule := "must encode as a JSON object: " + err.Error()
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			rule += fmt.Sprintf(" at byte offset %d", se.Offset)
		}
		vs.Add("data", rule, nil)
	case len(raw) == 0 || raw[0] != '{':
		vs.Add("data", "must be a JSON object", string(raw))
	case len(raw) > MaxDataBytes:
		vs.Add("data", fmt.Sprintf("must be at most %d bytes as compact JSON", MaxDataBytes), fmt.Sprintf("%d bytes", len(raw)))
	}
	if err := vs.Err(Op); err != nil {
		return nil, err
	}
	e.Data = raw
	return e, nil
}

var emptyObject = json.RawMessage("{}")

// encodeData returns data as compact JSON; nil becomes {}.
func encodeData(data any, marshal func(any) ([]byte, error)) (json.RawMessage, error) {
	var raw []byte
	switch d := data.(type) {
	case nil:
		return emptyObject, nil
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		if marshal == nil {
			// encoding/json writes compact, valid JSON: no second pass.
			raw, err := json.Marshal(data)
			if string(raw) == "null" { // a nil map or pointer
				return emptyObject, err
			}
			return raw, err
		}
		var err error
		if raw, err = marshal(data); err != nil {
			return nil, err
		}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return emptyObject, nil
	}
	if c, ok := jsonscan.Compact(raw); ok {
		// Valid; and without a copy when compact already, as Encode's
		// own output and the bulk sender's lines are.
		return c, nil
	}
	// Invalid, or nested too deep for the scanner: encoding/json decides,
	// and names the problem.
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendJSON appends the message body as the API takes it:
// {"data":...,"expiresAfterSeconds":N}.
func (e *Encoded) AppendJSON(b []byte) []byte {
	b = append(b, `{"data":`...)
	b = append(b, e.Data...)
	b = append(b, `,"expiresAfterSeconds":`...)
	b = strconv.AppendInt(b, int64(e.ExpiresAfterSeconds), 10)
	return append(b, '}')
}
