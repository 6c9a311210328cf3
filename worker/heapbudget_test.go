package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentLetsTheHeapGrowToTheBudget(t *testing.T) {
	for _, c := range []struct {
		budget, live uint64
		want         int
	}{
		{160, 40, 300},    // grows to 160
		{160, 80, 100},    // half the budget live: Go's default
		{160, 120, 100},   // more: never below the default
		{160, 10, 400},    // little live: at most five times it
		{160, 0, 400},     // nothing measured yet
		{160, 53, 201},    // rounded down, so the heap stays within
		{1 << 40, 1, 400}, // no overflow
	} {
		if got := gcPercent(c.budget<<20, c.live<<20); got != c.want {
			t.Errorf("gcPercent(%d MiB, %d MiB live) = %d, want %d", c.budget, c.live, got, c.want)
		}
	}
}

// After a collection the target follows the live heap; with GOGC set the
// operator's value stands.
func TestHeapBudgetSetsTheTargetAfterCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	keep := make([]byte, 8<<20) // a live heap of some 8 MiB
	if !keepHeapWithin(64 << 20) {
		t.Fatal("the budget was not applied")
	}
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cleanup runs after the collection
		metrics.Read(gogc)
		if p := gogc[0].Value.Uint64(); p > 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is still %d after collections with a small live heap under a 64 MiB budget", gogc[0].Value.Uint64())
		}
	}
	runtime.KeepAlive(keep)

	t.Setenv("GOGC", "150")
	if keepHeapWithin(64 << 20) {
		t.Error("the budget was applied though GOGC is set")
	}
	if keepHeapWithin(0) {
		t.Error("a budget of 0 was applied")
	}
}
