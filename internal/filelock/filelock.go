// Package filelock holds advisory locks on files, kept apart by process:
// the bulk sender's journal takes one without waiting (a second job on the
// same journal is refused), lwa.FileStore waits for one around each
// change (processes sharing a token file take turns). The lock belongs
// to the open file and the system drops it when the process dies.
package filelock

import "errors"

// ErrLocked is TryLock's error when another holder has the lock.
var ErrLocked = errors.New("locked")
