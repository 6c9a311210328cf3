package scim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

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

// A call waiting to retry a 503 holds no slot: with a single slot, another
// call goes through while the refused one waits out its Retry-After, which
// pauses no one else.
func TestSlotIsFreeWhileACallWaitsToRetry(t *testing.T) {
	f := &failing{n: 1, status: http.StatusServiceUnavailable, retryAfter: "1"}
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 1}, f.wrap)
	refused := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "refused")
		assert.NoError(t, err)
		refused <- time.Since(start)
	}()
	require.Eventually(t, func() bool { return len(f.times()) == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		return e.client.limits.slots.Held() == 0
	}, 500*time.Millisecond, time.Millisecond, "the refused call gave its slot back")

	start := time.Now()
	_, err := e.client.Find(ctx(t), connectors.User, "userName", "other")
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "the other call neither waited for the slot nor for the Retry-After")
	select {
	case <-refused:
		t.Fatal("the refused call ended before its Retry-After")
	default:
	}
	assert.GreaterOrEqual(t, <-refused, 950*time.Millisecond, "the refused call waited out its Retry-After")
}

// throttling answers the next requests it is told to with 429 and
// Retry-After: 1.
func throttling(refuse *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// findsAtOnce makes n queries at once and returns when all are answered.
func findsAtOnce(t *testing.T, c *Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := c.Find(ctx(t), connectors.User, "userName", "x")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

// 429s with Retry-After: 1 to many requests pause every call to the
// service for a second and lower the shared rate to a share of what the
// service was accepting; after the pause the rate climbs back.
func TestTooManyRequestsPausesAndSlowsTheService(t *testing.T) {
	var refuse atomic.Int32
	e := setup(t, sampleapp.Options{}, Config{RequestsPerSecond: 100}, throttling(&refuse))
	lim := e.client.limits.pace.limiter
	for range 10 {
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
		require.NoError(t, err)
	}
	require.Equal(t, 100.0, float64(lim.Limit()), "the configured rate")

	refuse.Store(3) // 3 of 13 answers
	done := make(chan struct{})
	go func() {
		defer close(done)
		findsAtOnce(t, e.client, 3)
	}()
	require.Eventually(t, func() bool { return lim.Limit() < 100 }, 5*time.Second, time.Millisecond, "the rate is lowered")
	// 85% of the configured rate, or of the rate the service answered at
	// when that was less.
	lowered := lim.Limit()
	assert.LessOrEqual(t, float64(lowered), 85.0)

	start := time.Now()
	_, err := e.client.Find(ctx(t), connectors.User, "userName", "other")
	require.NoError(t, err)
	assert.Greater(t, time.Since(start), 700*time.Millisecond, "another call waited for the pause")
	<-done

	// Each second after the pause adds 5% of the rate lowered from.
	time.Sleep(1100 * time.Millisecond)
	_, err = e.client.Find(ctx(t), connectors.User, "userName", "x")
	require.NoError(t, err)
	assert.Greater(t, lim.Limit(), lowered, "the rate climbs back")
	assert.Less(t, float64(lim.Limit()), 100.0)
}

// A sporadic 429 among accepted requests delays its own call by its
// Retry-After, and neither pauses nor slows the others.
func TestSporadicTooManyRequestsDelayOnlyTheirCall(t *testing.T) {
	var refuse atomic.Int32
	e := setup(t, sampleapp.Options{}, Config{RequestsPerSecond: 100}, throttling(&refuse))
	lim := e.client.limits.pace.limiter
	findsAtOnce(t, e.client, 30)

	refuse.Store(1)
	refused := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "refused")
		assert.NoError(t, err)
		refused <- time.Since(start)
	}()
	require.Eventually(t, func() bool { return refuse.Load() == 0 }, 5*time.Second, time.Millisecond, "the 429 is sent")
	time.Sleep(50 * time.Millisecond) // and taken note of
	start := time.Now()
	findsAtOnce(t, e.client, 5)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "the others went on")
	assert.Equal(t, rate.Limit(100), lim.Limit(), "at the configured rate")
	assert.Empty(t, refused, "the refused call still waits")
	assert.GreaterOrEqual(t, <-refused, 950*time.Millisecond, "the refused call waited out its Retry-After")
}

