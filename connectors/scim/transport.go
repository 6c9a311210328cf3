package scim

import (
	"context"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/connectors/internal/httpcall"
)

// transport is the client's http.RoundTripper. Every attempt, retries
// included, passes through it, so the limits hold for all calls to the
// service (see limits): it waits out the pause a 429 asked for, takes a
// token from the rate limiter and a slot of the concurrency limit (held
// until the response body is closed, so never while a call waits to
// retry), and sets the Authorization header. 429s to many calls pause and
// slow every call to the service. The time-out starts after the waiting,
// so a queue of calls does not time out in the queue.
type transport struct {
	base      http.RoundTripper
	authorize func(*http.Request) error
	timeout   time.Duration
	maxPause  time.Duration // the longest pause a Retry-After gets
	limits    *limits
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if st, ok := ctx.Value(callKey{}).(*callState); ok {
		st.tryAgain()
	}
	if err := t.limits.gate.wait(ctx); err != nil {
		return nil, err
	}
	if err := t.limits.pace.wait(ctx); err != nil {
		return nil, err
	}
	if err := t.limits.slots.Acquire(ctx); err != nil {
		return nil, err
	}
	attempt, cancel := context.WithTimeout(ctx, t.timeout)
	release := func() {
		cancel()
		t.limits.slots.Release()
	}

	// A RoundTripper must not change the caller's request: the attempt
	// goes out as a shallow copy with a header of its own for the
	// credentials, the caller's values shared, as nothing changes them.
	header := maps.Clone(req.Header)
	if header == nil {
		header = http.Header{}
	}
	req = req.WithContext(attempt)
	req.Header = header
	if err := t.authorize(req); err != nil {
		release()
		return nil, err
	}
	sent := time.Now()
	resp, err := t.base.RoundTrip(req)
	if ctx.Err() == nil { // a call given up on says nothing of the service
		t.limits.health.note(failedTry(resp, err))
	}
	if err != nil {
		release()
		return nil, err
	}
	t.limits.answered(sent, resp, t.maxPause)
	resp.Body = httpcall.ReleaseOnClose(resp.Body, release)
	return resp, nil
}

// answered lets an answer to a request sent at sent tell the limits about
// the service's rate: 429s to many requests pause every call until the
// Retry-After (capped at maxPause) and lower the rate (see pace).
func (l *limits) answered(sent time.Time, resp *http.Response, maxPause time.Duration) {
	now := time.Now()
	if resp.StatusCode != http.StatusTooManyRequests {
		l.pace.answered(sent, now, now, false)
		return
	}
	pauseEnd := now
	if d, ok := httpcall.RetryAfter(resp.Header.Get("Retry-After"), now); ok {
		pauseEnd = now.Add(min(d, maxPause))
	}
	if l.pace.answered(sent, now, pauseEnd, true) {
		l.gate.hold(pauseEnd)
	}
}

// gate holds requests back until a time a service named in a 429's
// Retry-After, when it is throttling the client, not one call.
type gate struct {
	mu    sync.Mutex
	until time.Time
}

func (g *gate) hold(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
}

func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	d := time.Until(g.until)
	g.mu.Unlock()
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
