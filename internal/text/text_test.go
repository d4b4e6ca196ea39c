package text_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alexa-oos/alexa/internal/text"
)

func TestOneLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"", 10, ""},
		{"  a \n\t b  ", 10, "a b"},
		{"<html>\n<body>\tForbidden  by CDN</body></html>", 100, "<html> <body> Forbidden by CDN</body></html>"},
		{"abcdef", 3, "abc…"},
		{"é" + "é", 3, "é…"}, // never half a rune
		{"a\x1b[2Jb", 10, "a [2Jb"},
		{"a\xffb", 10, "ab"},
		{strings.Repeat(" ", 100) + "x", 10, "…"}, // cut before squashing: something was dropped
	} {
		got := text.OneLine(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("OneLine(%q) is not UTF-8", tt.in)
		}
	}
	huge := strings.Repeat("x", 1<<20)
	if got := text.OneLine(huge, text.SnippetBytes); len(got) > text.SnippetBytes+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("OneLine of 1 MiB is %d bytes", len(got))
	}
}

func TestShowValue(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 12, 0, 0, 5, time.UTC)
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"a b", `"a b"`},
		{"", `""`},
		{42, "42"},
		{at, "2026-11-25T12:00:00.000000005Z"},
	} {
		if got := text.ShowValue(tt.in); got != tt.want {
			t.Errorf("ShowValue(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := text.ShowValue(strings.Repeat("ü", 100))
	if !utf8.ValidString(long) || !strings.HasSuffix(long, `…"`) || len(long) > 90 {
		t.Errorf("ShowValue(long) = %q", long)
	}
}

func TestCeilSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int64{
		-time.Second:             0,
		0:                        0,
		time.Nanosecond:          1,
		time.Second:              1,
		time.Second + 1:          2,
		1500 * time.Millisecond:  2,
		2 * time.Minute:          120,
		time.Duration(1<<63 - 1): 9223372037,
	} {
		if got := text.CeilSeconds(d); got != want {
			t.Errorf("CeilSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