// A 429 among mostly accepted requests slows nothing down; a fifth of
// the answers 429s does, once for the requests sent before it, though
// until the rate has climbed back every 429 pauses every call; the rate
// climbs back to the configured one, and without one, to twice the rate
// the service accepted, when it is lifted.
func TestPaceLowersOnceAndClimbsBack(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := newPace()
	p.configure(200, t0)
	for i := range 40 {
		assert.False(t, p.answered(t0, t0.Add(time.Duration(i)*time.Millisecond), t0, false)) // 1,000 a second accepted
	}
	at := t0.Add(time.Second)
	pauseEnd := at.Add(time.Second)
	for i := range 9 {
		assert.False(t, p.answered(at, at.Add(time.Duration(i)*time.Millisecond), pauseEnd, true), "429 %d of %d answers", i+1, 41+i)
	}
	assert.Equal(t, rate.Limit(200), p.limiter.Limit(), "sporadic 429s leave the rate alone")
	at = at.Add(10 * time.Millisecond)
	assert.True(t, p.answered(at.Add(-time.Millisecond), at, pauseEnd, true), "10 of 50 answers are 429s: every call pauses")
	assert.Equal(t, rate.Limit(170), p.limiter.Limit(), "85% of the configured 200")
	assert.True(t, p.answered(at.Add(-time.Millisecond), at.Add(time.Millisecond), pauseEnd, true), "sent before the slowdown, and the rate is lowered: a pause")
	assert.Equal(t, rate.Limit(170), p.limiter.Limit(), "lowered once")
	p.mu.Lock()
	assert.Equal(t, 170.0, p.rate(pauseEnd.Add(-time.Millisecond)), "no climb during the pause")
	assert.Equal(t, 190.0, p.rate(pauseEnd.Add(2*time.Second)), "10 a second after the pause")
	p.mu.Unlock()

	// A request sent after the slowdown that is refused lowers it again.
	again := pauseEnd.Add(2 * time.Second)
	assert.True(t, p.answered(again.Add(-time.Millisecond), again, again, true))
	assert.Equal(t, rate.Limit(162), p.limiter.Limit(), "85% of the 190 reached")
	p.mu.Lock()
	p.set(again.Add(time.Hour))
	p.mu.Unlock()
	assert.Equal(t, rate.Limit(200), p.limiter.Limit(), "back at the configured rate")
	late := again.Add(time.Hour)
	for i := range answerWindow {
		p.answered(late, late.Add(time.Duration(i)*time.Millisecond), late, false)
	}
	late = late.Add(time.Second)
	assert.False(t, p.answered(late.Add(-time.Millisecond), late, late.Add(time.Second), true), "a 429 once the rate has climbed back pauses only its call")

	// Without a configured rate, the share is of the rate measured.
	p = newPace()
	for i := range 40 {
		p.answered(t0, t0.Add(time.Duration(i)*10*time.Millisecond), t0, false)
	}
	at = t0.Add(400 * time.Millisecond)
	for range 10 {
		p.answered(at.Add(-time.Millisecond), at, at, true)
	}
	assert.Equal(t, rate.Limit(85), p.limiter.Limit(), "85% of the 100 a second measured")
	p.mu.Lock()
	p.set(at.Add(time.Hour))
	p.mu.Unlock()
	assert.Equal(t, rate.Inf, p.limiter.Limit(), "unlimited again")
}

// The transport sends each attempt with the credentials in a header of its
// own: the caller's request, which a retry sends again, keeps its headers
// as they were.
func TestAttemptsLeaveTheCallersRequestAlone(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	lim, leave := joinLimits(t.Name(), &limitUse{concurrency: 1})
	defer leave()
	tr := &transport{base: srv.Client().Transport, timeout: time.Second, limits: lim,
		authorize: func(r *http.Request) error { r.Header.Set("Authorization", "Bearer token"); return nil }}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/Users", nil)
	require.NoError(t, err)
	req.Header["Accept"] = []string{"application/scim+json"}
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "Bearer token", got.Get("Authorization"))
	assert.Equal(t, "application/scim+json", got.Get("Accept"))
	assert.Equal(t, http.Header{"Accept": {"application/scim+json"}}, req.Header)
	assert.Equal(t, context.Background(), req.Context())
}

