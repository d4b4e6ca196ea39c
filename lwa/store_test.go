package lwa_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"tokens.json", "tokens.json.lock"}; !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v (no temporary files left)", names, want)
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

// Stores of several processes on one file (here, stores opened apart,
// each with its own lock file handle) keep every change: concurrent Saves
// of different users all land, and each store loads what the others
// saved, a rotated refresh token included.
func TestFileStoreShared(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.json")
	ctx := context.Background()
	const stores, users = 4, 10
	var all []*lwa.FileStore
	for range stores {
		s, err := lwa.NewFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		all = append(all, s)
	}
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Go(func() {
			for u := range users {
				user := fmt.Sprintf("amzn1.ask.account.S%dU%d", i, u)
				if err := s.Save(ctx, user, &lwa.UserToken{AccessToken: "a-" + user, RefreshToken: "r-" + user}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range stores {
		for u := range users {
			user := fmt.Sprintf("amzn1.ask.account.S%dU%d", i, u)
			got, err := all[(i+1)%stores].Load(ctx, user)
			if err != nil || got.RefreshToken != "r-"+user {
				t.Fatalf("store %d loads %s: %+v, %v; want what store %d saved", (i+1)%stores, user, got, err, i)
			}
		}
	}
	// A refresh token rotated by one store is the one the others load.
	user := "amzn1.ask.account.S0U0"
	if err := all[0].Save(ctx, user, &lwa.UserToken{AccessToken: "a2", RefreshToken: "r2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := all[3].Load(ctx, user); err != nil || got.RefreshToken != "r2" {
		t.Errorf("after a rotation elsewhere: %+v, %v; want r2", got, err)
	}
	if err := all[2].Delete(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := all[1].Load(ctx, user); !errors.Is(err, lwa.ErrNoUserToken) {
		t.Errorf("after a Delete elsewhere: %v, want ErrNoUserToken", err)
	}
}
