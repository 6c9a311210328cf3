package scim

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// transport is the client's http.RoundTripper. Every attempt, retries
// included, passes through it, so the limits hold for all calls to the
// service (see limits): it waits out a Retry-After another call received,
// takes a token from the rate limiter and a slot of the concurrency limit
// (held until the response body is closed), and sets the Authorization
// header. The time-out starts after the waiting, so a queue of calls does
// not time out in the queue.
type transport struct {
	base      http.RoundTripper
	authorize func(*http.Request) error
	timeout   time.Duration
	limits    *limits
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := t.limits.gate.wait(ctx); err != nil {
		return nil, err
	}
	if err := t.limits.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	if err := t.limits.slots.acquire(ctx); err != nil {
		return nil, err
	}
	attempt, cancel := context.WithTimeout(ctx, t.timeout)
	release := sync.OnceFunc(func() {
		cancel()
		t.limits.slots.release()
	})

	// A RoundTripper must not change the caller's request.
	req = req.Clone(attempt)
	if err := t.authorize(req); err != nil {
		release()
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// gate holds requests back until a time a service named in Retry-After: a
// throttled service is throttling the client, not one call.
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
