package scim

import (
	"context"
	"net"
	"net/http"
	"strings"
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

// failing answers the first n requests with status (and Retry-After, when
// set), then passes requests on. It records when each request arrived.
type failing struct {
	n          int
	status     int
	retryAfter string
	mu         sync.Mutex
	arrivals   []time.Time
}

func (f *failing) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.arrivals = append(f.arrivals, time.Now())
		fail := len(f.arrivals) <= f.n
		f.mu.Unlock()
		if !fail {
			next.ServeHTTP(w, r)
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"slow down","status":"` + http.StatusText(f.status) + `"}`))
	})
}

func (f *failing) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.arrivals...)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := &failing{n: 2, status: http.StatusTooManyRequests, retryAfter: "1"}
	e := setup(t, sampleapp.Options{}, Config{}, f.wrap)
	start := time.Now()
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "patient"})
	require.NoError(t, err)
	arrivals := f.times()
	require.Len(t, arrivals, 3)
	assert.GreaterOrEqual(t, arrivals[1].Sub(arrivals[0]), 950*time.Millisecond)
	assert.GreaterOrEqual(t, arrivals[2].Sub(arrivals[1]), 950*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 1900*time.Millisecond)
	assert.Len(t, e.app.Users(), 1)
}

func TestRetryAfterHoldsTheWholeClient(t *testing.T) {
	f := &failing{n: 1, status: http.StatusTooManyRequests, retryAfter: "1"}
	e := setup(t, sampleapp.Options{}, Config{}, f.wrap)
	x := ctx(t)
	_, err := e.client.Get(x, connectors.User, "first") // throttled once, then 404
	assert.Equal(t, connectors.KindNotFound, connectors.KindOf(err))
	// The gate is open again: a second call goes straight through.
	start := time.Now()
	_, err = e.client.Find(x, connectors.User, "userName", "x")
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 500*time.Millisecond)

	// While one call waits out a Retry-After, another waits too.
	f2 := &failing{n: 1, status: http.StatusTooManyRequests, retryAfter: "1"}
	e = setup(t, sampleapp.Options{}, Config{}, f2.wrap)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = e.client.Find(x, connectors.User, "userName", "a")
	}()
	require.Eventually(t, func() bool {
		e.client.limits.gate.mu.Lock()
		defer e.client.limits.gate.mu.Unlock()
		return !e.client.limits.gate.until.IsZero()
	}, 5*time.Second, time.Millisecond, "the throttled call pauses the client")
	start = time.Now()
	_, err = e.client.Find(x, connectors.User, "userName", "b")
	require.NoError(t, err)
	assert.Greater(t, time.Since(start), 500*time.Millisecond)
	<-done
}

func TestServerErrorsAreRetried(t *testing.T) {
	f := &failing{n: 2, status: http.StatusServiceUnavailable}
	e := setup(t, sampleapp.Options{}, Config{}, f.wrap)
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "eventually"})
	require.NoError(t, err)
	assert.Len(t, f.times(), 3)

	f = &failing{n: 100, status: http.StatusInternalServerError}
	e = setup(t, sampleapp.Options{}, Config{MaxRetries: 2}, f.wrap)
	_, err = e.client.Get(ctx(t), connectors.User, "x")
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindServerError, ce.Kind)
	assert.Equal(t, http.StatusInternalServerError, ce.Status)
	assert.Equal(t, "slow down", ce.Detail)
	assert.Len(t, f.times(), 3, "one attempt and two retries")

	f = &failing{n: 100, status: http.StatusTooManyRequests, retryAfter: "0"}
	e = setup(t, sampleapp.Options{}, Config{MaxRetries: 1}, f.wrap)
	_, err = e.client.Get(ctx(t), connectors.User, "x")
	assert.Equal(t, connectors.KindTooManyRequests, connectorError(t, err).Kind)
	assert.Len(t, f.times(), 2)
}

func TestFaultyServiceConverges(t *testing.T) {
	e := setup(t, sampleapp.Options{FaultRate: 0.3, FaultSeed: 3}, Config{MaxRetries: 8}, nil)
	for i := range 50 {
		_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "u" + strings.Repeat("x", i)})
		require.NoError(t, err)
	}
	st := e.app.Stats()
	assert.Equal(t, 50, st.Users)
	assert.Positive(t, st.Faults)
}

func TestUnauthorizedIsNotRetried(t *testing.T) {
	e := setup(t, sampleapp.Options{Token: "another-token"}, Config{}, nil)
	_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindUnauthorized, ce.Kind)
	assert.Equal(t, http.StatusUnauthorized, ce.Status)
	assert.Len(t, e.rec.take(""), 1)
	assert.NotContains(t, err.Error(), testToken)
}

func TestSecretsNeverInErrors(t *testing.T) {
	// A careless service echoes the Authorization header in its error.
	echo := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"detail":"bad header ` + r.Header.Get("Authorization") + `"}`))
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, echo)
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "x"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
	assert.Contains(t, err.Error(), "[REDACTED]")

	// Basic credentials, in the clear or encoded, are redacted too.
	t.Setenv("SCIM_TEST_PASSWORD", "pa55-w0rd-secret")
	basic := open(t, Config{BaseURL: e.url + "/scim/v2", Basic: &BasicAuth{Username: "svc", Password: secrets.Ref{Env: "SCIM_TEST_PASSWORD"}}})
	_, err = basic.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "x"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pa55-w0rd-secret")
	assert.NotContains(t, err.Error(), "c3ZjOnBhNTUtdzByZC1zZWNyZXQ")
	assert.Contains(t, err.Error(), "[REDACTED]")

	// Configuration errors name the secret's place, not its value.
	t.Setenv("SCIM_EMPTY", "")
	_, err = Config{BaseURL: "https://x.example/scim", Token: secrets.Ref{Env: "SCIM_EMPTY"}}.Open(context.Background(), nil)
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindUnauthorized, ce.Kind)
	assert.Equal(t, "token: environment variable SCIM_EMPTY is not set", ce.Detail)
}

