package filelock_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/alexa-oos/alexa/internal/filelock"
)

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A held lock refuses TryLock through another open of the same file, and
// makes Lock wait until it is released.
func TestLocks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.lock")
	a, b := open(t, path), open(t, path)
	unlock, err := filelock.TryLock(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := filelock.TryLock(b); !errors.Is(err, filelock.ErrLocked) {
		t.Fatalf("TryLock of a held lock: %v, want ErrLocked", err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := filelock.Lock(b)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("Lock returned while the lock was held")
	default:
	}
	unlock()
	(<-got)() // Lock returns once released
	u, err := filelock.TryLock(a)
	if err != nil {
		t.Fatalf("TryLock after both released: %v", err)
	}
	u()
}
