package bulk

import "errors"

// errLocked is lockFile's error when another holder has the lock.
var errLocked = errors.New("locked")
