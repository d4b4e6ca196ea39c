package lwa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// MemoryStore is a TokenStore in memory: tokens are lost when the process
// ends. Its zero value is not ready; use NewMemoryStore.
type MemoryStore struct {
	mu    sync.RWMutex
	users map[string]UserToken
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{users: map[string]UserToken{}} }

// Load returns a copy of the user's tokens, or ErrNoUserToken.
func (s *MemoryStore) Load(_ context.Context, userID string) (*UserToken, error) {
	s.mu.RLock()
	t, ok := s.users[userID]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNoUserToken
	}
	return &t, nil
}

// Save stores a copy of t for the user.
func (s *MemoryStore) Save(_ context.Context, userID string, t *UserToken) error {
	s.mu.Lock()
	s.users[userID] = *t
	s.mu.Unlock()
	return nil
}

// Delete forgets the user's tokens.
func (s *MemoryStore) Delete(_ context.Context, userID string) error {
	s.mu.Lock()
	delete(s.users, userID)
	s.mu.Unlock()
	return nil
}

// FileStore is a TokenStore in one JSON file, for a skill served by one
// process: it survives restarts. Every change rewrites the file
// atomically (a temporary file in the same directory, synced, then
// renamed over it) with mode 0600, so a crash leaves either the old or the
// new file, and only the file's owner can read the tokens. Several
// processes must not share one file: use a database behind your own
// TokenStore for that.
type FileStore struct {
	path  string
	mu    sync.Mutex
	users map[string]fileToken
}

// fileFormat is the file's content. The tokens are written in full: the
// file's mode is what protects them.
type fileFormat struct {
	Version int                  `json:"version"`
	Users   map[string]fileToken `json:"users"`
}

type fileToken struct {
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken"`
	TokenType    string    `json:"tokenType,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	Expiry       time.Time `json:"expiry"`
}

const fileStoreVersion = 1

// NewFileStore opens the store at path, reading the tokens already there.
// A missing file is an empty store, created on the first Save; its
// directory must exist.
func NewFileStore(path string) (*FileStore, error) {
	s := &FileStore{path: path, users: map[string]fileToken{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		// The error of encoding/json never quotes the input, so no token
		// can end up in it.
		return nil, fmt.Errorf("lwa: token file %s: not a token file: %w", path, err)
	}
	if f.Version != fileStoreVersion {
		return nil, fmt.Errorf("lwa: token file %s: version %d, want %d", path, f.Version, fileStoreVersion)
	}
	if f.Users != nil {
		s.users = f.Users
	}
	return s, nil
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Load returns the user's tokens, or ErrNoUserToken.
func (s *FileStore) Load(_ context.Context, userID string) (*UserToken, error) {
	s.mu.Lock()
	ft, ok := s.users[userID]
	s.mu.Unlock()
	if !ok {
		return nil, ErrNoUserToken
	}
	return &UserToken{AccessToken: ft.AccessToken, RefreshToken: ft.RefreshToken, TokenType: ft.TokenType, Scope: ft.Scope, Expiry: ft.Expiry}, nil
}

// Save stores t for the user and rewrites the file. When writing fails,
// the store and the file keep their previous content.
func (s *FileStore) Save(_ context.Context, userID string, t *UserToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.users[userID]
	s.users[userID] = fileToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Scope: t.Scope, Expiry: t.Expiry}
	if err := s.write(); err != nil {
		if had {
			s.users[userID] = prev
		} else {
			delete(s.users, userID)
		}
		return err
	}
	return nil
}

// Delete forgets the user's tokens and rewrites the file.
func (s *FileStore) Delete(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.users[userID]
	if !had {
		return nil
	}
	delete(s.users, userID)
	if err := s.write(); err != nil {
		s.users[userID] = prev
		return err
	}
	return nil
}

// write replaces the file with the store's content, atomically. The
// caller holds s.mu.
func (s *FileStore) write() error {
	data, err := json.MarshalIndent(fileFormat{Version: fileStoreVersion, Users: s.users}, "", "  ")
	if err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	done = true
	// Make the rename itself durable; not every system can sync a
	// directory, and the file is in place either way.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// String describes the store without its tokens.
func (s *MemoryStore) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fmt.Sprintf("lwa.MemoryStore(%d users)", len(s.users))
}

// GoString describes the store without its tokens.
func (s *MemoryStore) GoString() string { return s.String() }

// String describes the store without its tokens.
func (s *FileStore) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("lwa.FileStore(%s, %d users)", s.path, len(s.users))
}

// GoString describes the store without its tokens.
func (s *FileStore) GoString() string { return s.String() }
