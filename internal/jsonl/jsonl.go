// Package jsonl reads JSON-lines input one line at a time, whatever its
// size: blank lines are skipped but counted, so that a line's number is
// what an editor shows, and an over-long line is reported without being
// held in memory.
package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/alexa-oos/alexa/internal/jsonin"
)

// MaxLineBytes bounds one input line. A longer line is reported with
// ErrLineTooLong and skipped without being held in memory.
const MaxLineBytes = 1 << 20

// ErrLineTooLong is the Line.Err of a line longer than MaxLineBytes.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// Line is one non-blank line of JSONL input.
type Line struct {
	// N is the line's number in the input, from 1, blank lines counted.
	N int
	// Data is the line without its line ending and surrounding spaces. It
	// is the Line's own copy.
	Data []byte
	// Err is set, with Data nil, when the line could not be kept
	// (ErrLineTooLong) or is not UTF-8 (a *jsonin.EncodingError with the
	// byte offset in the line).
	Err error
}

// Reader reads JSONL input one line at a time, skipping blank lines
// but counting them, so that Line.N is what an editor shows. It holds one
// line at a time, whatever the size of the input.
type Reader struct {
	br  *bufio.Reader
	n   int
	buf []byte
}

// NewReader returns a Reader reading r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next non-blank line, or io.EOF after the last. Any
// other error is the reader's.
func (lr *Reader) Next() (Line, error) {
	for {
		raw, tooLong, err := lr.readLine()
		if err != nil {
			return Line{}, err
		}
		lr.n++
		raw = bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
		if tooLong || len(raw) > MaxLineBytes {
			return Line{N: lr.n, Err: ErrLineTooLong}, nil
		}
		if lr.n == 1 {
			raw = bytes.TrimPrefix(raw, []byte(jsonin.BOM))
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		if err := jsonin.CheckUTF8(raw, 0); err != nil {
			// Never decoded with replacement characters: that would send
			// another userId or text than the line holds.
			return Line{N: lr.n, Err: err}, nil
		}
		return Line{N: lr.n, Data: bytes.Clone(raw)}, nil
	}
}

// readLine returns the next line with its ending. The slice is valid
// until the next call. A last line without newline is a line; io.EOF
// comes only when nothing is left.
func (lr *Reader) readLine() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.buf)+len(chunk) > MaxLineBytes+2 { // +2: the line ending
				tooLong = true
				lr.buf = lr.buf[:0]
			} else if len(lr.buf) == 0 && err == nil {
				// The common case: the whole line is in the reader's
				// buffer, no copy needed.
				return chunk, false, nil
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return lr.buf, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(lr.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return lr.buf, tooLong, nil
		default:
			return nil, false, err
		}
	}
}
