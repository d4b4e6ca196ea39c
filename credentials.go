package alexa

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/alexa-oos/alexa/internal/redact"
)

// Credentials are a skill's LWA client credentials: the Alexa client id
// and secret shown on the Permissions page of the developer console (not a
// security profile's), and optionally a refresh token.
//
// Every printed form of Credentials (String, %v, %+v, %#v, JSON and slog)
// shows the client id and hides the secret and the refresh token, so a
// Config can be logged safely.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return redact.Mark
}

// String returns the credentials with their secrets masked.
func (c Credentials) String() string {
	return fmt.Sprintf("{ClientID:%s ClientSecret:%s RefreshToken:%s}", c.ClientID, mask(c.ClientSecret), mask(c.RefreshToken))
}

// GoString is the %#v form, secrets masked.
func (c Credentials) GoString() string {
	return fmt.Sprintf("alexa.Credentials{ClientID:%q, ClientSecret:%q, RefreshToken:%q}", c.ClientID, mask(c.ClientSecret), mask(c.RefreshToken))
}

// Format makes every fmt verb use the masked forms.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue masks the secrets in slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", mask(c.ClientSecret)),
		slog.String("refresh_token", mask(c.RefreshToken)),
	)
}

// MarshalJSON masks the secrets: credentials are meant to be read from
// the environment or a file, never written out.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"clientId":     c.ClientID,
		"clientSecret": mask(c.ClientSecret),
		"refreshToken": mask(c.RefreshToken),
	})
}

// Fingerprint identifies the credentials without revealing them: a
// SHA-256 over id, secret and refresh token, to key a cache or a lock of
// your own (a token shared by several processes, say) by credentials.
func (c Credentials) Fingerprint() string {
	h := sha256.New()
	for _, s := range []string{c.ClientID, c.ClientSecret, c.RefreshToken} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
