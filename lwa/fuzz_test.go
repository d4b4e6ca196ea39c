package lwa_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

// contentTypes are the Content-Type headers the fuzzed token endpoint can
// answer with; "" sends none.
var contentTypes = []string{
	"application/json;charset=UTF-8",
	"application/json",
	"application/x-www-form-urlencoded",
	"text/plain",
	"text/html",
	"",
}

// FuzzTokenResponse serves arbitrary statuses and bodies from the token
// endpoint: Provider.Token must not panic, and must return either a token
// (only for a 2xx) or a typed error.
func FuzzTokenResponse(f *testing.F) {
	const (
		jsonCT = 0
		formCT = 2
		htmlCT = 4
	)
	for _, seed := range []struct {
		status int
		ct     uint8
		body   string
	}{
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":3600,"scope":"alexa:skill_messaging","token_type":"bearer"}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":"3600","token_type":"bearer"}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA"}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":-5}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":1e400}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":99999999999}`},
		{200, jsonCT, `{"access_token":"Atza|IwEBIA","expires_in":null}`},
		{200, jsonCT, `{"access_token":42}`},
		{200, jsonCT, `{"token_type":"bearer","expires_in":3600}`},
		{200, jsonCT, `{"error":"invalid_scope","error_description":"An unknown scope was requested"}`},
		{200, jsonCT, ``},
		{200, jsonCT, `null`},
		{200, jsonCT, `[]`},
		{200, 5, `{"access_token":"Atza|IwEBIA","expires_in":3600}`},
		{200, formCT, `access_token=Atza%7CIwEBIA&expires_in=3600&token_type=bearer`},
		{200, formCT, `access_token=%zz`},
		{200, 3, `access_token=Atza|x&expires_in=30`},
		{200, htmlCT, `<html><body>Maintenance</body></html>`},
		{200, jsonCT, `{"access_token":"` + strings.Repeat("A", 100<<10) + `","expires_in":3600}`},
		{200, jsonCT, `{"access_token":"x","pad":"` + strings.Repeat("p", 1<<20) + `"}`},
		{400, jsonCT, `{"error":"invalid_scope","error_description":"The request has an invalid parameter : scope"}`},
		{400, jsonCT, `{"error":"unauthorized_client","error_description":"Not authorized for requested operation"}`},
		{401, jsonCT, `{"error":"invalid_client","error_description":"Client authentication failed"}`},
		{400, jsonCT, `{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}`},
		{400, formCT, `error=invalid_request&error_description=bad`},
		{429, jsonCT, `{"error":"slow_down"}`},
		{500, 5, ``},
		{502, htmlCT, `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>`},
		{503, htmlCT, strings.Repeat("<p>busy</p>", 10000)},
		{504, jsonCT, "\xff\xfe{\"error\":\"\xff\"}"},
		{204, jsonCT, ``},
		{302, htmlCT, `moved`},
		{404, 3, `Not Found`},
		{-7, jsonCT, `{}`},
	} {
		f.Add(seed.status, seed.ct, []byte(seed.body))
	}

	var mu sync.Mutex
	var status int
	var contentType string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, ct, b := status, contentType, body
		mu.Unlock()
		if ct == "" {
			w.Header()["Content-Type"] = nil // no sniffing either
		} else {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(st)
		w.Write(b)
	}))
	client := alexa.NewHTTPClient(alexa.HTTPOptions{})
	f.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	const scope = "alexa:skill_messaging"
	p := lwa.NewProvider(alexa.Config{
		TokenURL:    srv.URL + tokenPath,
		Credentials: alexa.Credentials{ClientID: clientID, ClientSecret: clientSecret},
		HTTPClient:  client,
		Retry:       alexa.NoRetry(),
	})

	f.Fuzz(func(t *testing.T, st int, ct uint8, b []byte) {
		st = 200 + int(uint(st)%400) // a status a server can send: 200..599
		mu.Lock()
		status, contentType, body = st, contentTypes[int(ct)%len(contentTypes)], b
		mu.Unlock()
		p.Invalidate(scope, "")

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tok, err := p.Token(ctx, scope)
		if err == nil {
			if tok == "" {
				t.Fatal("empty token without error")
			}
			if st < 200 || st > 299 {
				t.Fatalf("token %q from HTTP %d", tok, st)
			}
			return
		}
		if err.Error() == "" {
			t.Fatal("empty error text")
		}
		var le *lwa.Error
		var te *alexa.TransportError
		var ve *alexa.ValidationError
		switch {
		case errors.As(err, &le):
			if le.StatusCode != st {
				t.Fatalf("lwa.Error.StatusCode = %d, server sent %d", le.StatusCode, st)
			}
			if len(le.Body) > alexa.MaxErrorBody {
				t.Fatalf("lwa.Error.Body is %d bytes", len(le.Body))
			}
			if le.Retryable() != (st == 429 || st >= 500) {
				t.Fatalf("HTTP %d: Retryable() = %v", st, le.Retryable())
			}
			_ = le.Hint()
		case errors.As(err, &te), errors.As(err, &ve):
		default:
			t.Fatalf("HTTP %d: untyped error %T: %v", st, err, err)
		}
		if strings.Contains(err.Error(), clientSecret) && !strings.Contains(string(b), clientSecret) {
			t.Fatalf("error text shows the client secret: %v", err)
		}
	})
}
