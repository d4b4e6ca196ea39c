// Package jsonscan checks and compacts JSON text in one pass, without
// reflection or allocation for text already compact: the bulk sender
// reads its message lines with it, and a skill message's data is checked
// with it. It accepts exactly what encoding/json accepts, up to a nesting
// depth (FuzzCompact and bulk's FuzzScanMessage check it).
package jsonscan

// MaxDepth bounds the nesting a Scanner reads; deeper values are refused
// (ok false), for encoding/json to read.
const MaxDepth = 64

// Scanner reads JSON text from a byte slice, checking it as
// encoding/json's scanner does. Value returns a value compacted as
// json.Compact does, copying only when there is a space to drop.
type Scanner struct {
	b         []byte
	i         int
	dataStart int // where the value being read starts in b
	out       []byte
	compacted bool // out holds the value read so far, compacted
}

// New returns a Scanner at the start of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Done reports whether the Scanner has read all of b.
func (s *Scanner) Done() bool { return s.i == len(s.b) }

// Value reads one JSON value and returns it compact: a subslice of b when
// it has no space to drop, else a copy. ok is false when the text is not
// a valid value or nests deeper than MaxDepth.
func (s *Scanner) Value() (v []byte, ok bool) {
	start := s.i
	s.dataStart, s.compacted, s.out = start, false, nil
	if !s.value(0) {
		return nil, false
	}
	if s.compacted {
		return s.out, true
	}
	return s.b[start:s.i], true
}

// Compact returns b, one JSON value with optional spaces around it, as
// json.Compact writes it: b itself, trimmed, when it is compact already.
// ok is false when b is not valid JSON or nests deeper than MaxDepth;
// encoding/json then tells which.
func Compact(b []byte) (compact []byte, ok bool) {
	s := Scanner{b: b}
	s.WS()
	v, ok := s.Value()
	if !ok {
		return nil, false
	}
	s.WS()
	return v, s.Done()
}

// Peek returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Take reads c if it comes next.
func (s *Scanner) Take(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// WS skips spaces.
func (s *Scanner) WS() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// dataWS skips spaces inside a value: the first one starts the compacted
// copy with what came before it.
func (s *Scanner) dataWS() {
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
func (s *Scanner) emit(from int) {
	if s.compacted {
		s.out = append(s.out, s.b[from:s.i]...)
	}
}

// PlainString reads a string without escapes or control characters and
// returns its contents; ok is false for any other string.
func (s *Scanner) PlainString() ([]byte, bool) {
	if !s.Take('"') {
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

// Int reads a whole number of at most nine digits, as JSON writes it.
func (s *Scanner) Int() (int, bool) {
	neg := s.Take('-')
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
	switch s.Peek() {
	case '.', 'e', 'E':
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// value reads one JSON value of the data, at nesting depth.
func (s *Scanner) value(depth int) bool {
	if depth > MaxDepth {
		return false
	}
	start := s.i
	switch c := s.Peek(); {
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
func (s *Scanner) composite(depth int) bool {
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
	if s.Take(close) {
		s.emit(mark)
		return true
	}
	for {
		if open == '{' {
			mark = s.i
			if s.Peek() != '"' || !s.string() {
				return false
			}
			s.emit(mark)
			s.dataWS()
			mark = s.i
			if !s.Take(':') {
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
		case s.Take(','):
			s.emit(mark)
			s.dataWS()
		case s.Take(close):
			s.emit(mark)
			return true
		default:
			return false
		}
	}
}

// string reads a string, escapes and all.
func (s *Scanner) string() bool {
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
			switch s.Peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if !isHex(s.Peek()) {
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

func (s *Scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// number reads a number as JSON writes them.
func (s *Scanner) number() bool {
	s.Take('-')
	switch {
	case s.Take('0'):
	case s.digits() == 0:
		return false
	}
	if s.Take('.') && s.digits() == 0 {
		return false
	}
	if s.Take('e') || s.Take('E') {
		if !s.Take('+') {
			s.Take('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *Scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}
