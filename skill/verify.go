package skill

import (
	"bytes"
	"container/list"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexa-oos/alexa"
	"golang.org/x/sync/singleflight"
)

// Headers and values of Alexa's request signing.
const (
	// HeaderCertChainURL names the URL of the PEM certificate chain.
	HeaderCertChainURL = "SignatureCertChainUrl"
	// HeaderSignature256 holds the base64 RSA signature of the SHA-256
	// of the body.
	HeaderSignature256 = "Signature-256"
	// HeaderSignatureSHA1 holds the older SHA-1 signature, which is no
	// longer enough: a request carrying only it is refused.
	HeaderSignatureSHA1 = "Signature"
	// CertChainHost is the only host the certificate chain may come from.
	CertChainHost = "s3.amazonaws.com"
	// CertChainPathPrefix is how the normalised path of the chain URL
	// must start.
	CertChainPathPrefix = "/echo.api/"
	// SigningCertSAN must be among the DNS names of the signing
	// certificate.
	SigningCertSAN = "echo-api.amazon.com"
)

// Timestamp tolerances, as Amazon's SDKs apply them.
const (
	// MaxTimestampSkew is how far request.timestamp may be from now.
	MaxTimestampSkew = 150 * time.Second
	// MaxSkillEventDelay is how old the skill events in
	// DelayedEventTypes may be: Alexa may deliver them up to an hour late.
	MaxSkillEventDelay = time.Hour
)

// delayedEventTypes are the request types allowed MaxSkillEventDelay
// instead of MaxTimestampSkew, as in Amazon's SDKs.
// ProactiveSubscriptionChanged is not one of them.
var delayedEventTypes = []string{
	TypeSkillEnabled,
	TypeSkillDisabled,
	TypeSkillPermissionChanged,
	TypeSkillPermissionAccepted,
	TypeSkillAccountLinked,
}

// DelayedEventTypes returns the request types whose timestamp may be up to
// MaxSkillEventDelay old.
func DelayedEventTypes() []string { return slices.Clone(delayedEventTypes) }

// Defaults of VerifierOptions.
const (
	DefaultCacheSize     = 32
	DefaultMaxChainBytes = 64 << 10
	DefaultFetchTimeout  = 10 * time.Second
)

