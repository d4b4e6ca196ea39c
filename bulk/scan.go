package bulk

import (
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
	s := scanner{b: line}
	s.ws()
	if !s.take('{') {
		return "", nil, false
	}
	var user, data []byte
	exp, seenExp := 0, false
	for first := true; ; first = false {
		s.ws()
		if first && s.take('}') {
			break
		}
		key, ok := s.plainString()
		if !ok {
			return "", nil, false
		}
		s.ws()
		if !s.take(':') {
			return "", nil, false
		}
		s.ws()
		switch string(key) {
		case "userId":
			if user != nil {
				return "", nil, false
			}
			if user, ok = s.plainString(); !ok {
				return "", nil, false
			}
		case "data":
			if data != nil || s.peek() != '{' {
				return "", nil, false
			}
			start := s.i
			s.dataStart = start
			if !s.value(0) {
				return "", nil, false
			}
			data = line[start:s.i]
			if s.compacted {
				data = s.out
			}
		case "expiresAfterSeconds":
			if seenExp {
				return "", nil, false
			}
			if exp, ok = s.int(); !ok {
				return "", nil, false
			}
			seenExp = true
		default:
			return "", nil, false
		}
		s.ws()
		if s.take('}') {
			break
		}
		if !s.take(',') {
			return "", nil, false
		}
	}
	s.ws()
	if s.i != len(line) {
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

// maxScanDepth bounds the nesting scanMessage reads; deeper data is left
// to encoding/json.
const maxScanDepth = 64

// scanner reads JSON text, checking it as encoding/json's scanner does,
// and writes the data value compacted as json.Compact does into out once
// it met a space to drop (compacted).
type scanner struct {
	b         []byte
	i         int
	dataStart int // where the data value starts in b
	out       []byte
	compacted bool
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) take(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// ws skips spaces between the line's fields.
func (s *scanner) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// dataWS skips spaces inside the data value: the first one starts the
// compacted copy with what came before it.
func (s *scanner) dataWS() {
	j := s.i
	for j < len(s.b) && isSpace(s.b[j]) {
		j++
	}
	if j == s.i {
		return
	}
	if !s.compacted {
		s.compacted = true
		s.out = append(make([]byte, 0, len(s.b)-s.dataStart), s.b[s.dataStart:s.i]...)
	}
	s.i = j
}

// emit copies b[from:s.i] to the compacted copy, when there is one.
func (s *scanner) emit(from int) {
	if s.compacted {
		s.out = append(s.out, s.b[from:s.i]...)
	}
}

// plainString reads a string without escapes or control characters and
// returns its contents.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.take('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// int reads a whole number of at most nine digits.
func (s *scanner) int() (int, bool) {
	neg := s.take('-')
	start := s.i
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 9 || digits > 1 && s.b[start] == '0' {
		return 0, false
	}
	switch s.peek() {
	case '.', 'e', 'E':
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// value reads one JSON value of the data, at nesting depth.
func (s *scanner) value(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	start := s.i
	switch c := s.peek(); {
	case c == '{' || c == '[':
		return s.composite(depth)
	case c == '"':
		if !s.string() {
			return false
		}
	case c == '-' || '0' <= c && c <= '9':
		if !s.number() {
			return false
		}
	case c == 't':
		if !s.literal("true") {
			return false
		}
	case c == 'f':
		if !s.literal("false") {
			return false
		}
	case c == 'n':
		if !s.literal("null") {
			return false
		}
	default:
		return false
	}
	s.emit(start)
	return true
}

// composite reads an object or an array.
func (s *scanner) composite(depth int) bool {
	start := s.i
	open := s.b[s.i]
	close := byte(']')
	if open == '{' {
		close = '}'
	}
	s.i++
	s.emit(start)
	s.dataWS()
	mark := s.i
	if s.take(close) {
		s.emit(mark)
		return true
	}
	for {
		if open == '{' {
			mark = s.i
			if s.peek() != '"' || !s.string() {
				return false
			}
			s.emit(mark)
			s.dataWS()
			mark = s.i
			if !s.take(':') {
				return false
			}
			s.emit(mark)
			s.dataWS()
		}
		if !s.value(depth + 1) {
			return false
		}
		s.dataWS()
		mark = s.i
		switch {
		case s.take(','):
			s.emit(mark)
			s.dataWS()
		case s.take(close):
			s.emit(mark)
			return true
		default:
			return false
		}
	}
}

// string reads a string, escapes and all.
func (s *scanner) string() bool {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			switch s.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if !isHex(s.peek()) {
						return false
					}
					s.i++
				}
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// number reads a number as JSON writes them.
func (s *scanner) number() bool {
	s.take('-')
	switch {
	case s.take('0'):
	case s.digits() == 0:
		return false
	}
	if s.take('.') && s.digits() == 0 {
		return false
	}
	if s.take('e') || s.take('E') {
		if !s.take('+') {
			s.take('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}
