package jsonin

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		err      string
	}{
		{`{"a":1}`, `{"a":1}`, ""},
		{BOM + `{"a":1}`, `{"a":1}`, ""},
		{BOM + ` {"é":"ü"} `, ` {"é":"ü"} `, ""},
		{"", "", "is empty"},
		{" \r\n\t", "", "is empty"},
		{BOM, "", "is empty"},
		{BOM + "\n", "", "is empty"},
		{`{"a":"` + "\xff" + `"}`, "", "invalid UTF-8 at byte offset 6: JSON must be UTF-8"},
		{BOM + `{"a":"` + "\xc3" + `"}`, "", "invalid UTF-8 at byte offset 9:"},
		{`{"é":"` + "\xed\xa0\x80" + `"}`, "", "invalid UTF-8 at byte offset 7:"}, // a surrogate half
		{"\xff\xfe{\x00}\x00", "", "invalid UTF-8 at byte offset 0: the input is UTF-16; save it as UTF-8"},
		{BOM + `{"a":1,}`, "", "not JSON: invalid character '}' looking for beginning of object key string, at line 1, column 8"},
	}
	for _, tt := range tests {
		got, err := Clean([]byte(tt.in))
		switch {
		case tt.err == "" && (err != nil || string(got) != tt.want):
			t.Errorf("Clean(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Clean(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
		}
	}
	if _, err := Clean(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Clean(nil) = %v; want ErrEmpty", err)
	}
	var ee *EncodingError
	if _, err := Clean([]byte("ab\x80")); !errors.As(err, &ee) || ee.Offset != 2 {
		t.Errorf("Clean: %v; want an *EncodingError at offset 2", err)
	}
	if err := CheckUTF8([]byte("ab\x80"), 100); !errors.As(err, &ee) || ee.Offset != 102 || ee.UTF16 {
		t.Errorf("CheckUTF8 with an offset: %v", err)
	}
}

// endless is an input that never ends, counting what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestReadStopsAtTheBound(t *testing.T) {
	t.Parallel()
	in := &endless{}
	_, err := Read(in, 1000)
	var te *TooLargeError
	if !errors.As(err, &te) || te.Max != 1000 || !strings.Contains(err.Error(), "larger than 1000 bytes") {
		t.Fatalf("Read = %v; want a *TooLargeError", err)
	}
	if in.read > 1001 {
		t.Errorf("read %d bytes of an endless input bounded at 1000", in.read)
	}
	b, err := Read(strings.NewReader(strings.Repeat("x", 1000)), 1000)
	if err != nil || len(b) != 1000 {
		t.Errorf("Read of exactly the bound = %d bytes, %v", len(b), err)
	}
	if _, err := Read(iotest{}, 10); err == nil || err.Error() != "broken" {
		t.Errorf("Read of a failing reader = %v", err)
	}
}

type iotest struct{}

func (iotest) Read([]byte) (int, error) { return 0, errors.New("broken") }

var _ io.Reader = iotest{}

// A syntax error says where, in lines and characters from 1.
func TestCheckSyntax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in        string
		line, col int
	}{
		{`{"a":1,}`, 1, 8},
		{`{"a":1`, 1, 7},
		{"{\n  \"é\": 1,\n  x\n}", 3, 3},
		{`[1 2]`, 1, 4},
	} {
		err := CheckSyntax([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tc.line || se.Column != tc.col {
			t.Errorf("CheckSyntax(%q) = %v, want line %d, column %d", tc.in, err, tc.line, tc.col)
		}
	}
	for _, ok := range []string{`{}`, ` [1, 2] `, `"x"`} {
		if err := CheckSyntax([]byte(ok)); err != nil {
			t.Errorf("CheckSyntax(%q) = %v, want nil", ok, err)
		}
	}
}
