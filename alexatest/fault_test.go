package alexatest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

const user = "amzn1.ask.account.FAULT"

func TestFaultRedirect(t *testing.T) {
	t.Parallel()
	target := alexatest.NewServer(alexatest.Options{})
	defer target.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		srv := alexatest.NewServer(alexatest.Options{})
		srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Redirect: target.URL + skillmsg.Path(user), Status: code})
		_, err := messaging.NewClient(srv.Config()).Send(context.Background(), user, nil)
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.StatusCode != code || !errors.Is(err, alexa.ErrRedirected) || ae.Attempts != 1 {
			t.Errorf("%d: err = %v, want the redirect as an *alexa.Error after 1 attempt", code, err)
		}
		if n := srv.Calls(skillmsg.Path(user)); n != 1 {
			t.Errorf("%d: %d calls, want 1", code, n)
		}
		srv.Close()
	}
	if n := len(target.Messages()) + len(target.TokenRequests()); n != 0 {
		t.Errorf("the redirect target received %d calls", n)
	}
}

func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Truncate: true})
	res, err := messaging.NewClient(srv.Config()).Send(context.Background(), user, nil)
	if err != nil || res.StatusCode != 202 || res.Attempts != 1 {
		t.Errorf("Send = %+v, %v; want a 202 after 1 attempt: the status line arrived", res, err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the skill received %d messages, want 1", n)
	}
}

func TestFaultHugeRetryAfter(t *testing.T) {
	t.Parallel()
	for _, f := range []alexatest.Fault{
		{Status: 429, RetryAfterValue: "1e7"},
		{Status: 429, RetryAfterValue: time.Now().Add(100 * 24 * time.Hour).UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")},
		{Status: 429, RetryAfter: 30 * 24 * time.Hour},
	} {
		srv := alexatest.NewServer(alexatest.Options{})
		f.Path = "/v1/skillmessages"
		srv.InjectFault(f)
		_, err := messaging.NewClient(srv.Config()).Send(context.Background(), user, nil)
		var ae *alexa.Error
		if !errors.As(err, &ae) || ae.RetryAfter < 29*24*time.Hour || ae.Attempts != 1 {
			t.Errorf("%+v: err = %v, want the 429 with its Retry-After after 1 attempt", f, err)
		}
		srv.Close()
	}
}

func TestFaultEchoIsRedacted(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	cfg := srv.Config()
	cfg.Retry = alexa.NoRetry()
	cfg.Tokens = lwa.NewProvider(cfg) // the client's token is fetched before the fault
	tok, err := cfg.Tokens.Token(context.Background(), messaging.Scope)
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(alexatest.Fault{Echo: true})
	_, err = messaging.NewClient(cfg).Send(context.Background(), user, nil)
	var ae *alexa.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(string(ae.Body), "POST /v1/skillmessages") {
		t.Fatalf("err = %v, want the echo as a 400", err)
	}
	_, tokErr := lwa.NewProvider(alexa.Config{Credentials: cfg.Credentials, TokenURL: cfg.TokenURL, Retry: alexa.NoRetry()}).Token(context.Background(), "alexa:abc")
	for _, e := range []error{err, tokErr} {
		text := fmt.Sprintf("%v %+v %s", e, e, ae.Body)
		for _, secret := range []string{tok, cfg.Credentials.ClientSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("error shows a secret: %s", text)
			}
		}
	}
	if tokErr == nil || !errors.Is(tokErr, lwa.ErrTokenUnavailable) {
		t.Errorf("token request against an echo: err = %v, want ErrTokenUnavailable", tokErr)
	}
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	srv.InjectFault(alexatest.Fault{Path: alexatest.TokenPath, Hang: true})
	cfg := srv.Config()
	cfg.HTTPClient = alexa.NewHTTPClient(alexa.HTTPOptions{ResponseHeaderTimeout: 20 * time.Millisecond})
	cfg.Retry = &alexa.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}
	_, err := messaging.NewClient(cfg).Send(context.Background(), user, nil)
	if !errors.Is(err, lwa.ErrTokenUnavailable) {
		t.Errorf("err = %v, want ErrTokenUnavailable", err)
	}
	if n := srv.Calls(alexatest.TokenPath); n != 2 {
		t.Errorf("%d token requests, want 2 (MaxAttempts)", n)
	}

	// ClearFaults releases a call held without a client timeout.
	cfg.HTTPClient = nil
	cfg.TokenURL += "?other-cache"
	done := make(chan error, 1)
	go func() {
		_, err := lwa.NewProvider(cfg).Token(context.Background(), "alexa:abc")
		done <- err
	}()
	for srv.Calls(alexatest.TokenPath) < 3 {
		time.Sleep(time.Millisecond)
	}
	srv.ClearFaults()
	// The held call is answered 503, and the retry gets a token.
	if err := <-done; err != nil {
		t.Errorf("released call: err = %v, want a token from the retry", err)
	}
}

// A forced status on the token path answers in LWA's shape, and a JSON
// Body goes out as application/json: clients read both as LWA's errors.
func TestFaultOnTokenPathSpeaksLWA(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	post := func() (*http.Response, string) {
		t.Helper()
		resp, err := http.PostForm(srv.TokenURL, url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	srv.InjectFault(alexatest.Fault{Path: alexatest.TokenPath, Status: 401, Times: 1})
	if resp, body := post(); resp.StatusCode != 401 || !strings.Contains(body, `"error":"invalid_client"`) || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("forced 401: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	srv.InjectFault(alexatest.Fault{Path: alexatest.TokenPath, Status: 400, Body: `{"error":"invalid_grant","error_description":"revoked"}`, Times: 1})
	if resp, body := post(); resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, "invalid_grant") {
		t.Errorf("JSON body: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}