// VerifierOptions configure a Verifier. The zero value verifies requests
// from Alexa as Amazon requires: system roots, the default HTTP client of
// this module, the clock.
type VerifierOptions struct {
	// Roots are the trusted root certificates. Nil means the system's.
	Roots *x509.CertPool
	// HTTPClient fetches certificate chains. Default: the default client
	// of this module (timeouts, proxy from the environment).
	HTTPClient alexa.HTTPClient
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a debug line per chain fetched and, from
	// Middleware, a warning per refused request with its reason. Nil logs
	// nothing.
	Logger *slog.Logger
	// ApplicationIDs, when set, are the only skill ids accepted
	// (context.System.application.applicationId, or
	// session.application.applicationId); others are refused with
	// ReasonApplicationID.
	ApplicationIDs []string
	// TimestampTolerance is how far request.timestamp may be from now.
	// Default, and maximum, MaxTimestampSkew.
	TimestampTolerance time.Duration
	// CacheSize bounds how many certificate chains are kept, by URL.
	// Default DefaultCacheSize.
	CacheSize int
	// MaxChainBytes bounds a fetched chain. Default DefaultMaxChainBytes.
	MaxChainBytes int64
	// FetchTimeout bounds one chain fetch. Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxBodyBytes bounds the body Middleware reads. Default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Reason says why a request was refused.
type Reason string

// Reasons of a VerificationError.
const (
	ReasonMissingCertURL   Reason = "missing SignatureCertChainUrl header"
	ReasonBadCertURL       Reason = "SignatureCertChainUrl not allowed"
	ReasonCertFetch        Reason = "certificate chain could not be fetched"
	ReasonBadCertChain     Reason = "certificate chain unreadable"
	ReasonCertExpired      Reason = "certificate expired"
	ReasonCertNotYetValid  Reason = "certificate not yet valid"
	ReasonUntrustedChain   Reason = "certificate chain not trusted"
	ReasonMissingSAN       Reason = "signing certificate not issued to " + SigningCertSAN
	ReasonMissingSignature Reason = "missing Signature-256 header"
	ReasonSHA1Only         Reason = "only the SHA-1 Signature header, Signature-256 required"
	ReasonBadSignature     Reason = "signature does not match the body"
	ReasonBadBody          Reason = "body is not an Alexa request"
	ReasonTimestamp        Reason = "timestamp out of tolerance"
	ReasonApplicationID    Reason = "applicationId not allowed"
	ReasonBodyTooLarge     Reason = "body too large"
	ReasonBodyUnreadable   Reason = "body could not be read"
)

// VerificationError is a request refused by a Verifier. Its text is for
// the skill's logs; answer the caller 400 with no detail.
type VerificationError struct {
	// Reason says which rule the request broke.
	Reason Reason
	// Detail adds the offending value or the cause, never a secret.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

// Error gives the reason and detail, for logs.
func (e *VerificationError) Error() string {
	s := "skill: request refused: " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Err.
func (e *VerificationError) Unwrap() error { return e.Err }

func refuse(r Reason, err error, format string, args ...any) *VerificationError {
	return &VerificationError{Reason: r, Detail: fmt.Sprintf(format, args...), Err: err}
}

// Verifier checks that requests come from Alexa, as Amazon requires of a
// skill hosted as a web service: the certificate chain URL, the chain
// (valid now, trusted, issued to echo-api.amazon.com), the SHA-256
// signature of the body and the timestamp. It is safe for concurrent use
// and caches certificate chains by URL.
type Verifier struct {
	o      VerifierOptions
	mu     sync.Mutex
	lru    *list.List // of *chainEntry, most recently used first
	byURL  map[string]*list.Element
	flight singleflight.Group
}

// chainEntry is a fetched chain and, once verified, the window in which
// that verification holds.
type chainEntry struct {
	url           string
	leaf          *x509.Certificate
	intermediates *x509.CertPool
	// verified from..until: every certificate of the verified chain is
	// valid in this window, so it need not be verified again inside it.
	from, until time.Time
}

// NewVerifier returns a Verifier with o's options.
func NewVerifier(o VerifierOptions) *Verifier {
	if o.HTTPClient == nil {
		o.HTTPClient = alexa.Config{}.WithDefaults().HTTPClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TimestampTolerance <= 0 || o.TimestampTolerance > MaxTimestampSkew {
		o.TimestampTolerance = MaxTimestampSkew
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MaxChainBytes <= 0 {
		o.MaxChainBytes = DefaultMaxChainBytes
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	o.ApplicationIDs = slices.Clone(o.ApplicationIDs)
	return &Verifier{o: o, lru: list.New(), byURL: map[string]*list.Element{}}
}

// Verify checks that r, whose raw body is body, was sent by Alexa. It
// reads r's headers and context only (r must not be nil); the body is
// given separately because it must be the exact bytes received. The
// chain is fetched with r's context, at most once per URL at a time, and
// cached. An error is a *VerificationError.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	certURL := r.Header.Get(HeaderCertChainURL)
	if certURL == "" {
		return refuse(ReasonMissingCertURL, nil, "")
	}
	sig64 := r.Header.Get(HeaderSignature256)
	if sig64 == "" {
		if r.Header.Get(HeaderSignatureSHA1) != "" {
			return refuse(ReasonSHA1Only, nil, "")
		}
		return refuse(ReasonMissingSignature, nil, "")
	}
	if err := CheckCertChainURL(certURL); err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig64))
	if err != nil {
		return refuse(ReasonBadSignature, err, "Signature-256 is not base64")
	}
	now := v.o.Now()
	leaf, err := v.chain(r.Context(), certURL, now)
	if err != nil {
		return err
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return refuse(ReasonBadSignature, nil, "signing certificate key is %T, not RSA", leaf.PublicKey)
	}
	digest := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return refuse(ReasonBadSignature, err, "")
	}
	return v.checkBody(body, now)
}

// checkBody checks the timestamp and the application id of a request whose
// signature holds.
func (v *Verifier) checkBody(body []byte, now time.Time) error {
	var b struct {
		Session *struct {
			Application Application `json:"application"`
		} `json:"session"`
		Context Context `json:"context"`
		Request *head   `json:"request"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return refuse(ReasonBadBody, err, "%v", err)
	}
	if b.Request == nil {
		return refuse(ReasonBadBody, nil, "no request object")
	}
	ts, err := parseTimestamp(b.Request.Timestamp)
	if err != nil {
		return refuse(ReasonBadBody, err, "request.timestamp %v", err)
	}
	tolerance := v.o.TimestampTolerance
	if slices.Contains(delayedEventTypes, b.Request.Type) {
		tolerance = MaxSkillEventDelay
	}
	if d := now.Sub(ts).Abs(); d > tolerance {
		return refuse(ReasonTimestamp, nil, "request.timestamp %s is %s from now (%s), more than %s for %s",
			ts.Format(time.RFC3339Nano), d.Round(time.Second), now.UTC().Format(time.RFC3339), tolerance, truncate(b.Request.Type, 80))
	}
	if len(v.o.ApplicationIDs) > 0 {
		id := b.Context.System.Application.ApplicationID
		if id == "" && b.Session != nil {
			id = b.Session.Application.ApplicationID
		}
		if !slices.Contains(v.o.ApplicationIDs, id) {
			return refuse(ReasonApplicationID, nil, "%q", truncate(id, 120))
		}
	}
	return nil
}

// CheckCertChainURL checks a SignatureCertChainUrl as Amazon requires: the
// scheme https and the host s3.amazonaws.com (both case-insensitive), port
// 443 if one is given, and the path, once normalised, starting with
// /echo.api/ (case-sensitive). An error is a *VerificationError with
// ReasonBadCertURL.
func CheckCertChainURL(raw string) error {
	bad := func(format string, args ...any) error {
		return refuse(ReasonBadCertURL, nil, "%q: "+format, append([]any{truncate(raw, 200)}, args...)...)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return bad("scheme must be https")
	}
	if u.User != nil {
		return bad("must not carry user information")
	}
	if !strings.EqualFold(u.Hostname(), CertChainHost) {
		return bad("host must be %s", CertChainHost)
	}
	if p := u.Port(); p != "" && p != "443" {
		return bad("port must be 443")
	}
	// Normalise "." and ".." as a server would, so /echo.api/../x fails
	// and /echo.api/../echo.api/x passes.
	if clean := path.Clean("/" + u.Path); !strings.HasPrefix(clean, CertChainPathPrefix) {
		return bad("path must start with %s", CertChainPathPrefix)
	}
	return nil
}

// chain returns the verified signing certificate of the chain at certURL,
// from the cache while the cached verification holds at now.
func (v *Verifier) chain(ctx context.Context, certURL string, now time.Time) (*x509.Certificate, error) {
	if e := v.cached(certURL); e != nil {
		if e.holdsAt(now) {
			return e.leaf, nil
		}
		// A certificate of the chain expired (or the clock moved back):
		// fetch again, as the URL may hold a renewed chain.
		v.forget(certURL)
	}
	// One fetch per URL at a time, detached from the callers' contexts so
	// that a caller giving up does not fail the others.
	ch := v.flight.DoChan(certURL, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.o.FetchTimeout)
		defer cancel()
		return v.fetch(fctx, certURL)
	})
	var fetched *chainEntry
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		fetched = res.Val.(*chainEntry)
	case <-ctx.Done():
		return nil, refuse(ReasonCertFetch, ctx.Err(), "%v", ctx.Err())
	}
	// Each caller verifies at its own time, on its own copy.
	e := *fetched
	if err := v.verifyChain(&e, now); err != nil {
		return nil, err
	}
	// Only verified chains are cached, so requests naming other URLs
	// cannot push Alexa's chain out of the cache.
	v.store(&e)
	return e.leaf, nil
}

func (e *chainEntry) holdsAt(now time.Time) bool {
	return !e.from.IsZero() && !now.Before(e.from) && !now.After(e.until)
}

// verifyChain checks e's chain at now and records in e the window in which
// the verification holds.
func (v *Verifier) verifyChain(e *chainEntry, now time.Time) error {
	leaf := e.leaf
	if now.Before(leaf.NotBefore) {
		return refuse(ReasonCertNotYetValid, nil, "signing certificate valid from %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return refuse(ReasonCertExpired, nil, "signing certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if !slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return strings.EqualFold(n, SigningCertSAN) }) {
		return refuse(ReasonMissingSAN, nil, "DNS names %q", leaf.DNSNames)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.o.Roots,
		Intermediates: e.intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var ie x509.CertificateInvalidError
		if errors.As(err, &ie) && ie.Reason == x509.Expired {
			return refuse(ReasonCertExpired, err, "%v", err)
		}
		return refuse(ReasonUntrustedChain, err, "%v", err)
	}
	e.from, e.until = leaf.NotBefore, leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotBefore.After(e.from) {
			e.from = c.NotBefore
		}
		if c.NotAfter.Before(e.until) {
			e.until = c.NotAfter
		}
	}
	return nil
}

// fetch gets and parses the chain at certURL. The leaf comes first, as
// Amazon serves it.
func (v *Verifier) fetch(ctx context.Context, certURL string) (*chainEntry, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, refuse(ReasonBadCertURL, err, "%q", truncate(certURL, 200))
	}
	resp, err := v.o.HTTPClient.Do(req)
	if err != nil {
		return nil, refuse(ReasonCertFetch, err, "%v", err)
	}
	defer resp.Body.Close()
	v.o.Logger.LogAttrs(ctx, slog.LevelDebug, "skill: certificate chain fetched",
		slog.String("url", certURL), slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))
	if resp.StatusCode != http.StatusOK {
		return nil, refuse(ReasonCertFetch, nil, "GET %s: HTTP %d", certURL, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, v.o.MaxChainBytes+1))
	if err != nil {
		return nil, refuse(ReasonCertFetch, err, "GET %s: %v", certURL, err)
	}
	if int64(len(data)) > v.o.MaxChainBytes {
		return nil, refuse(ReasonBadCertChain, nil, "GET %s: more than %d bytes", certURL, v.o.MaxChainBytes)
	}
	certs, err := parseChain(data)
	if err != nil {
		return nil, refuse(ReasonBadCertChain, err, "GET %s: %v", certURL, err)
	}
	e := &chainEntry{url: certURL, leaf: certs[0], intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		e.intermediates.AddCert(c)
	}
	return e, nil
}

func parseChain(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := bytes.TrimSpace(data); len(rest) > 0; rest = bytes.TrimSpace(rest) {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("not PEM")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	return certs, nil
}

func (v *Verifier) cached(certURL string) *chainEntry {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.byURL[certURL]
	if !ok {
		return nil
	}
	v.lru.MoveToFront(el)
	return el.Value.(*chainEntry)
}

func (v *Verifier) store(e *chainEntry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.byURL[e.url]; ok {
		el.Value = e
		v.lru.MoveToFront(el)
		return
	}
	v.byURL[e.url] = v.lru.PushFront(e)
	for v.lru.Len() > v.o.CacheSize {
		old := v.lru.Remove(v.lru.Back()).(*chainEntry)
		delete(v.byURL, old.url)
	}
}

func (v *Verifier) forget(certURL string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.byURL[certURL]; ok {
		v.lru.Remove(el)
		delete(v.byURL, certURL)
	}
}
