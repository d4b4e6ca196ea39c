package lwa_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/lwa"
	"github.com/google/go-cmp/cmp"
)

func TestStores(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) lwa.TokenStore{
		"memory": func(*testing.T) lwa.TokenStore { return lwa.NewMemoryStore() },
		"file": func(t *testing.T) lwa.TokenStore {
			s, err := lwa.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := mk(t)
			ctx := context.Background()
			if _, err := s.Load(ctx, userA); !errors.Is(err, lwa.ErrNoUserToken) {
				t.Fatalf("Load of an unknown user = %v, want ErrNoUserToken", err)
			}
			tok := &lwa.UserToken{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Scope: "s", Expiry: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
			if err := s.Save(ctx, userA, tok); err != nil {
				t.Fatal(err)
			}
			tok.AccessToken = "changed after Save"
			got, err := s.Load(ctx, userA)
			if err != nil {
				t.Fatal(err)
			}
			want := lwa.UserToken{AccessToken: "a", RefreshToken: "r", TokenType: "bearer", Scope: "s", Expiry: tok.Expiry}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
			got.RefreshToken = "changed after Load"
			if again, _ := s.Load(ctx, userA); again.RefreshToken != "r" {
				t.Errorf("store shares its value with callers: %q", again.RefreshToken)
			}
			if _, err := s.Load(ctx, userB); !errors.Is(err, lwa.ErrNoUserToken) {
				t.Errorf("other user: %v, want ErrNoUserToken", err)
			}
			if err := s.Delete(ctx, userA); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, userA); !errors.Is(err, lwa.ErrNoUserToken) {
				t.Errorf("after Delete: %v, want ErrNoUserToken", err)
			}
			if err := s.Delete(ctx, userA); err != nil {
				t.Errorf("deleting nothing: %v", err)
			}
		})
	}
}

func TestFileStoreSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	ctx := context.Background()
	s, err := lwa.NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Round(0)
	for _, u := range []string{userA, userB} {
		if err := s.Save(ctx, u, &lwa.UserToken{AccessToken: "a-" + u, RefreshToken: "r-" + u, Expiry: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, userB); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode %o, want 600", mode)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the token file (no temporary files left)", names)
	}

	// A new process opens the same file.
	s2, err := lwa.NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Load(ctx, userA)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "a-"+userA || got.RefreshToken != "r-"+userA || !got.Expiry.Equal(exp) {
		t.Errorf("after restart: %+v", *got)
	}
	if _, err := s2.Load(ctx, userB); !errors.Is(err, lwa.ErrNoUserToken) {
		t.Errorf("deleted user after restart: %v, want ErrNoUserToken", err)
	}
}

func TestFileStoreTightensMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"users":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := lwa.NewFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), userA, &lwa.UserToken{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode %o after a write, want 600", mode)
	}
}

func TestFileStoreRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "Atzr|SECRET not json",
		"version.json": `{"version":2,"users":{}}`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o600)
		_, err := lwa.NewFileStore(path)
		if err == nil {
			t.Errorf("%s: opened, want an error", name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error quotes the file: %v", name, err)
		}
	}
	if _, err := lwa.NewFileStore(filepath.Join(dir, "missing", "tokens.json")); err != nil {
		t.Errorf("missing file: %v, want an empty store", err)
	}
}
