//go:build !unix

package storetest

import "time"

// start is when the process began, as near as the package knows.
var start = time.Now()

// cpuTime stands in for the process's CPU time where it cannot be read:
// the time since it began.
func cpuTime() time.Duration { return time.Since(start) }
