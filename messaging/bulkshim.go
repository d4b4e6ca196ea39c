package messaging

import "github.com/alexa-oos/alexa/internal/skillmsg"

// Path returns the API path for userID, escaped.
//
// Deprecated: the bulk package's last use moves to internal/skillmsg.Path;
// Path is then removed.
func Path(userID string) string { return skillmsg.Path(userID) }

// Encoded is a message checked and ready to send.
//
// Deprecated: see Encode.
type Encoded = skillmsg.Encoded

// Encode validates the message for userID and returns it encoded.
//
// Deprecated: the bulk package's last use moves to
// internal/skillmsg.Encode(userID, m.Data, m.ExpiresAfterSeconds, nil);
// Encode is then removed.
func Encode(userID string, m *Message) (*Encoded, error) {
	if m == nil {
		m = &Message{}
	}
	return skillmsg.Encode(userID, m.Data, m.ExpiresAfterSeconds, nil)
}
