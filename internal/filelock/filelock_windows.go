//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// TryLock takes an exclusive lock on f without waiting, or returns
// ErrLocked. It locks one byte far past the end of f: Windows locks are
// mandatory, and the file's content must stay readable.
func TryLock(f *os.File) (unlock func(), err error) {
	return lockEx(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
}

// Lock takes an exclusive lock on f, waiting for it.
func Lock(f *os.File) (unlock func(), err error) {
	return lockEx(f, windows.LOCKFILE_EXCLUSIVE_LOCK)
}

func lockEx(f *os.File, flags uint32) (unlock func(), err error) {
	h := windows.Handle(f.Fd())
	ol := &windows.Overlapped{OffsetHigh: 0x40000000}
	err = windows.LockFileEx(h, flags, 0, 1, 0, ol)
	switch {
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return nil, ErrLocked
	case err != nil:
		return nil, err
	}
	return func() { windows.UnlockFileEx(h, 0, 1, 0, ol) }, nil
}
