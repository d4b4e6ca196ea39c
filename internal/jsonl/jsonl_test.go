package jsonl_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/alexa-oos/alexa/internal/jsonl"
)

func TestReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", jsonl.MaxLineBytes+1)
	exact := strings.Repeat("y", jsonl.MaxLineBytes)
	input := "\xef\xbb\xbf{\"a\":1}\r\n\n   \n" + long + "\n  {\"b\":2}  \n" + exact + "\n{\"c\":3}"
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(input),
		"one byte": iotest.OneByteReader(strings.NewReader(input)),
	} {
		lr := jsonl.NewReader(r)
		var got []jsonl.Line
		for {
			l, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, l)
		}
		if len(got) != 5 {
			t.Fatalf("%s: %d lines", name, len(got))
		}
		want := []struct {
			n    int
			data string
			err  error
		}{{1, `{"a":1}`, nil}, {4, "", jsonl.ErrLineTooLong}, {5, `{"b":2}`, nil}, {6, exact, nil}, {7, `{"c":3}`, nil}}
		for i, w := range want {
			if got[i].N != w.n || string(got[i].Data) != w.data || !errors.Is(got[i].Err, w.err) {
				t.Errorf("%s: line %d = {%d %.20q %v}, want {%d %.20q %v}", name, i, got[i].N, got[i].Data, got[i].Err, w.n, w.data, w.err)
			}
		}
	}
}

// A read error other than EOF is the reader's, returned as it is.
func TestReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := jsonl.NewReader(io.MultiReader(strings.NewReader("{}\n"), iotest.ErrReader(boom)))
	if l, err := r.Next(); err != nil || string(l.Data) != "{}" {
		t.Fatalf("first line: %+v, %v", l, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next = %v, want the reader's error", err)
	}
}

// A line that is not UTF-8 is reported with its offset, not decoded with
// replacement characters; the lines around it are read.
func TestReaderRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	lr := jsonl.NewReader(strings.NewReader("{\"a\":1}\n{\"userId\":\"u\xff\"}\n{\"b\":2}\n"))
	var got []string
	for {
		l, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Err != nil {
			got = append(got, fmt.Sprintf("%d: %v", l.N, l.Err))
		} else {
			got = append(got, fmt.Sprintf("%d: %s", l.N, l.Data))
		}
	}
	if len(got) != 3 || got[0] != `1: {"a":1}` || !strings.HasPrefix(got[1], "2: ") || !strings.Contains(got[1], "UTF-8") || !strings.Contains(got[1], "12") || got[2] != `3: {"b":2}` {
		t.Errorf("read %q", got)
	}
}
