//go:build !unix

// Package cputime reads the CPU time the process has used, which the
// benchmarks report beside wall time: with other work on the machine, it
// varies far less.
package cputime

import "time"

// Process returns false: the process's CPU time is not read here.
func Process() (time.Duration, bool) { return 0, false }
