package alexatest_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/skill"
)

func newSigner(t *testing.T, o alexatest.SkillSignerOptions) *alexatest.SkillSigner {
	t.Helper()
	s, err := alexatest.NewSkillSigner(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func skillRequest(t *testing.T) []byte {
	t.Helper()
	b, err := skill.Encode(skill.Context{System: skill.System{User: skill.User{UserID: "amzn1.ask.account.X"}}},
		&skill.MessageReceived{Common: skill.Common{RequestID: "r", Timestamp: time.Now()}, Message: []byte(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSkillSignerRequestVerifiesWithOnlyItsCA(t *testing.T) {
	t.Parallel()
	s := newSigner(t, alexatest.SkillSignerOptions{})
	body := skillRequest(t)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	s.Sign(r, body)
	if err := skill.CheckCertChainURL(r.Header.Get(skill.HeaderCertChainURL)); err != nil {
		t.Errorf("the signer's chain URL breaks Amazon's rules: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	if err := skill.NewVerifier(skill.VerifierOptions{Roots: roots, HTTPClient: s.HTTPClient()}).Verify(r, body); err != nil {
		t.Fatalf("signed request refused: %v", err)
	}
	if err := skill.NewVerifier(s.VerifierOptions()).Verify(r, body); err != nil {
		t.Fatalf("signed request refused with VerifierOptions: %v", err)
	}
	// Another signer's CA does not trust it.
	other := newSigner(t, alexatest.SkillSignerOptions{})
	err := skill.NewVerifier(skill.VerifierOptions{Roots: other.Roots(), HTTPClient: s.HTTPClient()}).Verify(r, body)
	var ve *skill.VerificationError
	if !errors.As(err, &ve) || ve.Reason != skill.ReasonUntrustedChain {
		t.Errorf("verified with another CA: %v, want %q", err, skill.ReasonUntrustedChain)
	}
}

func TestSkillSignerChain(t *testing.T) {
	t.Parallel()
	s := newSigner(t, alexatest.SkillSignerOptions{})
	var certs []*x509.Certificate
	rest := s.ChainPEM()
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 2 || certs[0].DNSNames[0] != skill.SigningCertSAN || !certs[1].IsCA {
		t.Fatalf("chain: %d certificates, leaf names %v", len(certs), certs[0].DNSNames)
	}
	if !strings.HasPrefix(s.CertURL(), "https://s3.amazonaws.com/echo.api/alexatest-") {
		t.Errorf("CertURL %q", s.CertURL())
	}

	c := s.HTTPClient()
	get := func(u string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	file := strings.TrimPrefix(s.CertURL(), "https://s3.amazonaws.com/echo.api/")
	for _, u := range []string{s.CertURL(), "https://S3.amazonaws.com:443/echo.api/../echo.api/" + file} {
		if code, b := get(u); code != 200 || !bytes.Equal(b, s.ChainPEM()) {
			t.Errorf("GET %s: %d", u, code)
		}
	}
	for _, u := range []string{"https://s3.amazonaws.com/echo.api/other.pem", "https://example.com/echo.api/" + file, "http://s3.amazonaws.com/echo.api/" + file} {
		if code, _ := get(u); code != 404 {
			t.Errorf("GET %s: %d, want 404", u, code)
		}
	}
	if n := s.ChainFetches(); n != 2 {
		t.Errorf("ChainFetches = %d, want 2", n)
	}
}

func TestSkillSignerOptions(t *testing.T) {
	t.Parallel()
	nb, na := time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	s := newSigner(t, alexatest.SkillSignerOptions{DNSNames: []string{"x.example"}, NotBefore: nb, NotAfter: na})
	leaf := s.SigningCertificate()
	if leaf.DNSNames[0] != "x.example" || !leaf.NotBefore.Equal(nb.Truncate(time.Second)) || !leaf.NotAfter.Equal(na.Truncate(time.Second)) {
		t.Errorf("leaf %v %v %v", leaf.DNSNames, leaf.NotBefore, leaf.NotAfter)
	}
}
