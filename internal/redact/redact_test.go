package redact_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa/internal/redact"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	const secret = "s3cr&t=+x y%/9"
	tests := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"Authorization: Bearer Atza|IwEBIA-long-token", "Authorization: Bearer [redacted]"},
		{"authorization: bearer abcdefgh12345678", "authorization: bearer [redacted]"},
		{"Bearer token expired", "Bearer token expired"},
		{"grant_type=client_credentials&client_secret=abc&scope=x", "grant_type=client_credentials&client_secret=[redacted]&scope=x"},
		{"refresh_token=Atzr%7Cxyz&client_id=id", "refresh_token=[redacted]&client_id=id"},
		{`{"access_token":"Atza|x\"y","expires_in":3600}`, `{"access_token":"[redacted]","expires_in":3600}`},
		{`{"refresh_token" : "r"}`, `{"refresh_token" : "[redacted]"}`},
		{`{"clientSecret":"c"}`, `{"clientSecret":"[redacted]"}`},
		{"token Atza|IwEBIHx2 here", "token [redacted] here"},
		{"the secret is " + secret + "!", "the secret is [redacted]!"},
		{"form: s3cr%26t%3D%2Bx+y%25%2F9", "form: [redacted]"},
		{`json: "s3cr\u0026t=+x y%/9"`, `json: "[redacted]"`},
	}
	for _, tt := range tests {
		if got := redact.String(tt.in, secret, "", "ab"); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Too short to replace everywhere: ordinary text stays readable.
	if got := redact.String("about a bag", "ab"); got != "about a bag" {
		t.Errorf("a 2-byte secret mangled text: %q", got)
	}
}

func TestRedactError(t *testing.T) {
	t.Parallel()
	err := redact.Error(&wrapped{"read: client_secret=abc", io.ErrUnexpectedEOF})
	if err.Error() != "read: client_secret=[redacted]" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("RedactError = %q, want redacted text and the cause kept", err)
	}
	plain := errors.New("plain")
	if redact.Error(plain, "secret-value") != plain || redact.Error(nil) != nil {
		t.Error("RedactError wrapped an error with nothing to redact")
	}
	h := redact.Header(http.Header{"X-A": {"Bearer abcdefghijkl", "ok"}})
	if strings.Join(h["X-A"], ",") != "Bearer [redacted],ok" {
		t.Errorf("RedactHeader = %v", h)
	}
}

type wrapped struct {
	text string
	err  error
}

func (w *wrapped) Error() string { return w.text }
func (w *wrapped) Unwrap() error { return w.err }
