package bulk

import (
	"github.com/alexa-oos/alexa/internal/jsonscan"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/internal/validate"
)

// scanMessage reads a bulk message line of the usual shape in one pass,
// without reflection: a JSON object with a "userId" string free of
// escapes, a "data" object (compacted on the way) and an optional whole
// "expiresAfterSeconds", each once, and nothing else, all valid. It
// reports ok false for anything else, valid or not (other fields,
// escapes, null, repeats, a violated rule), which parseMessageFields then
// reads, and names every problem of. What it accepts, encoding/json and
// skillmsg.Encode read alike (FuzzScanMessage checks it).
func scanMessage(line []byte) (userID string, e *skillmsg.Encoded, ok bool) {
	s := jsonscan.New(line)
	s.WS()
	if !s.Take('{') {
		return "", nil, false
	}
	var user, data []byte
	exp, seenExp := 0, false
	for first := true; ; first = false {
		s.WS()
		if first && s.Take('}') {
			break
		}
		key, ok := s.PlainString()
		if !ok {
			return "", nil, false
		}
		s.WS()
		if !s.Take(':') {
			return "", nil, false
		}
		s.WS()
		switch string(key) {
		case "userId":
			if user != nil {
				return "", nil, false
			}
			if user, ok = s.PlainString(); !ok {
				return "", nil, false
			}
		case "data":
			if data != nil || s.Peek() != '{' {
				return "", nil, false
			}
			if data, ok = s.Value(); !ok {
				return "", nil, false
			}
		case "expiresAfterSeconds":
			if seenExp {
				return "", nil, false
			}
			if exp, ok = s.Int(); !ok {
				return "", nil, false
			}
			seenExp = true
		default:
			return "", nil, false
		}
		s.WS()
		if s.Take('}') {
			break
		}
		if !s.Take(',') {
			return "", nil, false
		}
	}
	s.WS()
	if !s.Done() {
		return "", nil, false
	}
	if !seenExp {
		exp = skillmsg.DefaultExpiresAfterSeconds
	}
	if data == nil {
		data = []byte("{}")
	}
	userID = string(user)
	if userID == "" || validate.CheckUserID(userID) != "" || len(data) > skillmsg.MaxDataBytes ||
		exp < skillmsg.MinExpiresAfterSeconds || exp > skillmsg.MaxExpiresAfterSeconds {
		return "", nil, false
	}
	return userID, &skillmsg.Encoded{Data: data, ExpiresAfterSeconds: exp}, true
}
