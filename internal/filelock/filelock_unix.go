//go:build unix && !aix

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// TryLock takes an exclusive flock on f without waiting, or returns
// ErrLocked. The lock belongs to the open file, so a second open of the
// same path is refused even in the same process.
func TryLock(f *os.File) (unlock func(), err error) {
	return flock(f, unix.LOCK_EX|unix.LOCK_NB)
}

// Lock takes an exclusive flock on f, waiting for it.
func Lock(f *os.File) (unlock func(), err error) {
	return flock(f, unix.LOCK_EX)
}

func flock(f *os.File, how int) (unlock func(), err error) {
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, unix.EWOULDBLOCK):
		return nil, ErrLocked
	case err != nil:
		return nil, err
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN) }, nil
}
