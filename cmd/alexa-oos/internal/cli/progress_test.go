package cli

import (
	"io"
	"strings"
	"testing"
)

// Progress over a file comes from the bytes read: the share read, and an
// ETA from the rate they are read at; without a size, neither.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	p := &progress{size: 1000}
	r := p.reading(strings.NewReader(strings.Repeat("x", 250)))
	if n, err := io.Copy(io.Discard, r); n != 250 || err != nil {
		t.Fatal(n, err)
	}
	p.done.Store(40)
	p.delivered.Store(39)
	p.failed.Store(1)
	if got, want := p.line(20, 100), "alexa-oos: 40 done (39 delivered, 1 failed), 20/s, 25% read, ETA 8s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p.read.Store(1000)
	if got, want := p.line(20, 0), "alexa-oos: 40 done (39 delivered, 1 failed), 20/s, 100% read"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	p = &progress{}
	p.done.Store(3)
	if got, want := p.line(3, 300), "alexa-oos: 3 done (0 delivered, 0 failed), 3/s"; got != want {
		t.Errorf("line without a size = %q, want %q", got, want)
	}
}
