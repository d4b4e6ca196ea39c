// Package jsonin holds the rules every alexa-oos input of JSON follows, so
// that the command line's file arguments and the lines of bulk input agree:
//
//   - A leading UTF-8 byte order mark is dropped: RFC 8259 lets a parser
//     ignore it, and Windows editors write one.
//   - Invalid UTF-8 is refused with the byte offset of the first bad byte.
//     It is never replaced by U+FFFD (as encoding/json does) nor sent on
//     as is: Alexa would get text nobody wrote.
//   - Empty input (nothing but spaces) is refused rather than read as {}.
//   - Input is read up to a bound, so that a huge file cannot exhaust
//     memory.
package jsonin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// BOM is the UTF-8 byte order mark.
const BOM = "\xef\xbb\xbf"

// ErrEmpty is the error of input holding nothing but spaces.
var ErrEmpty = errors.New("is empty: expected a JSON object")

// EncodingError reports input that is not UTF-8.
type EncodingError struct {
	// Offset is the offset of the first invalid byte, counted from 0 in the
	// input as read (a byte order mark included).
	Offset int64
	// UTF16 is true when the input starts with a UTF-16 byte order mark.
	UTF16 bool
}

func (e *EncodingError) Error() string {
	if e.UTF16 {
		return fmt.Sprintf("invalid UTF-8 at byte offset %d: the input is UTF-16; save it as UTF-8", e.Offset)
	}
	return fmt.Sprintf("invalid UTF-8 at byte offset %d: JSON must be UTF-8", e.Offset)
}

// TooLargeError reports input longer than the bound it was read with.
type TooLargeError struct {
	// Max is the bound, in bytes.
	Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("is larger than %d bytes, more than any request may be", e.Max)
}

// TrimBOM returns b without a leading UTF-8 byte order mark.
func TrimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte(BOM)) }

// CheckUTF8 returns an *EncodingError when b is not valid UTF-8. offset is
// the offset of b in its input, added to the one reported.
func CheckUTF8(b []byte, offset int64) error {
	if utf8.Valid(b) {
		return nil
	}
	i := 0
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	e := &EncodingError{Offset: offset + int64(i)}
	e.UTF16 = offset == 0 && (bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}))
	return e
}

// SyntaxError is JSON text that does not parse, with where it stops
// making sense.
type SyntaxError struct {
	// Line and Column (in characters) of the byte at Offset, from 1.
	Line, Column int
	// Offset is the byte offset at which the text stops being JSON.
	Offset int64
	// Err is encoding/json's error.
	Err error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("not JSON: %v, at line %d, column %d", e.Err, e.Line, e.Column)
}

// Unwrap returns encoding/json's error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// CheckSyntax returns nil when b is one JSON value, or a *SyntaxError
// saying where it breaks.
func CheckSyntax(b []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(b, &raw)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return nil
	}
	// encoding/json counts the offending byte as read; at the end of the
	// input, the place is just past it.
	pos := max(int(se.Offset)-1, 0)
	if int(se.Offset) >= len(b) && strings.Contains(se.Error(), "unexpected end") {
		pos = len(bytes.TrimRight(b, " \t\r\n"))
	}
	head := b[:min(pos, len(b))]
	line := bytes.Count(head, []byte("\n")) + 1
	col := utf8.RuneCount(head[bytes.LastIndexByte(head, '\n')+1:]) + 1
	return &SyntaxError{Line: line, Column: col, Offset: se.Offset, Err: se}
}

// Clean returns the JSON text of a whole input: without a byte order
// mark, checked to be UTF-8, not empty and one JSON value. Errors are
// *EncodingError, ErrEmpty or *SyntaxError.
func Clean(b []byte) ([]byte, error) {
	if err := CheckUTF8(b, 0); err != nil {
		return nil, err
	}
	b = TrimBOM(b)
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, ErrEmpty
	}
	if err := CheckSyntax(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Read reads r to its end, but no more than max bytes: longer input is a
// *TooLargeError, found after reading max+1 bytes.
func Read(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &TooLargeError{Max: max}
	}
	return b, nil
}
