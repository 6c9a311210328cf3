package places

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Places shrink as held ones are given back, grow at once, and go to
// waiters in order; a waiter whose context ends leaves the queue.
func TestResize(t *testing.T) {
	var s Limit
	s.Resize(2)
	require.NoError(t, s.Acquire(context.Background()))
	require.NoError(t, s.Acquire(context.Background()))
	s.Resize(1)
	s.Release()
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Acquire(short), context.DeadlineExceeded, "one place is held, and one is the size")

	got := make(chan int, 2)
	for i := range 2 {
		go func() {
			assert.NoError(t, s.Acquire(context.Background()))
			got <- i
		}()
		time.Sleep(10 * time.Millisecond)
	}
	s.Release()
	assert.Equal(t, 0, <-got, "the first waiter first")
	s.Resize(2)
	assert.Equal(t, 1, <-got, "a grown limit lets the next one in")
}

// Waiters' channels are reused: with contexts ending as places are
// granted, no call ever holds a place beyond the limit, and every place
// comes back.
func TestPlacesHoldUnderCancellations(t *testing.T) {
	var s Limit
	s.Resize(3)
	var holders, peak atomic.Int32
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g*7+i)%50)*time.Microsecond)
				if s.Acquire(ctx) == nil {
					n := holders.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					holders.Add(-1)
					s.Release()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int32(3))
	// A collection empties the pool: a place granted to a channel left
	// in it would be lost.
	runtime.GC()
	runtime.GC()
	for range 3 {
		short, cancel := context.WithTimeout(context.Background(), time.Second)
		require.NoError(t, s.Acquire(short), "every place came back")
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, 3, s.used)
	assert.Zero(t, s.waiters.Len())
}

// A waiter granted a place as its context ends passes the place on, and its
// channel goes back to the pool empty: the place is not lost, nor granted
// twice.
func TestPlaceGrantedAsTheContextEnds(t *testing.T) {
	var s Limit
	s.Resize(1)
	require.NoError(t, s.Acquire(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- s.Acquire(ctx) }()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.waiters.Len() == 1
	}, 5*time.Second, time.Millisecond)
	// The waiter wakes for its context, and finds the place granted once it
	// has the lock.
	s.mu.Lock()
	cancel()
	time.Sleep(20 * time.Millisecond)
	s.used--
	s.grant()
	s.mu.Unlock()
	require.ErrorIs(t, <-ended, context.Canceled)

	runtime.GC()
	runtime.GC()
	short, stop := context.WithTimeout(context.Background(), time.Second)
	defer stop()
	require.NoError(t, s.Acquire(short), "the place was passed on")
	s.mu.Lock()
	assert.Equal(t, 1, s.used)
	s.mu.Unlock()
	blocked, stop2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop2()
	require.ErrorIs(t, s.Acquire(blocked), context.DeadlineExceeded, "and granted once")
}
