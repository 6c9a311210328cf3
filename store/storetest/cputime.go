package storetest

import (
	"time"

	"github.com/openprovisioning/provisioner/internal/cputime"
)

// start is when the process began, as near as the package knows.
var start = time.Now()

// cpuTime is the CPU time the process has used, or, where it cannot be
// read, the time since it began.
func cpuTime() time.Duration {
	if d, ok := cputime.Process(); ok {
		return d
	}
	return time.Since(start)
}
