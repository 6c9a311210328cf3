package scim

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

// peakInFlight wraps a service so that each request takes a while, and
// reports the most requests it saw in flight at once (and forgets it).
func peakInFlight() (func(http.Handler) http.Handler, func() int32) {
	var inFlight, peak atomic.Int32
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			next.ServeHTTP(w, r)
		})
	}
	return wrap, func() int32 { return peak.Swap(0) }
}

// finds makes n queries through each client at once.
func finds(t *testing.T, n int, clients ...*Client) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range clients {
		for range n {
			wg.Go(func() {
				_, err := c.Find(ctx(t), connectors.User, "userName", "x")
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
}

// Clients of one service and identity, as two jobs of a worker open them,
// share one concurrency limit; the strictest configured one holds while
// its client is open.
func TestClientsShareLimits(t *testing.T) {
	wrap, peak := peakInFlight()
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 2}, wrap)
	other := open(t, Config{BaseURL: e.url + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}, MaxConcurrency: 4})
	finds(t, 12, e.client, other)
	assert.Equal(t, int32(2), peak(), "one limit for both clients, the stricter")

	// Once the stricter client is closed, the other's limit holds.
	require.NoError(t, e.client.Close())
	finds(t, 16, other)
	assert.Equal(t, int32(4), peak())
}

// Another identity on the same service has limits of its own.
func TestLimitsAreByIdentity(t *testing.T) {
	wrap, peak := peakInFlight()
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 2}, wrap)
	t.Setenv("SCIM_TEST_PASSWORD", "pw")
	basic := open(t, Config{BaseURL: e.url + "/scim/v2", Basic: &BasicAuth{Username: "svc", Password: secrets.Ref{Env: "SCIM_TEST_PASSWORD"}}, MaxConcurrency: 2})
	// The application accepts only the token, so the basic client's calls
	// fail; they are in flight all the same.
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() { _, _ = basic.Find(ctx(t), connectors.User, "userName", "x") })
		wg.Go(func() { _, _ = e.client.Find(ctx(t), connectors.User, "userName", "x") })
	}
	wg.Wait()
	assert.Equal(t, int32(4), peak())
}

// Slots shrink as held ones are given back, grow at once, and go to
// waiters in order; a waiter whose context ends leaves the queue.
func TestSlotsResize(t *testing.T) {
	var s slots
	s.resize(2)
	require.NoError(t, s.acquire(context.Background()))
	require.NoError(t, s.acquire(context.Background()))
	s.resize(1)
	s.release()
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.acquire(short), context.DeadlineExceeded, "one slot is held, and one is the size")

	got := make(chan int, 2)
	for i := range 2 {
		go func() {
			assert.NoError(t, s.acquire(context.Background()))
			got <- i
		}()
		time.Sleep(10 * time.Millisecond)
	}
	s.release()
	assert.Equal(t, 0, <-got, "the first waiter first")
	s.resize(2)
	assert.Equal(t, 1, <-got, "a grown limit lets the next one in")
}
