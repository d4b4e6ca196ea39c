package queue

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/lwa"
)

// DefaultTokenCacheFor is how long a worker reuses a token read from the
// database before reading it again; see TokenStore.
const DefaultTokenCacheFor = 5 * time.Second

// tokenFetchTimeout bounds a refresh, lock wait and token request
// included: it runs detached from the callers, as lwa.Provider's does.
const tokenFetchTimeout = 2 * time.Minute

// TokenStore is an alexa.TokenProvider that shares one LWA access token
// per scope among every worker on the database, so that a fleet makes one
// token request per scope and lifetime, not one per process.
//
// The token lives in TokenTable with its expiry, encrypted (AES-256-GCM)
// with a key derived from the skill's credentials: the table is still
// SECRET, since anyone holding the credentials and the table holds the
// token. When the stored token is missing or within the refresh margin of
// its expiry, one worker refreshes it under a PostgreSQL advisory lock
// (pg_advisory_xact_lock) through the inner provider, and the others,
// waiting on the lock, read what it stored. Invalidate (Alexa answered
// 401/403) deletes the stored token, so every worker fetches the new one;
// a worker that read the old token less than DefaultTokenCacheFor ago may
// use it once more, get 401/403 and read the new one: no extra token
// request is made.
type TokenStore struct {
	q        *Queue
	inner    alexa.TokenProvider
	prefix   string // row key prefix: token URL and client id, no secret
	aead     cipher.AEAD
	margin   time.Duration
	cacheFor time.Duration

	mu     sync.Mutex
	local  map[string]storedToken
	flight singleflight.Group
}

type storedToken struct {
	token   string
	expiry  time.Time
	fetched time.Time
	read    time.Time // when this process read it from the database
}

// NewTokenStore returns the shared token provider for cfg's credentials
// and token URL. inner fetches tokens when the stored one must be
// replaced; nil means lwa.NewProvider(cfg). cfg.RefreshMargin is the
// refresh margin (default alexa.DefaultRefreshMargin).
func (q *Queue) NewTokenStore(cfg alexa.Config, inner alexa.TokenProvider) *TokenStore {
	cfg = cfg.WithDefaults()
	if inner == nil {
		inner = lwa.NewProvider(cfg)
	}
	key := sha256.Sum256([]byte("alexa-oos queue token key v1\x00" + cfg.Credentials.Fingerprint()))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &TokenStore{
		q:        q,
		inner:    inner,
		prefix:   cfg.TokenURL + " " + cfg.Credentials.ClientID + " ",
		aead:     aead,
		margin:   cfg.RefreshMargin,
		cacheFor: DefaultTokenCacheFor,
		local:    map[string]storedToken{},
	}
}

// Token returns the shared access token for scope, refreshing it when it
// is missing or about to expire.
func (s *TokenStore) Token(ctx context.Context, scope string) (string, error) {
	if t, ok := s.cached(scope); ok {
		return t, nil
	}
	// One database round per scope and process at a time; it runs
	// detached, so that a caller giving up does not fail the others.
	ch := s.flight.DoChan(scope, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
		defer cancel()
		return s.load(fctx, scope)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("queue.TokenStore(%s): %w", scope, ctx.Err())
	}
}

