// Package redact keeps credentials out of every error and log line of
// alexa-oos: the secrets of the call, and anything shaped like a
// credential, are replaced by Mark.
package redact

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// credentialShapes match what looks like a credential whatever its value:
// a bearer token, form fields and query parameters named after a secret,
// JSON members named after one, and LWA's token formats (Atza|…, Atzr|…).
var credentialShapes = []struct {
	re   *regexp.Regexp
	with string
}{
	// Eight characters at least, so that prose such as "Bearer token
	// expired" survives; real tokens are hundreds long.
	{regexp.MustCompile(`(?i)(\bbearer\s+)[^\s"',;<>]{8,}`), "${1}" + Mark},
	{regexp.MustCompile(`(?i)(\b(?:client_secret|refresh_token|access_token|clientSecret|refreshToken|accessToken)=)[^&\s"'<>]+`), "${1}" + Mark},
	{regexp.MustCompile(`(?i)("(?:client_secret|refresh_token|access_token|clientSecret|refreshToken|accessToken)"\s*:\s*")(?:[^"\\]|\\.)*"`), "${1}" + Mark + `"`},
	{regexp.MustCompile(`\bAtz[ar](?:\||%7[Cc])[^\s"'&,;<>]+`), Mark},
}

// Mark replaces every secret.
const Mark = "[redacted]"

// minSecret is the shortest secret replaced wherever it occurs: shorter
// ones would turn ordinary text into noise, and no real credential is so
// short (the shapes above still catch it in its usual places).
const minSecret = 6

// String returns s with secrets and anything shaped like a credential
// replaced by Mark: each of secrets (as given, form-encoded,
// path-escaped and JSON-escaped), "Bearer <x>", "client_secret=<x>",
// "refresh_token=<x>", "access_token=<x>", the JSON values of members named
// so, and LWA tokens ("Atza|…", "Atzr|…"). Every error of this module that
// quotes a server's answer passes through it, so a proxy or server that
// echoes the request cannot put the credentials into an error, a log or
// JSON output. Empty secrets are ignored.
func String(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < minSecret {
			continue
		}
		for _, form := range secretForms(secret) {
			s = strings.ReplaceAll(s, form, Mark)
		}
	}
	for _, c := range credentialShapes {
		if c.re.MatchString(s) {
			s = c.re.ReplaceAllString(s, c.with)
		}
	}
	return s
}

// secretForms are the ways secret may appear in an echoed request.
func secretForms(secret string) []string {
	forms := []string{secret}
	add := func(f string) {
		for _, g := range forms {
			if g == f {
				return
			}
		}
		forms = append(forms, f)
	}
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	if b, err := json.Marshal(secret); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	return forms
}

// Bytes is String for a body.
func Bytes(b []byte, secrets ...string) []byte {
	if len(b) == 0 {
		return b
	}
	s := String(string(b), secrets...)
	if s == string(b) {
		return b
	}
	return []byte(s)
}

// Header returns a copy of h with every value passed through String.
func Header(h http.Header, secrets ...string) http.Header {
	if h == nil {
		return nil
	}
	c := make(http.Header, len(h))
	for k, vs := range h {
		c[k] = make([]string, len(vs))
		for i, v := range vs {
			c[k][i] = String(v, secrets...)
		}
	}
	return c
}

// Error returns err with its text passed through String; errors.Is
// and errors.As still see err. Nil stays nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if r := String(text, secrets...); r != text {
		return &redactedError{text: r, err: err}
	}
	return err
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
