//go:build unix

// Package cputime reads the CPU time the process has used, which the
// benchmarks report beside wall time: with other work on the machine, it
// varies far less.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time (user and system) the process has used,
// and false where it cannot be read.
func Process() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
