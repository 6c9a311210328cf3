package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
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

// crewOf is a target's crew of size places, which shrinks by one place at
// every shrinkEvery-th Keep (0: never) and grows back at once.
type crewOf struct {
	places      chan struct{}
	keeps       atomic.Int64
	shrinkEvery int64
}

func newCrew(size int) *crewOf { return &crewOf{places: make(chan struct{}, size)} }

func (c *crewOf) JoinCrew(ctx context.Context) (connectors.CrewPlace, error) {
	select {
	case c.places <- struct{}{}:
		return crewPlace{c}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type crewPlace struct{ c *crewOf }

func (p crewPlace) Keep() bool {
	if n := p.c.keeps.Add(1); p.c.shrinkEvery > 0 && n%p.c.shrinkEvery == 0 {
		p.Leave()
		return false
	}
	return true
}

func (p crewPlace) Leave() { <-p.c.places }

// Two push steps with many workers each run no more calls at once than
// the target's crew has places, run every item once, also when the crew
// shrinks under them, and give every place back.
func TestPoolWorksWithinTheCrew(t *testing.T) {
	for _, shrinkEvery := range []int64{0, 7} {
		crew := newCrew(3)
		crew.shrinkEvery = shrinkEvery
		var inFlight, peak atomic.Int32
		const n = 400
		var runs [2][n]atomic.Int32
		var wg sync.WaitGroup
		for step := range 2 {
			wg.Go(func() {
				Pool{Workers: 16, Crew: crew}.Run(context.Background(), n, func(i int) {
					now := inFlight.Add(1)
					for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
					}
					time.Sleep(50 * time.Microsecond)
					inFlight.Add(-1)
					runs[step][i].Add(1)
				})
			})
		}
		wg.Wait()
		require.LessOrEqual(t, peak.Load(), int32(3), "shrink every %d", shrinkEvery)
		require.Equal(t, int32(3), peak.Load(), "shrink every %d: the places are used", shrinkEvery)
		for step := range 2 {
			for i := range n {
				require.Equal(t, int32(1), runs[step][i].Load(), "shrink every %d: step %d item %d", shrinkEvery, step, i)
			}
		}
		require.Empty(t, crew.places, "shrink every %d: every place given back", shrinkEvery)
	}
}

// A pool whose workers wait for places returns once its context ends.
func TestPoolWaitingForTheCrewStopsWithItsContext(t *testing.T) {
	crew := newCrew(1)
	held, err := crew.JoinCrew(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var calls atomic.Int32
	Pool{Workers: 4, Crew: crew}.Run(ctx, 10, func(int) { calls.Add(1) })
	require.Zero(t, calls.Load())
	held.Leave()
	require.Empty(t, crew.places)
}

// As a result fills with entries of the usual size, the items in flight
// stay as many as the workers: room is kept for entries as large as the
// largest done, not for an entry of EntryLimit per item in flight, which
// left a few in flight once the result was three quarters full.
func TestBudgetKeepsItemsInFlightAsTheResultFills(t *testing.T) {
	const n, size, workers = 1000, 900, 16
	var inFlight, peak atomic.Int32
	taken := Pool{Workers: workers}.RunWithin(context.Background(), n, ResultBudget, func(i int) int {
		now := inFlight.Add(1)
		if i >= n-100 {
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		return size
	})
	require.Equal(t, n, taken)
	require.GreaterOrEqual(t, peak.Load(), int32(12), "items in flight among the last hundred")
}

// Entries that turn out larger than those before them may take a result
// past its budget, never past hardLimit.
func TestBudgetHoldsWhenEntriesGrow(t *testing.T) {
	const n = 2000
	for _, workers := range []int{8, 64} {
		var mu sync.Mutex
		total := 0
		taken := Pool{Workers: workers}.RunWithin(context.Background(), n, ResultBudget, func(i int) int {
			// The large entries take a while: the items taken meanwhile
			// are taken while only small entries were done.
			size := 500
			if i >= 1500 {
				size = EntryLimit
				time.Sleep(20 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			total += size
			return size
		})
		require.Less(t, taken, n, "workers %d", workers)
		require.LessOrEqual(t, total, hardLimit(ResultBudget), "workers %d", workers)
	}
}
