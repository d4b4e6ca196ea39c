//go:build !(unix && !aix) && !windows

package bulk

import (
	"os"
	"path/filepath"
	"sync"
)

// open holds the journals open in this process, by absolute path.
var open sync.Map

// lockFile refuses a second open of the same path in this process. This
// system has no advisory file lock the package uses, so two processes
// are not kept apart.
func lockFile(f *os.File) (unlock func(), err error) {
	p, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, err
	}
	if _, loaded := open.LoadOrStore(p, true); loaded {
		return nil, errLocked
	}
	return func() { open.Delete(p) }, nil
}