// joinWithin joins c's crew, or fails after a short wait.
func joinWithin(c *Client) (connectors.CrewPlace, error) {
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	return c.JoinCrew(short)
}

// The crew has as many places as the shared slots: the strictest limit of
// the clients open, whichever client a place is joined through.
func TestCrewFollowsTheSlots(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 2}, nil)
	other := open(t, Config{BaseURL: e.url + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}, MaxConcurrency: 3})
	first, err := e.client.JoinCrew(ctx(t))
	require.NoError(t, err)
	_, err = other.JoinCrew(ctx(t))
	require.NoError(t, err)
	_, err = joinWithin(other)
	require.ErrorIs(t, err, context.DeadlineExceeded, "two places, both held")

	first.Leave()
	third, err := joinWithin(other)
	require.NoError(t, err, "a place given back is taken")
	require.NoError(t, e.client.Close())
	_, err = joinWithin(other)
	require.NoError(t, err, "the stricter client closed: three places")
	assert.True(t, third.Keep())
}

// While a call waits to retry a 503, holding no slot, the crew has a
// place more, so that another goroutine pushes meanwhile. Once the call
// is answered, the crew is back to its size: the place held beyond it is
// given back at its holder's next Keep.
func TestCrewGrowsWhileACallWaitsToRetry(t *testing.T) {
	f := &failing{n: 1, status: http.StatusServiceUnavailable, retryAfter: "1"}
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 1}, f.wrap)
	waiting, err := e.client.JoinCrew(ctx(t))
	require.NoError(t, err)
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "refused")
		assert.NoError(t, err)
	}()
	require.Eventually(t, func() bool { return len(f.times()) == 1 }, 5*time.Second, time.Millisecond)
	var other connectors.CrewPlace
	require.Eventually(t, func() bool {
		other, err = joinWithin(e.client)
		return err == nil
	}, 500*time.Millisecond, time.Millisecond, "a place while the refused call waits")
	_, err = e.client.Find(ctx(t), connectors.User, "userName", "other")
	require.NoError(t, err)

	<-answered
	assert.False(t, waiting.Keep(), "two places held of one: the first to look gives its place back")
	assert.True(t, other.Keep())
	_, err = joinWithin(e.client)
	require.ErrorIs(t, err, context.DeadlineExceeded, "one place, held")
	other.Leave()
	place, err := joinWithin(e.client)
	require.NoError(t, err)
	place.Leave()
}

// A 429 asks the service's clients for fewer calls: the crew does not
// grow while a call waits it out.
func TestCrewKeepsItsSizeUnderTooManyRequests(t *testing.T) {
	var refuse atomic.Int32
	refuse.Store(1)
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 1}, throttling(&refuse))
	place, err := e.client.JoinCrew(ctx(t))
	require.NoError(t, err)
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
		assert.NoError(t, err)
	}()
	require.Eventually(t, func() bool { return refuse.Load() == 0 }, 5*time.Second, time.Millisecond, "refused once")
	_, err = joinWithin(e.client)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	<-answered
	place.Leave()
}

// stepWaits records what a call tells its caller's RetryWaits.
type stepWaits struct{ told []string }

func (s *stepWaits) Waiting() { s.told = append(s.told, "waiting") }
func (s *stepWaits) Resumed() { s.told = append(s.told, "resumed") }

// A call waiting to retry tells the RetryWaits its context carries, and
// again when the wait is over; a 429's wait tells nothing.
func TestCallTellsItsStepOfItsWait(t *testing.T) {
	f := &failing{n: 1, status: http.StatusServiceUnavailable}
	e := setup(t, sampleapp.Options{}, Config{}, f.wrap)
	step := &stepWaits{}
	_, err := e.client.Find(connectors.WithRetryWaits(ctx(t), step), connectors.User, "userName", "x")
	require.NoError(t, err)
	require.Equal(t, []string{"waiting", "resumed"}, step.told)

	var refuse atomic.Int32
	refuse.Store(1)
	throttled := setup(t, sampleapp.Options{}, Config{}, throttling(&refuse))
	step = &stepWaits{}
	_, err = throttled.client.Find(connectors.WithRetryWaits(ctx(t), step), connectors.User, "userName", "x")
	require.NoError(t, err)
	require.Empty(t, step.told)
}