func TestTransportFailures(t *testing.T) {
	// Nothing listens on a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	t.Setenv("SCIM_TEST_TOKEN", testToken)
	c := open(t, Config{BaseURL: "http://" + addr + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}, MaxRetries: 1})
	_, err = c.Get(ctx(t), connectors.User, "x")
	assert.Equal(t, connectors.KindUnavailable, connectorError(t, err).Kind)

	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		})
	}
	e := setup(t, sampleapp.Options{}, Config{Timeout: Duration(100 * time.Millisecond), MaxRetries: 1}, slow)
	start := time.Now()
	_, err = e.client.Get(ctx(t), connectors.User, "x")
	assert.Equal(t, connectors.KindTimeout, connectorError(t, err).Kind)
	assert.Less(t, time.Since(start), 1500*time.Millisecond)
	assert.Len(t, e.rec.take(""), 2, "a time-out is retried")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.client.Get(cancelled, connectors.User, "x")
	assert.Equal(t, connectors.KindTimeout, connectorError(t, err).Kind)
}

func TestConcurrencyAndRateLimits(t *testing.T) {
	var inFlight, peak atomic.Int32
	counting := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{MaxConcurrency: 3, RequestsPerSecond: 100}, counting)
	var wg sync.WaitGroup
	start := time.Now()
	for range 30 {
		wg.Go(func() {
			_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Equal(t, int32(3), peak.Load(), "the limit is used")
	// 30 requests at 100 per second with a burst of 100 are not rate bound,
	// but 3 at a time for 20 ms each take at least 200 ms.
	assert.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond)

	e = setup(t, sampleapp.Options{}, Config{RequestsPerSecond: 20}, nil)
	start = time.Now()
	for range 30 {
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
		require.NoError(t, err)
	}
	// A burst of 20, then 10 more at 20 per second.
	assert.GreaterOrEqual(t, time.Since(start), 450*time.Millisecond)
}

func TestBackoff(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"120"}}}
	assert.Equal(t, 30*time.Second, backoff(time.Second, 30*time.Second, 0, resp, false), "capped at the maximum wait")
	for attempt := range 10 {
		d := backoff(100*time.Millisecond, 5*time.Second, attempt, nil, false)
		assert.LessOrEqual(t, d, 5*time.Second)
		assert.GreaterOrEqual(t, d, 75*time.Millisecond)
	}
}

// After a 5xx or a lost answer, a call to a service that answers most
// calls tries again after the shortest wait; one to a service failing
// more often backs off exponentially. A 503's Retry-After holds either way.
func TestBackoffAfterSporadicFailures(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 5 * time.Second
	for attempt := range 10 {
		d := backoff(lo, hi, attempt, nil, true)
		assert.LessOrEqual(t, d, lo)
		assert.GreaterOrEqual(t, d, 75*time.Millisecond)
		unavailable := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}
		assert.LessOrEqual(t, backoff(lo, hi, attempt, unavailable, true), lo)
	}
	assert.GreaterOrEqual(t, backoff(lo, hi, 5, nil, false), 2400*time.Millisecond)
	asked := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"2"}}}
	assert.GreaterOrEqual(t, backoff(lo, hi, 0, asked, true), 2*time.Second)

	var h health
	for i := range answerWindow / 4 {
		h.note(i == 0)
	}
	assert.True(t, h.sporadic(), "1 failure in 16 tries")
	for range answerWindow {
		h.note(false)
	}
	for range answerWindow/4 - 1 {
		h.note(true)
	}
	assert.True(t, h.sporadic(), "15 failures in the latest 64 tries")
	h.note(true)
	assert.False(t, h.sporadic(), "16 failures in the latest 64 tries")
	for range answerWindow {
		h.note(false)
	}
	assert.True(t, h.sporadic(), "older failures leave the window")
	var fresh health
	fresh.note(true)
	assert.False(t, fresh.sporadic(), "too few tries to tell")
}

// failingAfter answers 503 (no Retry-After) to the arrivals after the first
// ok, up to failures of them.
func failingAfter(ok, failures int32) func(http.Handler) http.Handler {
	var arrivals atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n := arrivals.Add(1); n > ok && n <= ok+failures {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// A call struck by faults three times in a row, on a service that answered
// the calls before it, retries after the shortest wait each time; a call
// that fails as often on a service it has not heard from yet backs off.
func TestSporadicFailuresAreRetriedSoon(t *testing.T) {
	find := func(e *env) time.Duration {
		start := time.Now()
		_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
		require.NoError(t, err)
		return time.Since(start)
	}
	warm := setup(t, sampleapp.Options{}, Config{}, failingAfter(20, 3))
	warm.client.http.RetryWaitMin = 100 * time.Millisecond
	for range 20 {
		find(warm)
	}
	assert.Less(t, find(warm), 450*time.Millisecond, "three waits of at most 100 ms")

	cold := setup(t, sampleapp.Options{}, Config{}, failingAfter(0, 3))
	cold.client.http.RetryWaitMin = 100 * time.Millisecond
	assert.GreaterOrEqual(t, find(cold), 520*time.Millisecond, "waits of 100, 200 and 400 ms, less a quarter at most")
}
