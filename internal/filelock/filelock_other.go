//go:build !(unix && !aix) && !windows

package filelock

import (
	"os"
	"path/filepath"
	"sync"
)

// held maps the absolute paths locked in this process to a channel whose
// one slot is the lock. This system has no advisory file lock the package
// uses, so only the holders in this process are kept apart.
var held sync.Map

func slot(f *os.File) (chan struct{}, error) {
	p, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, err
	}
	ch, _ := held.LoadOrStore(p, make(chan struct{}, 1))
	return ch.(chan struct{}), nil
}

// TryLock locks f's path in this process without waiting, or returns
// ErrLocked.
func TryLock(f *os.File) (unlock func(), err error) {
	ch, err := slot(f)
	if err != nil {
		return nil, err
	}
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	default:
		return nil, ErrLocked
	}
}

// Lock locks f's path in this process, waiting for it.
func Lock(f *os.File) (unlock func(), err error) {
	ch, err := slot(f)
	if err != nil {
		return nil, err
	}
	ch <- struct{}{}
	return func() { <-ch }, nil
}