// Invalidate deletes token from the store (if it is still the stored one)
// and from this process's caches, so the next Token call of any worker
// gets a new one.
func (s *TokenStore) Invalidate(scope, token string) {
	s.mu.Lock()
	if t, ok := s.local[scope]; ok && (token == "" || t.token == token) {
		delete(s.local, scope)
	}
	s.mu.Unlock()
	s.inner.Invalidate(scope, token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if token == "" {
		_, err = s.q.pool.Exec(ctx, "DELETE FROM "+s.q.tokenTable+" WHERE key = $1", s.prefix+scope)
	} else {
		sum := sha256.Sum256([]byte(token))
		_, err = s.q.pool.Exec(ctx, "DELETE FROM "+s.q.tokenTable+" WHERE key = $1 AND token_sha256 = $2", s.prefix+scope, sum[:])
	}
	if err != nil {
		s.q.logger.Warn("queue: could not delete the refused token from the store; it is refetched when it expires", "scope", scope, "error", err.Error())
	}
}

// fresh reports whether t is usable now: before its expiry by the margin,
// or by half its lifetime when that is shorter than the margin.
func (s *TokenStore) fresh(t storedToken, now time.Time) bool {
	margin := s.margin
	if life := t.expiry.Sub(t.fetched); life > 0 && life/2 < margin {
		margin = life / 2
	}
	return now.Add(margin).Before(t.expiry)
}

func (s *TokenStore) cached(scope string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.local[scope]
	now := time.Now()
	if !ok || now.Sub(t.read) > s.cacheFor || !s.fresh(t, now) {
		return "", false
	}
	return t.token, true
}

// load reads the stored token, and refreshes it under the advisory lock
// when it is missing or stale.
func (s *TokenStore) load(ctx context.Context, scope string) (string, error) {
	key := s.prefix + scope
	if t, ok, err := s.read(ctx, s.q.pool, key); err != nil {
		return "", err
	} else if ok && s.fresh(t, time.Now()) {
		return s.keep(scope, t), nil
	}
	tx, err := s.q.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("queue: token store: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(key)); err != nil {
		return "", fmt.Errorf("queue: token store: %w", err)
	}
	// Another worker may have refreshed it while this one waited.
	t, ok, err := s.read(ctx, tx, key)
	if err != nil {
		return "", err
	}
	if ok && s.fresh(t, time.Now()) {
		return s.keep(scope, t), tx.Commit(ctx)
	}
	// The inner provider may hold the stale token in its own cache.
	s.inner.Invalidate(scope, "")
	if ok {
		s.inner.Invalidate(scope, t.token)
	}
	t, err = s.fetch(ctx, scope)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	sealed := s.aead.Seal(nonce, nonce, []byte(t.token), []byte(key))
	sum := sha256.Sum256([]byte(t.token))
	if _, err := tx.Exec(ctx, `INSERT INTO `+s.q.tokenTable+` (key, sealed, token_sha256, expires_at, fetched_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO UPDATE SET sealed = EXCLUDED.sealed, token_sha256 = EXCLUDED.token_sha256, expires_at = EXCLUDED.expires_at, fetched_at = EXCLUDED.fetched_at`,
		key, sealed, sum[:], t.expiry, t.fetched); err != nil {
		return "", fmt.Errorf("queue: token store: %w", s.q.dbError(err))
	}
	// Tokens of other credentials or token URLs (an emulator's, a
	// rotated secret's) are useless a day after they expired.
	if _, err := tx.Exec(ctx, "DELETE FROM "+s.q.tokenTable+" WHERE expires_at < now() - interval '1 day'"); err != nil {
		return "", fmt.Errorf("queue: token store: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("queue: token store: %w", err)
	}
	return s.keep(scope, t), nil
}

// fetch asks the inner provider, with the token's expiry when it tells it.
func (s *TokenStore) fetch(ctx context.Context, scope string) (storedToken, error) {
	now := time.Now()
	if p, ok := s.inner.(interface {
		AccessToken(context.Context, string) (*oauth2.Token, error)
	}); ok {
		t, err := p.AccessToken(ctx, scope)
		if err != nil {
			return storedToken{}, err
		}
		exp := t.Expiry
		if exp.IsZero() {
			exp = now.Add(lwa.DefaultLifetime)
		}
		return storedToken{token: t.AccessToken, expiry: exp, fetched: now}, nil
	}
	tok, err := s.inner.Token(ctx, scope)
	if err != nil {
		return storedToken{}, err
	}
	return storedToken{token: tok, expiry: now.Add(lwa.DefaultLifetime), fetched: now}, nil
}

// read returns the stored token of key. A row that does not decrypt (the
// credentials changed) counts as missing.
func (s *TokenStore) read(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key string) (storedToken, bool, error) {
	var sealed []byte
	var t storedToken
	err := db.QueryRow(ctx, "SELECT sealed, expires_at, fetched_at FROM "+s.q.tokenTable+" WHERE key = $1", key).Scan(&sealed, &t.expiry, &t.fetched)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("queue: token store: %w", s.q.dbError(err))
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return t, false, nil
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(key))
	if err != nil {
		return t, false, nil
	}
	t.token = string(plain)
	return t, true, nil
}

func (s *TokenStore) keep(scope string, t storedToken) string {
	t.read = time.Now()
	s.mu.Lock()
	s.local[scope] = t
	s.mu.Unlock()
	return t.token
}

// lockKey maps a row key to an advisory lock id, apart from River's own
// locks by a fixed prefix in the hash.
func lockKey(key string) int64 {
	sum := sha256.Sum256(append([]byte("alexa-oos token lock\x00"), key...))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

var _ alexa.TokenProvider = (*TokenStore)(nil)
