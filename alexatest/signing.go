package alexatest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/skill"
)

// SkillSignerOptions shape the signing certificate of a SkillSigner. The
// zero value makes one that skill.Verifier accepts.
type SkillSignerOptions struct {
	// DNSNames are the signing certificate's DNS names. Default
	// skill.SigningCertSAN (echo-api.amazon.com), the name Alexa's
	// certificate carries.
	DNSNames []string
	// NotBefore and NotAfter bound the signing certificate's validity.
	// Defaults: an hour ago, and a year after NotBefore. Set them to test
	// expired or not yet valid certificates.
	NotBefore, NotAfter time.Time
}

// SkillSigner signs requests to a skill as Alexa does, with a certificate
// chain of its own: a root CA made at run time, in memory, an intermediate
// and an RSA signing certificate for echo-api.amazon.com. The chain is
// named by a URL that passes Amazon's rules
// (https://s3.amazonaws.com/echo.api/alexatest-<hash>.pem), and
// HTTPClient answers that URL locally, so that a skill.Verifier built
// with VerifierOptions verifies signed requests without any network:
//
//	signer, _ := alexatest.NewSkillSigner(alexatest.SkillSignerOptions{})
//	v := skill.NewVerifier(signer.VerifierOptions())
//	signer.Sign(req, body) // sets SignatureCertChainUrl, Signature-256 and Signature
//	err := v.Verify(req, body)
//
// Only its own CA trusts its chain: it can never pass for Alexa with
// system roots. Its methods are safe for concurrent use.
type SkillSigner struct {
	caPEM    []byte
	ca       *x509.Certificate
	leaf     *x509.Certificate
	key      *rsa.PrivateKey
	chainPEM []byte
	url      string
	fetches  atomic.Int64
}

// signingKey is one RSA key for every SkillSigner of the process: RSA key
// generation is slow, and each signer's own CA already makes its chain
// distinct.
var signingKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// NewSkillSigner makes a CA, an intermediate and a signing certificate as
// o says.
func NewSkillSigner(o SkillSignerOptions) (*SkillSigner, error) {
	now := time.Now()
	if len(o.DNSNames) == 0 {
		o.DNSNames = []string{skill.SigningCertSAN}
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = o.NotBefore.AddDate(1, 0, 0)
	}
	// The CA and intermediate outlive whatever the signing certificate
	// is given, so a test of its validity tests only its validity.
	caFrom := minTime(o.NotBefore, now).AddDate(-1, 0, 0)
	caUntil := maxTime(o.NotAfter, now).AddDate(10, 0, 0)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("alexatest: CA key: %w", err)
	}
	ca, err := makeCert(&x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"alexatest"}, CommonName: "alexatest root CA"},
		NotBefore:             caFrom,
		NotAfter:              caUntil,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	midKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("alexatest: intermediate key: %w", err)
	}
	mid, err := makeCert(&x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"alexatest"}, CommonName: "alexatest intermediate CA"},
		NotBefore:             caFrom,
		NotAfter:              caUntil,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, ca, midKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	key, err := signingKey()
	if err != nil {
		return nil, fmt.Errorf("alexatest: signing key: %w", err)
	}
	leaf, err := makeCert(&x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"alexatest"}, CommonName: o.DNSNames[0]},
		DNSNames:    o.DNSNames,
		NotBefore:   o.NotBefore,
		NotAfter:    o.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, mid, key.Public(), midKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(leaf.Raw)
	return &SkillSigner{
		caPEM:    pemCert(ca),
		ca:       ca,
		leaf:     leaf,
		key:      key,
		chainPEM: append(pemCert(leaf), pemCert(mid)...),
		url:      "https://" + skill.CertChainHost + skill.CertChainPathPrefix + "alexatest-" + hex.EncodeToString(sum[:8]) + ".pem",
	}, nil
}

func makeCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 96))
	if err != nil {
		return nil, fmt.Errorf("alexatest: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("alexatest: certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Sign sets on r the headers Alexa sets on its requests for body:
// SignatureCertChainUrl, Signature-256 and the older SHA-1 Signature.
func (s *SkillSigner) Sign(r *http.Request, body []byte) {
	r.Header.Set(skill.HeaderCertChainURL, s.url)
	r.Header.Set(skill.HeaderSignature256, s.Signature256(body))
	r.Header.Set(skill.HeaderSignatureSHA1, s.SignatureSHA1(body))
}

// Signature256 returns the Signature-256 header value for body: base64 of
// the RSA PKCS#1 v1.5 signature of its SHA-256.
func (s *SkillSigner) Signature256(body []byte) string {
	sum := sha256.Sum256(body)
	return s.sign(crypto.SHA256, sum[:])
}

// SignatureSHA1 returns the older Signature header value for body, which
// a verifier must not accept on its own.
func (s *SkillSigner) SignatureSHA1(body []byte) string {
	sum := sha1.Sum(body)
	return s.sign(crypto.SHA1, sum[:])
}

func (s *SkillSigner) sign(h crypto.Hash, digest []byte) string {
	sig, err := rsa.SignPKCS1v15(nil, s.key, h, digest)
	if err != nil {
		// Only a key or hash unfit for PKCS#1 v1.5 fails, and both are
		// fixed here.
		panic("alexatest: signing: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// CertURL returns the SignatureCertChainUrl the signer sets.
func (s *SkillSigner) CertURL() string { return s.url }

// ChainPEM returns the certificate chain served at CertURL: the signing
// certificate, then the intermediate.
func (s *SkillSigner) ChainPEM() []byte { return bytes.Clone(s.chainPEM) }

// CAPEM returns the root CA certificate in PEM, for a skill under test
// to trust (skill.VerifierOptions.Roots).
func (s *SkillSigner) CAPEM() []byte { return bytes.Clone(s.caPEM) }

// Roots returns a new pool holding only the signer's root CA.
func (s *SkillSigner) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.ca)
	return p
}

// SigningCertificate returns the signing certificate.
func (s *SkillSigner) SigningCertificate() *x509.Certificate { return s.leaf }

// HTTPClient returns a client that answers a GET of CertURL (or any URL
// that names the same file under Amazon's rules, such as with port 443)
// with the chain, and 404 to anything else, without any network.
func (s *SkillSigner) HTTPClient() alexa.HTTPClient { return chainClient{s} }

// ChainFetches reports how many times the chain was fetched through
// HTTPClient, to test a verifier's cache.
func (s *SkillSigner) ChainFetches() int { return int(s.fetches.Load()) }

// VerifierOptions returns options under which skill.NewVerifier trusts
// only this signer's CA and fetches its chain through HTTPClient.
func (s *SkillSigner) VerifierOptions() skill.VerifierOptions {
	return skill.VerifierOptions{Roots: s.Roots(), HTTPClient: s.HTTPClient()}
}

type chainClient struct{ s *SkillSigner }

func (c chainClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	resp := &http.Response{
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{},
		Request: req,
	}
	if req.Method == http.MethodGet && c.names(req) {
		c.s.fetches.Add(1)
		resp.StatusCode = http.StatusOK
		resp.Header.Set("Content-Type", "application/x-pem-file")
		resp.ContentLength = int64(len(c.s.chainPEM))
		resp.Body = io.NopCloser(bytes.NewReader(c.s.chainPEM))
	} else {
		resp.StatusCode = http.StatusNotFound
		resp.Body = io.NopCloser(strings.NewReader("not found"))
	}
	resp.Status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	return resp, nil
}

// names reports whether req asks for the signer's chain.
func (c chainClient) names(req *http.Request) bool {
	u := req.URL
	if !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), skill.CertChainHost) {
		return false
	}
	if p := u.Port(); p != "" && p != "443" {
		return false
	}
	want := c.s.url[len("https://"+skill.CertChainHost):]
	return path.Clean("/"+u.Path) == want
}
