package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// A cycle allocates fast (every object's values, requests and log
// entries) and keeps little alive: some tens of megabytes, whatever the
// job's size. Go collects by default whenever the heap has grown by its
// live part, which for so small a live part means a collection every few
// tens of megabytes allocated, a tenth of the worker's CPU. With a heap
// budget the heap may grow to the budget between collections: after each
// one the collector's target (GOGC) is set from the heap then live, never
// below Go's default of 100, so a worker whose live heap passes half the
// budget collects as it would by default, nor above maxGCPercent, so a
// small live heap does not leave garbage piling up for long.

// maxGCPercent bounds the collector's target: the heap grows to at most
// five times its live part.
const maxGCPercent = 400

// gcPercent is the collector's target that lets a heap of live bytes grow
// to budget before the next collection.
func gcPercent(budget, live uint64) int {
	if live == 0 || budget >= live*(1+maxGCPercent/100) {
		return maxGCPercent
	}
	if budget <= 2*live {
		return 100
	}
	return int((budget - live) * 100 / live)
}

// keepHeapWithin sets the collector's target from the live heap after
// every collection, so that the heap grows to about budget bytes. It does
// nothing when budget is 0 or the operator set GOGC, which then rules.
func keepHeapWithin(budget uint64) bool {
	if budget == 0 || os.Getenv("GOGC") != "" {
		return false
	}
	t := &gcTuner{budget: budget, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.arm()
	return true
}

type gcTuner struct {
	budget  uint64
	sample  []metrics.Sample
	percent int
}

// sentinel is an object that lives until the next collection; its cleanup
// runs after it, once a collection has measured the live heap. It holds a
// pointer, so it is never one of the tiny objects the runtime packs
// together and frees late.
type sentinel struct{ _ *int }

// arm sets a cleanup to run after the next collection.
func (t *gcTuner) arm() {
	runtime.AddCleanup(&sentinel{}, func(t *gcTuner) { t.tune(); t.arm() }, t)
}

// tune sets the target for the live heap the last collection left. Only
// the cleanup goroutine calls it, one call at a time.
func (t *gcTuner) tune() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := gcPercent(t.budget, t.sample[0].Value.Uint64()); p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
}
