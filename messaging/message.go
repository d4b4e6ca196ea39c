package messaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/alexa-oos/alexa"
)

// Limits of a message, as the API documents them.
const (
	MinExpiresAfterSeconds     = 60
	MaxExpiresAfterSeconds     = 86400
	DefaultExpiresAfterSeconds = 3600
	// MaxDataBytes bounds data encoded as compact JSON (6 KB).
	MaxDataBytes = 6 * 1024
)

// Message is a skill message: the seed's SendSkillMessagingRequest.
type Message struct {
	// Data is delivered to the skill as request.message: any value that
	// encodes to a JSON object, such as map[string]string, a struct or a
	// json.RawMessage. Nil sends {}. At most 6 KB as compact JSON.
	Data any
	// ExpiresAfterSeconds is how long Alexa keeps retrying delivery:
	// 60 to 86400. Zero means the default, 3600.
	ExpiresAfterSeconds int
}

// Path returns the API path for userID, escaped.
func Path(userID string) string { return "/v1/skillmessages/users/" + pathEscape(userID) }

// pathEscape escapes everything but unreserved characters, as Amazon's
// SDKs do, so a userId can never change the path.
func pathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

// Encoded is a message checked and ready to send.
type Encoded struct {
	// Data is the compact JSON of the data object.
	Data json.RawMessage `json:"data"`
	// ExpiresAfterSeconds, with the default applied.
	ExpiresAfterSeconds int `json:"expiresAfterSeconds"`
}

// Encode validates the message for userID and returns it encoded. Every
// violation is reported at once in an *alexa.ValidationError. The userId
// must pass alexa.CheckUserID.
func Encode(userID string, m *Message) (*Encoded, error) {
	var vs alexa.Violations
	addUserID(&vs, userID)
	if m == nil {
		m = &Message{}
	}
	e := &Encoded{ExpiresAfterSeconds: m.ExpiresAfterSeconds}
	if e.ExpiresAfterSeconds == 0 {
		e.ExpiresAfterSeconds = DefaultExpiresAfterSeconds
	}
	if e.ExpiresAfterSeconds < MinExpiresAfterSeconds || e.ExpiresAfterSeconds > MaxExpiresAfterSeconds {
		vs.Add("expiresAfterSeconds", fmt.Sprintf("must be %d to %d", MinExpiresAfterSeconds, MaxExpiresAfterSeconds), m.ExpiresAfterSeconds)
	}
	data, err := encodeData(m.Data)
	switch {
	case err != nil:
		vs.Add("data", "must encode as a JSON object: "+err.Error(), nil)
	case len(data) == 0 || data[0] != '{':
		vs.Add("data", "must be a JSON object", string(data))
	case len(data) > MaxDataBytes:
		vs.Add("data", fmt.Sprintf("must be at most %d bytes as compact JSON", MaxDataBytes), fmt.Sprintf("%d bytes", len(data)))
	}
	if err := vs.Err("messaging.Send"); err != nil {
		return nil, err
	}
	e.Data = data
	return e, nil
}

// addUserID records what is wrong with a message's userId, if anything.
func addUserID(vs *alexa.Violations, userID string) {
	if userID == "" {
		vs.Add("userId", "is required: the userId the skill sees in its requests", nil)
	}
	vs.AddUserID("userId", userID)
}

var emptyObject = json.RawMessage("{}")

// encodeData returns data as compact JSON; nil becomes {}.
func encodeData(data any) (json.RawMessage, error) {
	var raw []byte
	switch d := data.(type) {
	case nil:
		return emptyObject, nil
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		return json.Marshal(data)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return emptyObject, nil
	}
	if bytes.IndexAny(raw, " \t\r\n") < 0 {
		// Already compact (as Encode's own output is): validate only,
		// without copying.
		if !json.Valid(raw) {
			return nil, errors.New("invalid JSON")
		}
		return raw, nil
	}
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
