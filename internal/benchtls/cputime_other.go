//go:build !unix

package benchtls

import "time"

// CPUTime returns 0: this system's CPU time is not read, and the
// benchmarks' CPU figures are zero on it.
func CPUTime() time.Duration { return 0 }
