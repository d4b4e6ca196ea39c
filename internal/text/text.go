// Package text holds the text helpers that every package of alexa-oos
// shares, each written once: a body shortened to one printable line, a
// value shown in a validation error, and a Retry-After rounded to whole
// seconds.
package text

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SnippetBytes is how much of a server's answer an error message quotes.
const SnippetBytes = 300

// OneLine returns the start of s as one printable line of at most max
// bytes, and "…" when something was cut: runs of white space and control
// characters (which could move a terminal's cursor) become one space,
// invalid UTF-8 is dropped and a rune is never cut in half. At most 4*max
// bytes of s are read, so a large body costs little.
func OneLine(s string, max int) string {
	cut := false
	if len(s) > 4*max {
		s, cut = s[:4*max], true
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s, cut = Truncate(s, max), true
	}
	if cut {
		s += "…"
	}
	return s
}

// Truncate returns the longest prefix of s of at most max bytes that does
// not end inside a rune.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// maxValue bounds a value shown by ShowValue.
const maxValue = 80

// ShowValue renders a value for a validation error: strings quoted, long
// ones shortened, times in RFC 3339, nil as "".
func ShowValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if len(x) > maxValue {
			x = Truncate(x, maxValue) + "…"
		}
		return strconv.Quote(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	default:
		s := fmt.Sprint(x)
		if len(s) > maxValue {
			s = Truncate(s, maxValue) + "…"
		}
		return s
	}
}

// CeilSeconds returns d in whole seconds rounded up, as a Retry-After
// header or a retryAfterSeconds field gives it: a wait shorter than asked
// could be refused again. Zero or negative durations give 0.
func CeilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
