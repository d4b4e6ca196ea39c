package messaging

import "github.com/alexa-oos/alexa/internal/skillmsg"

// Limits of a message, as the API documents them.
const (
	MinExpiresAfterSeconds     = skillmsg.MinExpiresAfterSeconds
	MaxExpiresAfterSeconds     = skillmsg.MaxExpiresAfterSeconds
	DefaultExpiresAfterSeconds = skillmsg.DefaultExpiresAfterSeconds
	// MaxDataBytes bounds data encoded as compact JSON (6 KB).
	MaxDataBytes = skillmsg.MaxDataBytes
)

// Message is a skill message: what the skill receives as the message of
// a Messaging.MessageReceived request, and how long Alexa keeps trying to
// deliver it.
type Message struct {
	// Data is delivered to the skill as request.message: any value that
	// encodes to a JSON object, such as map[string]string, a struct or a
	// json.RawMessage. Nil sends {}. At most 6 KB as compact JSON.
	Data any
	// ExpiresAfterSeconds is how long Alexa keeps retrying delivery:
	// 60 to 86400. Zero means the default, 3600.
	ExpiresAfterSeconds int
}
