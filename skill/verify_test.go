package skill_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/skill"
)

const (
	testUser = "amzn1.ask.account.TESTUSER"
	testApp  = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"
)

// signers are made once per test binary: each makes keys.
var (
	signersOnce sync.Once
	signers     struct {
		good, other, expired, notYet, wrongSAN *alexatest.SkillSigner
	}
	signersErr error
)

func testSigners(t *testing.T) *struct {
	good, other, expired, notYet, wrongSAN *alexatest.SkillSigner
} {
	t.Helper()
	signersOnce.Do(func() {
		now := time.Now()
		mk := func(o alexatest.SkillSignerOptions) *alexatest.SkillSigner {
			s, err := alexatest.NewSkillSigner(o)
			if err != nil {
				signersErr = err
			}
			return s
		}
		signers.good = mk(alexatest.SkillSignerOptions{})
		signers.other = mk(alexatest.SkillSignerOptions{})
		signers.expired = mk(alexatest.SkillSignerOptions{NotBefore: now.AddDate(0, 0, -30), NotAfter: now.Add(-time.Hour)})
		signers.notYet = mk(alexatest.SkillSignerOptions{NotBefore: now.Add(time.Hour), NotAfter: now.AddDate(0, 0, 30)})
		signers.wrongSAN = mk(alexatest.SkillSignerOptions{DNSNames: []string{"echo-api.example.com", "amazon.com"}})
	})
	if signersErr != nil {
		t.Fatal(signersErr)
	}
	return &signers
}

