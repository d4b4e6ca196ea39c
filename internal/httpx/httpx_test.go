package httpx_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/internal/httpx"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{"120", 2 * time.Minute},
		{" 3 ", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0.25", 250 * time.Millisecond},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour},
		{now.Add(2 * time.Second).Format(time.ANSIC), 2 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0}, // past
		{now.Format(http.TimeFormat), 0},                   // now
		{"0", 0},
		{"-1", 0},
		{"-0.5", 0},
		{"junk", 0},
		{"1s", 0},
		{"Wed, 99 Nov 2026 12:00:00 GMT", 0},
		{"NaN", 0},
		{"nan", 0},
		{"Inf", httpx.MaxRetryAfter},
		{"-Inf", 0},
		// Large values are honoured, up to the clamp, never dropped.
		{"1e7", 1e7 * time.Second},
		{"10000000", 1e7 * time.Second},
		{"1e12", httpx.MaxRetryAfter},
		{"1e400", httpx.MaxRetryAfter},
		{"99999999999999999999999", httpx.MaxRetryAfter},
		{"0.000000001", time.Nanosecond},
		{"1e-30", time.Nanosecond},
		{now.Add(200 * 24 * time.Hour).Format(http.TimeFormat), 200 * 24 * time.Hour},
		{"Fri, 31 Dec 9999 23:59:59 GMT", httpx.MaxRetryAfter},
	}
	for _, tt := range tests {
		if got := httpx.ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"", "0", "1", "120", "1.5", "-1", "NaN", "Inf", "1e400", "0x1p4", "junk",
		now.Add(time.Minute).Format(http.TimeFormat), now.Add(-time.Minute).Format(http.TimeFormat), "Mon, 01 Jan 0001 00:00:00 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := httpx.ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v", v, d)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 && n <= 86400 {
			if d != time.Duration(n)*time.Second {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %ds", v, d, n)
			}
		}
	})
}

func TestNoRedirects(t *testing.T) {
	t.Parallel()
	user := &http.Client{Timeout: time.Minute}
	got, ok := httpx.NoRedirects(user).(*http.Client)
	if !ok || got == user || got.Timeout != time.Minute || got.CheckRedirect == nil || user.CheckRedirect != nil {
		t.Errorf("NoRedirects(*http.Client) = %+v; want a copy refusing redirects, the original untouched", got)
	}
	type wrapper struct{ httpx.Doer }
	w := wrapper{user}
	if httpx.NoRedirects(w) != httpx.Doer(w) {
		t.Error("NoRedirects changed a client that is not an *http.Client")
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost":                 true,
		"127.0.0.1":                 true,
		"127.8.9.10":                true,
		"::1":                       true,
		"0:0:0:0:0:0:0:1":           true,
		"":                          false,
		"0.0.0.0":                   false,
		"::":                        false,
		"10.0.0.1":                  false,
		"192.0.2.2":                 false,
		"api.amazonalexa.com":       false,
		"localhost.example.com":     false,
		"127.0.0.1.nip.io":          false,
		"evil-localhost":            false,
		"2001:db8::1":               false,
		"example.invalid":           false,
		"localhost:8080":            false, // a host with a port is not a host
		"128.0.0.1":                 false,
		"::ffff:8.8.8.8":            false,
		"fe80::1":                   false,
		"amzn1.ask.account.12345":   false,
		"api.eu.amazonalexa.com":    false,
		"api.fe.amazonalexa.com.":   false,
		"127.0.0.1 ":                false,
		"169.254.169.254":           false,
		"0x7f.0.0.1":                false,
		"2130706433":                false, // 127.0.0.1 as an integer: not accepted
		"[::1]":                     false, // callers pass URL.Hostname(), without brackets
		"LOCALHOST.":                false,
		"127.0.0.01":                false,
		"::ffff:127.0.0.1":          true,
		"0000:0000::0000:0000:0001": true,
	} {
		if got := httpx.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestPathEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                        "",
		"amzn1.ask.account.A-_~z": "amzn1.ask.account.A-_~z",
		"a/b c?d=e%f":             "a%2Fb%20c%3Fd%3De%25f",
		"..":                      "..",
		"a+b&c":                   "a%2Bb%26c",
		"é":                       "%C3%A9",
	} {
		if got := httpx.PathEscape(in); got != want {
			t.Errorf("PathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
