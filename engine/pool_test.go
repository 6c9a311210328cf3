package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Items are taken in order while their entries fit: the result never
// outgrows its budget, whatever the concurrency, and the items left out
// are those after the last one taken, never started.
func TestParallelWithinCutsAtTheBudget(t *testing.T) {
	const n, size = 200, 10_000
	for _, concurrency := range []int{1, 8, 64} {
		var started [n]atomic.Bool
		var mu sync.Mutex
		total := 0
		taken := Pool{Workers: concurrency}.RunWithin(context.Background(), n, ResultBudget, func(i int) int {
			started[i].Store(true)
			time.Sleep(time.Duration(i%3) * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			total += size
			return size
		})
		require.Less(t, taken, n, "concurrency %d", concurrency)
		require.LessOrEqual(t, total, ResultBudget, "concurrency %d", concurrency)
		require.Greater(t, total+EntryLimit, ResultBudget, "concurrency %d: the batch stops only when it is nearly full", concurrency)
		require.Equal(t, taken*size, total)
		for i := range n {
			require.Equal(t, i < taken, started[i].Load(), "concurrency %d item %d", concurrency, i)
		}
	}
}

// The first item is always taken, however large, so that every batch
// makes progress; items done earlier count as they were recorded; no
// budget takes every item.
func TestParallelWithinEdges(t *testing.T) {
	sizes := []int{3 << 20, 100, 100}
	require.Equal(t, 1, Pool{Workers: 4}.RunWithin(context.Background(), len(sizes), ResultBudget, func(i int) int { return sizes[i] }))
	require.Equal(t, 3, Pool{Workers: 4}.RunWithin(context.Background(), len(sizes), 0, func(i int) int { return sizes[i] }))
	require.Equal(t, 0, Pool{Workers: 4}.RunWithin(context.Background(), 0, ResultBudget, func(int) int { return 0 }))

	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	taken := Pool{Workers: 2}.RunWithin(ctx, 100, ResultBudget, func(i int) int {
		if calls.Add(1) == 5 {
			cancel()
		}
		return 100
	})
	require.Less(t, taken, 100, "a cancelled context stops taking items")
}
