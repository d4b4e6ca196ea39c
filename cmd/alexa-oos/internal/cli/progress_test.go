package cli

import (
	"io"
	"strings"
	"testing"
)

// Progress over a file comes from the items done: the bytes per line read
// so far give the lines in the file, however far the reading ran ahead;
// the ETA comes from the items' rate. Without a size, neither.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	p := &progress{size: 1000}
	// 50 lines of 10 bytes read (half the file), 25 of them done.
	r := p.reading(strings.NewReader(strings.Repeat("123456789\n", 50)))
	if n, err := io.Copy(io.Discard, r); n != 500 || err != nil {
		t.Fatal(n, err)
	}
	p.done.Store(25)
	p.delivered.Store(24)
	p.failed.Store(1)
	if got, want := p.line(15), "alexa-oos: 25 done (24 delivered, 1 failed), 15/s, 25% done, ETA 5s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.done.Store(100)
	if got, want := p.line(0), "alexa-oos: 100 done (24 delivered, 1 failed), 0/s, 100% done"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p = &progress{}
	p.done.Store(3)
	if got, want := p.line(3), "alexa-oos: 3 done (0 delivered, 0 failed), 3/s"; got != want {
		t.Errorf("line without a size = %q, want %q", got, want)
	}
}
