package lwa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alexa-oos/alexa/internal/filelock"
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

// FileStore is a TokenStore in one JSON file: it survives restarts, and
// the processes of a skill on one machine may share it. Every change
// rewrites the file atomically (a temporary file in the same directory,
// synced, then renamed over it) with mode 0600, so a crash leaves either
// the old or the new file, and only the file's owner can read the tokens.
//
// Changes are made under a lock on the file path+".lock", to the file as
// it is then: two processes saving different users at once both keep
// theirs. Load rereads the file when another process replaced it, so a
// refresh token one process saved is the one the others use next. Each
// process refreshes on its own, though (UserTokens' one refresh at a time
// holds within a process): for skills on several machines, use a
// database behind your own TokenStore.
type FileStore struct {
	path string
	lock *os.File // path+".lock", locked around each change; opened by the first
	mu   sync.Mutex
	// users is the file's content as last read or written, which info
	// identifies: a write by another process replaces the file.
	users map[string]fileToken
	info  os.FileInfo
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
// A missing file is an empty store, created on the first Save (with
// path+".lock" beside it); its directory must exist by then.
func NewFileStore(path string) (*FileStore, error) {
	s := &FileStore{path: path, users: map[string]fileToken{}}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the lock file, if a change opened it. A later change opens
// it again.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// reload reads the file again when it is not the one last read or
// written (another process replaced it); the caller holds s.mu, or is
// NewFileStore.
func (s *FileStore) reload() error {
	info, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if s.info != nil {
			// Removed since: an empty store, as a new one would be.
			s.users, s.info = map[string]fileToken{}, nil
		}
		return nil
	case err != nil:
		return fmt.Errorf("lwa: token file: %w", err)
	case s.info != nil && os.SameFile(s.info, info) && s.info.ModTime().Equal(info.ModTime()) && s.info.Size() == info.Size():
		return nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("lwa: token file: %w", err)
	}
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		// The error of encoding/json never quotes the input, so no token
		// can end up in it.
		return fmt.Errorf("lwa: token file %s: not a token file: %w", s.path, err)
	}
	if f.Version != fileStoreVersion {
		return fmt.Errorf("lwa: token file %s: version %d, want %d", s.path, f.Version, fileStoreVersion)
	}
	if f.Users == nil {
		f.Users = map[string]fileToken{}
	}
	s.users, s.info = f.Users, info
	return nil
}

// change applies f to the file's current content under the file lock and
// writes the result; when writing fails, the store keeps the content it
// read.
func (s *FileStore) change(f func(users map[string]fileToken) (changed bool)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		lock, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("lwa: token file: %w", err)
		}
		s.lock = lock
	}
	unlock, err := filelock.Lock(s.lock)
	if err != nil {
		return fmt.Errorf("lwa: token file %s: locking: %w", s.path, err)
	}
	defer unlock()
	if err := s.reload(); err != nil {
		return err
	}
	next := maps.Clone(s.users)
	if !f(next) {
		return nil
	}
	info, err := s.write(next)
	if err != nil {
		return err
	}
	s.users, s.info = next, info
	return nil
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Load returns the user's tokens, or ErrNoUserToken, from the file as it
// is now.
func (s *FileStore) Load(_ context.Context, userID string) (*UserToken, error) {
	s.mu.Lock()
	err := s.reload()
	ft, ok := s.users[userID]
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoUserToken
	}
	return &UserToken{AccessToken: ft.AccessToken, RefreshToken: ft.RefreshToken, TokenType: ft.TokenType, Scope: ft.Scope, Expiry: ft.Expiry}, nil
}

// Save stores t for the user and rewrites the file. When writing fails,
// the store and the file keep their previous content.
func (s *FileStore) Save(_ context.Context, userID string, t *UserToken) error {
	return s.change(func(users map[string]fileToken) bool {
		users[userID] = fileToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, Scope: t.Scope, Expiry: t.Expiry}
		return true
	})
}

// Delete forgets the user's tokens and rewrites the file.
func (s *FileStore) Delete(_ context.Context, userID string) error {
	return s.change(func(users map[string]fileToken) bool {
		if _, had := users[userID]; !had {
			return false
		}
		delete(users, userID)
		return true
	})
}

// write replaces the file with users, atomically, and returns the new
// file's info. The caller holds the file lock.
func (s *FileStore) write(users map[string]fileToken) (os.FileInfo, error) {
	data, err := json.MarshalIndent(fileFormat{Version: fileStoreVersion, Users: users}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	done = true
	// Make the rename itself durable; not every system can sync a
	// directory, and the file is in place either way.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	info, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("lwa: token file: %w", err)
	}
	return info, nil
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