// body returns a request body of type typ sent at ts.
func body(t *testing.T, typ string, ts time.Time) []byte {
	t.Helper()
	sys := skill.System{
		Application:    skill.Application{ApplicationID: testApp},
		User:           skill.User{UserID: testUser},
		APIEndpoint:    "https://api.amazonalexa.com",
		APIAccessToken: "api-access-token-secret",
	}
	var r skill.Request
	switch typ {
	case skill.TypeMessageReceived:
		r = &skill.MessageReceived{Message: []byte(`{"reminderId":"42"}`)}
	case skill.TypeProactiveSubscriptionChanged:
		r = &skill.ProactiveSubscriptionChanged{Body: skill.SubscriptionsBody{Subscriptions: []skill.Subscription{{EventName: "AMAZON.MessageAlert.Activated"}}}}
	default:
		r = &skill.Other{}
	}
	c := r.Info()
	c.Type, c.RequestID, c.Timestamp, c.Locale = typ, "amzn1.echo-api.request.1", ts, "en-US"
	b, err := skill.Encode(skill.Context{System: sys}, r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newRequest(b []byte) *http.Request {
	return httptest.NewRequest(http.MethodPost, "https://skill.example.com/alexa", bytes.NewReader(b))
}

func signed(s *alexatest.SkillSigner, b []byte) *http.Request {
	r := newRequest(b)
	s.Sign(r, b)
	return r
}

// multiClient answers chain URLs of several signers.
type multiClient []*alexatest.SkillSigner

func (m multiClient) Do(r *http.Request) (*http.Response, error) {
	for _, s := range m {
		resp, err := s.HTTPClient().Do(r)
		if err != nil || resp.StatusCode != http.StatusNotFound {
			return resp, err
		}
	}
	return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// stubClient answers every request with status and body.
type stubClient struct {
	status int
	body   string
	err    error
}

func (s stubClient) Do(r *http.Request) (*http.Response, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &http.Response{StatusCode: s.status, Body: io.NopCloser(strings.NewReader(s.body)), Request: r, Header: http.Header{}}, nil
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ss := testSigners(t)
	now := time.Now()
	fresh := body(t, skill.TypeMessageReceived, now)
	all := multiClient{ss.good, ss.other, ss.expired, ss.notYet, ss.wrongSAN}

	type tc struct {
		name string
		// req builds the request and its body; default: fresh, signed by good.
		req  func() (*http.Request, []byte)
		opts func(*skill.VerifierOptions)
		want skill.Reason // "" means accepted
	}
	withURL := func(u string) func() (*http.Request, []byte) {
		return func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Set(skill.HeaderCertChainURL, u)
			return r, fresh
		}
	}
	goodPath := strings.TrimPrefix(ss.good.CertURL(), "https://s3.amazonaws.com")
	file := strings.TrimPrefix(goodPath, "/echo.api/")
	signedAt := func(typ string, age time.Duration) func() (*http.Request, []byte) {
		return func() (*http.Request, []byte) {
			b := body(t, typ, now.Add(-age))
			return signed(ss.good, b), b
		}
	}
	by := func(s *alexatest.SkillSigner) func() (*http.Request, []byte) {
		return func() (*http.Request, []byte) { return signed(s, fresh), fresh }
	}

	cases := []tc{
		{name: "valid", want: ""},
		{name: "valid, port 443", req: withURL("https://s3.amazonaws.com:443" + goodPath)},
		{name: "valid, scheme and host in upper case", req: withURL("HTTPS://S3.AmazonAWS.com" + goodPath)},
		{name: "valid, .. back into /echo.api/", req: withURL("https://s3.amazonaws.com/echo.api/../echo.api/" + file)},
		{name: "valid, 149 s old", req: signedAt(skill.TypeMessageReceived, 149*time.Second)},
		{name: "valid, 149 s ahead", req: signedAt(skill.TypeMessageReceived, -149*time.Second)},
		{name: "valid, allowed application", opts: func(o *skill.VerifierOptions) { o.ApplicationIDs = []string{"other", testApp} }},

		{name: "no SignatureCertChainUrl", want: skill.ReasonMissingCertURL, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Del(skill.HeaderCertChainURL)
			return r, fresh
		}},
		{name: "http", want: skill.ReasonBadCertURL, req: withURL("http://s3.amazonaws.com" + goodPath)},
		{name: "other host", want: skill.ReasonBadCertURL, req: withURL("https://notamazon.com" + goodPath)},
		{name: "host suffix", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com.evil.example" + goodPath)},
		{name: "user info", want: skill.ReasonBadCertURL, req: withURL("https://evil@s3.amazonaws.com" + goodPath)},
		{name: "traversal out of /echo.api/", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com/echo.api/../" + file)},
		{name: "port 8443", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com:8443" + goodPath)},
		{name: "port 563", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com:563" + goodPath)},
		{name: "path case", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com/EcHo.aPi/" + file)},
		{name: "path not /echo.api/", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com/invalid.path/" + file)},
		{name: "path /echo.api without slash", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com/echo.api")},
		{name: "not a URL", want: skill.ReasonBadCertURL, req: withURL("https://s3.amazonaws.com/echo.api/%zz")},

		{name: "no signature at all", want: skill.ReasonMissingSignature, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Del(skill.HeaderSignature256)
			r.Header.Del(skill.HeaderSignatureSHA1)
			return r, fresh
		}},
		{name: "SHA-1 Signature only", want: skill.ReasonSHA1Only, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Del(skill.HeaderSignature256)
			return r, fresh
		}},
		{name: "tampered body", want: skill.ReasonBadSignature, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			return r, bytes.Replace(fresh, []byte(`"42"`), []byte(`"43"`), 1)
		}},
		{name: "SHA-1 signature in Signature-256", want: skill.ReasonBadSignature, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Set(skill.HeaderSignature256, ss.good.SignatureSHA1(fresh))
			return r, fresh
		}},
		{name: "signature not base64", want: skill.ReasonBadSignature, req: func() (*http.Request, []byte) {
			r := signed(ss.good, fresh)
			r.Header.Set(skill.HeaderSignature256, "not base64!")
			return r, fresh
		}},

		{name: "expired certificate", want: skill.ReasonCertExpired, req: by(ss.expired), opts: func(o *skill.VerifierOptions) { o.HTTPClient, o.Roots = all, ss.expired.Roots() }},
		{name: "certificate not yet valid", want: skill.ReasonCertNotYetValid, req: by(ss.notYet), opts: func(o *skill.VerifierOptions) { o.HTTPClient, o.Roots = all, ss.notYet.Roots() }},
		{name: "SAN without echo-api.amazon.com", want: skill.ReasonMissingSAN, req: by(ss.wrongSAN), opts: func(o *skill.VerifierOptions) { o.HTTPClient, o.Roots = all, ss.wrongSAN.Roots() }},
		{name: "chain of another CA", want: skill.ReasonUntrustedChain, req: by(ss.other), opts: func(o *skill.VerifierOptions) { o.HTTPClient = all }},
		{name: "system roots only", want: skill.ReasonUntrustedChain, opts: func(o *skill.VerifierOptions) { o.Roots = nil }},
		{name: "empty root pool", want: skill.ReasonUntrustedChain, opts: func(o *skill.VerifierOptions) { o.Roots = x509.NewCertPool() }},
		{name: "chain not found", want: skill.ReasonCertFetch, req: withURL("https://s3.amazonaws.com/echo.api/missing.pem")},
		{name: "chain fetch fails", want: skill.ReasonCertFetch, opts: func(o *skill.VerifierOptions) { o.HTTPClient = stubClient{err: errors.New("connection refused")} }},
		{name: "chain not PEM", want: skill.ReasonBadCertChain, opts: func(o *skill.VerifierOptions) { o.HTTPClient = stubClient{status: 200, body: "<html>hello</html>"} }},
		{name: "chain without certificate", want: skill.ReasonBadCertChain, opts: func(o *skill.VerifierOptions) {
			o.HTTPClient = stubClient{status: 200, body: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}
		}},
		{name: "chain too large", want: skill.ReasonBadCertChain, opts: func(o *skill.VerifierOptions) { o.MaxChainBytes = 100 }},

		{name: "151 s old", want: skill.ReasonTimestamp, req: signedAt(skill.TypeMessageReceived, 151*time.Second)},
		{name: "151 s ahead", want: skill.ReasonTimestamp, req: signedAt(skill.TypeMessageReceived, -151*time.Second)},
		{name: "a day old", want: skill.ReasonTimestamp, req: signedAt(skill.TypeMessageReceived, 24*time.Hour)},
		{name: "stricter tolerance", want: skill.ReasonTimestamp, req: signedAt(skill.TypeMessageReceived, 31*time.Second), opts: func(o *skill.VerifierOptions) { o.TimestampTolerance = 30 * time.Second }},
		{name: "tolerance above 150 s is capped", want: skill.ReasonTimestamp, req: signedAt(skill.TypeMessageReceived, 151*time.Second), opts: func(o *skill.VerifierOptions) { o.TimestampTolerance = time.Hour }},
		{name: "ProactiveSubscriptionChanged 3000 s old", want: skill.ReasonTimestamp, req: signedAt(skill.TypeProactiveSubscriptionChanged, 3000*time.Second)},
		{name: "ProactiveSubscriptionChanged 151 s old", want: skill.ReasonTimestamp, req: signedAt(skill.TypeProactiveSubscriptionChanged, 151*time.Second)},
		{name: "SkillEnabled 3601 s old", want: skill.ReasonTimestamp, req: signedAt(skill.TypeSkillEnabled, 3601*time.Second)},
		{name: "SkillDisabled 3601 s ahead", want: skill.ReasonTimestamp, req: signedAt(skill.TypeSkillDisabled, -3601*time.Second)},

		{name: "body not JSON", want: skill.ReasonBadBody, req: func() (*http.Request, []byte) {
			b := []byte("not json")
			return signed(ss.good, b), b
		}},
		{name: "no request object", want: skill.ReasonBadBody, req: func() (*http.Request, []byte) {
			b := []byte(`{"version":"1.0"}`)
			return signed(ss.good, b), b
		}},
		{name: "no timestamp", want: skill.ReasonBadBody, req: func() (*http.Request, []byte) {
			b := []byte(`{"version":"1.0","request":{"type":"Messaging.MessageReceived"}}`)
			return signed(ss.good, b), b
		}},
		{name: "timestamp not RFC 3339", want: skill.ReasonBadBody, req: func() (*http.Request, []byte) {
			b := fmt.Appendf(nil, `{"version":"1.0","request":{"type":"Messaging.MessageReceived","timestamp":%d}}`, now.Unix())
			return signed(ss.good, b), b
		}},
		{name: "application not allowed", want: skill.ReasonApplicationID, opts: func(o *skill.VerifierOptions) { o.ApplicationIDs = []string{"amzn1.ask.skill.other"} }},
	}
	// The skill events Alexa may deliver up to an hour late.
	for _, typ := range skill.DelayedEventTypes() {
		cases = append(cases, tc{name: typ + " 3599 s old", req: signedAt(typ, 3599*time.Second)})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := ss.good.VerifierOptions()
			o.Now = func() time.Time { return now }
			if c.opts != nil {
				c.opts(&o)
			}
			r, b := signed(ss.good, fresh), fresh
			if c.req != nil {
				r, b = c.req()
			}
			err := skill.NewVerifier(o).Verify(r, b)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var ve *skill.VerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v (%T), want *skill.VerificationError %q", err, err, c.want)
			}
			if ve.Reason != c.want {
				t.Fatalf("Reason = %q (%v), want %q", ve.Reason, err, c.want)
			}
			if strings.Contains(err.Error(), "api-access-token-secret") {
				t.Errorf("error leaks the API access token: %v", err)
			}
		})
	}
}

func TestVerifierCachesChains(t *testing.T) {
	t.Parallel()
	s, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := skill.NewVerifier(s.VerifierOptions())
	for i := range 5 {
		b := body(t, skill.TypeMessageReceived, time.Now())
		if err := v.Verify(signed(s, b), b); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := s.ChainFetches(); n != 1 {
		t.Errorf("chain fetched %d times for 5 requests, want 1", n)
	}
}

func TestVerifierCacheIsBounded(t *testing.T) {
	t.Parallel()
	a, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roots := a.Roots()
	roots.AppendCertsFromPEM(b.CAPEM())
	v := skill.NewVerifier(skill.VerifierOptions{Roots: roots, HTTPClient: multiClient{a, b}, CacheSize: 1})
	for _, s := range []*alexatest.SkillSigner{a, b, a, a} {
		body := body(t, skill.TypeMessageReceived, time.Now())
		if err := v.Verify(signed(s, body), body); err != nil {
			t.Fatal(err)
		}
	}
	// a, then b evicts a, then a again (fetched), then a from the cache.
	if fa, fb := a.ChainFetches(), b.ChainFetches(); fa != 2 || fb != 1 {
		t.Errorf("fetches a=%d b=%d, want 2 and 1 with a cache of one chain", fa, fb)
	}
}

func TestVerifierRefusedChainsAreNotCached(t *testing.T) {
	t.Parallel()
	ss := testSigners(t)
	// Its own signer: other tests fetch the shared ones' chains.
	good, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Trusts good only; other's chain is fetched and refused each time,
	// and never displaces good's.
	o := good.VerifierOptions()
	o.HTTPClient = multiClient{good, ss.other}
	o.CacheSize = 1
	v := skill.NewVerifier(o)
	b := body(t, skill.TypeMessageReceived, time.Now())
	if err := v.Verify(signed(good, b), b); err != nil {
		t.Fatal(err)
	}
	before := good.ChainFetches()
	for range 3 {
		if err := v.Verify(signed(ss.other, b), b); err == nil {
			t.Fatal("request signed by an untrusted CA accepted")
		}
	}
	if err := v.Verify(signed(good, b), b); err != nil {
		t.Fatal(err)
	}
	if n := good.ChainFetches() - before; n != 0 {
		t.Errorf("trusted chain fetched %d more times after refused ones, want 0 (still cached)", n)
	}
}

func TestVerifierChecksValidityAtRequestTime(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{NotBefore: start.Add(-time.Hour), NotAfter: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	now := start
	var mu sync.Mutex
	o := s.VerifierOptions()
	o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := skill.NewVerifier(o)
	b := body(t, skill.TypeMessageReceived, start)
	if err := v.Verify(signed(s, b), b); err != nil {
		t.Fatal(err)
	}
	// Two hours later the cached chain has expired: it is fetched again
	// (the URL might hold a renewed one), found expired, and refused.
	mu.Lock()
	now = start.Add(2 * time.Hour)
	mu.Unlock()
	b = body(t, skill.TypeMessageReceived, now)
	err = v.Verify(signed(s, b), b)
	var ve *skill.VerificationError
	if !errors.As(err, &ve) || ve.Reason != skill.ReasonCertExpired {
		t.Fatalf("Verify after expiry = %v, want %q", err, skill.ReasonCertExpired)
	}
	if n := s.ChainFetches(); n != 2 {
		t.Errorf("chain fetched %d times, want 2 (once more after the cached one expired)", n)
	}
}

func TestVerifyRequestFromEmulatorSignerWithOnlyItsCA(t *testing.T) {
	t.Parallel()
	s, err := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	v := skill.NewVerifier(skill.VerifierOptions{Roots: roots, HTTPClient: s.HTTPClient()})
	b := body(t, skill.TypeMessageReceived, time.Now())
	if err := v.Verify(signed(s, b), b); err != nil {
		t.Fatalf("request signed by the emulator's signer: %v", err)
	}
}

func TestCheckCertChainURL(t *testing.T) {
	t.Parallel()
	// Amazon's examples of valid and invalid URLs.
	for _, u := range []string{
		"https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
		"https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
		"https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
		"HTTPS://s3.AMAZONAWS.com/echo.api/echo-api-cert.pem",
	} {
		if err := skill.CheckCertChainURL(u); err != nil {
			t.Errorf("CheckCertChainURL(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{
		"http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
		"https://notamazon.com/echo.api/echo-api-cert.pem",
		"https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
		"https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
		"https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
		"https://s3.amazonaws.com/echo.api/../echo-api-cert.pem",
		"",
	} {
		err := skill.CheckCertChainURL(u)
		var ve *skill.VerificationError
		if !errors.As(err, &ve) || ve.Reason != skill.ReasonBadCertURL {
			t.Errorf("CheckCertChainURL(%q) = %v, want %q", u, err, skill.ReasonBadCertURL)
		}
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	ss := testSigners(t)
	var logs logBuffer
	o := ss.good.VerifierOptions()
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	v := skill.NewVerifier(o)
	var got []byte
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		skill.WriteEmptyResponse(w)
	}))
	b := body(t, skill.TypeMessageReceived, time.Now())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, signed(ss.good, b))
	if w.Code != http.StatusOK || !bytes.Equal(got, b) {
		t.Fatalf("signed request: status %d, next got %q; want 200 and the body", w.Code, got)
	}
	if w.Body.String() != `{"version":"1.0","response":{}}` {
		t.Errorf("response %q", w.Body.String())
	}

	got = nil
	r := signed(ss.good, b)
	r.Header.Del(skill.HeaderSignature256)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || got != nil {
		t.Fatalf("SHA-1 only: status %d, next called %v; want 400 and not called", w.Code, got != nil)
	}
	if strings.Contains(w.Body.String(), "SHA-1") || strings.Contains(w.Body.String(), "Signature") {
		t.Errorf("refusal tells the caller why: %q", w.Body.String())
	}
	if !strings.Contains(logs.String(), string(skill.ReasonSHA1Only)) {
		t.Errorf("log lacks the reason: %s", logs.String())
	}

	big := bytes.Repeat([]byte("x"), skill.DefaultMaxBodyBytes+1)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, signed(ss.good, big))
	if w.Code != http.StatusBadRequest {
		t.Errorf("oversized body: status %d, want 400", w.Code)
	}
	if !strings.Contains(logs.String(), string(skill.ReasonBodyTooLarge)) {
		t.Errorf("log lacks the reason: %s", logs.String())
	}
}

func TestVerifierFetchHonoursCallerContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	ss := testSigners(t)
	o := ss.good.VerifierOptions()
	inner := o.HTTPClient
	o.HTTPClient = clientFunc(func(r *http.Request) (*http.Response, error) {
		<-release
		return inner.Do(r)
	})
	v := skill.NewVerifier(o)
	b := body(t, skill.TypeMessageReceived, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := v.Verify(signed(ss.good, b).WithContext(ctx), b)
	var ve *skill.VerificationError
	if !errors.As(err, &ve) || ve.Reason != skill.ReasonCertFetch || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context = %v, want %q wrapping context.Canceled", err, skill.ReasonCertFetch)
	}
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

var _ alexa.HTTPClient = clientFunc(nil)

func TestVerifierConcurrentUse(t *testing.T) {
	t.Parallel()
	ss := testSigners(t)
	o := ss.good.VerifierOptions()
	o.HTTPClient = multiClient{ss.good, ss.other}
	o.CacheSize = 1
	v := skill.NewVerifier(o)
	b := body(t, skill.TypeMessageReceived, time.Now())
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			s, wantOK := ss.good, true
			if i%4 == 3 {
				s, wantOK = ss.other, false
			}
			err := v.Verify(signed(s, b), b)
			if (err == nil) != wantOK {
				t.Errorf("request %d: err = %v, want accepted %v", i, err, wantOK)
			}
		})
	}
	wg.Wait()
}
