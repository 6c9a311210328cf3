package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Busy work shows as CPU time where it can be read.
func TestProcessGrows(t *testing.T) {
	before, ok := Process()
	if !ok {
		if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
			t.Fatal("the process's CPU time cannot be read")
		}
		t.Skip("no CPU time on " + runtime.GOOS)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	after, _ := Process()
	if after <= before {
		t.Fatalf("CPU time went from %v to %v over 50 ms of work", before, after)
	}
}
