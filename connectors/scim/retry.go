package scim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/internal/httpcall"
	"github.com/openprovisioning/provisioner/internal/places"
)

// retryWaitMin is the first back-off when the service named no Retry-After.
const retryWaitMin = 250 * time.Millisecond

// checkRetry retries connection errors, 5xx (but 501, which will not change)
// and 429. Everything else, 401 included, is answered at once.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st, _ := ctx.Value(callKey{}).(*callState)
	if st != nil && mayHaveActed(resp, err) {
		st.inDoubt.Store(true)
	}
	retry, err := retryPolicy(ctx, resp, err)
	// A 429 asks for fewer calls: no one takes the place of its call.
	if retry && st != nil && (resp == nil || resp.StatusCode != http.StatusTooManyRequests) {
		st.waitToRetry()
	}
	return retry, err
}

func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			return false, err
		}
		// Retries connection errors, not TLS or URL scheme errors.
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	s := resp.StatusCode
	return s == http.StatusTooManyRequests || (s >= 500 && s != http.StatusNotImplemented), nil
}

// callState is what the tries of one call share, through its context.
type callState struct {
	// inDoubt is set once a try may have reached the service without its
	// answer coming back: the service may have acted on it, and a try
	// sent again may find that done (a create conflicting).
	inDoubt atomic.Bool
	// crew grows by one while the call waits to retry (see limits.crew),
	// so that another goroutine pushes meanwhile, and step, when the
	// caller gave one, is told; waiting says they have been.
	crew    *places.Limit
	step    connectors.RetryWaits
	waiting atomic.Bool
}

// callKey holds a call's *callState in its context.
type callKey struct{}

// waitToRetry notes that the call waits before its next try.
func (s *callState) waitToRetry() {
	if s.waiting.CompareAndSwap(false, true) {
		s.crew.Grow(1)
		if s.step != nil {
			s.step.Waiting()
		}
	}
}

// tryAgain notes that the call's wait is over: it tries again, or ends.
func (s *callState) tryAgain() {
	if s.waiting.CompareAndSwap(true, false) {
		s.crew.Grow(-1)
		if s.step != nil {
			s.step.Resumed()
		}
	}
}

// mayHaveActed reports whether a failed try may have been carried out: the
// connection failed after it was made, or a server or gateway failed
// midway. A refused connection, a 503 and a 429 were not.
func mayHaveActed(resp *http.Response, err error) bool {
	if err != nil {
		var op *net.OpError
		return !errors.As(err, &op) || op.Op != "dial"
	}
	s := resp.StatusCode
	return s >= 500 && s != http.StatusNotImplemented && s != http.StatusServiceUnavailable
}

// backoff is how long a call waits before it tries again; it holds no slot
// of the concurrency limit meanwhile, so other calls go on. After a 429
// it waits out the Retry-After (capped at max), for which the transport
// may have paused every call to the service (see pace). After a 503 with
// Retry-After, only this call waits that long, and up to a quarter longer,
// so calls refused together do not come back together; the service may be
// refusing some calls, not all. Otherwise it backs off exponentially with
// jitter, unless the failure is sporadic (see health): a service that
// answers most calls is tried again after the shortest wait, as a call
// struck by one fault after another would otherwise hold its push step
// for seconds.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response, sporadic bool) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := httpcall.RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			d = min(d, hi)
			if resp.StatusCode == http.StatusTooManyRequests {
				return d
			}
			return min(d+time.Duration(rand.Int64N(int64(d)/4+1)), hi)
		}
	}
	d := hi
	switch {
	case sporadic && (resp == nil || resp.StatusCode != http.StatusTooManyRequests):
		d = min(lo, hi)
	case attempt < 30:
		d = min(lo<<attempt, hi)
	}
	// Up to a quarter less, so calls that failed together do not retry together.
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// health keeps whether the latest tries to a service failed: answered
// with a 5xx (but 501, which will not change) or not answered at all.
type health struct {
	mu       sync.Mutex
	failed   [answerWindow]bool
	next     int
	seen     int
	failures int
}

// note records a try's outcome.
func (h *health) note(failed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == answerWindow && h.failed[h.next] {
		h.failures--
	}
	h.failed[h.next] = failed
	if failed {
		h.failures++
	}
	h.next = (h.next + 1) % answerWindow
	h.seen = min(h.seen+1, answerWindow)
}

// sporadic reports whether failures are few among the latest tries: of at
// least a quarter of the window, under a quarter failed. The service
// answers most calls, so one that failed is no sign of an outage to back
// off from.
func (h *health) sporadic() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen >= answerWindow/4 && h.failures*4 < h.seen
}

// failedTry reports whether a try failed as health counts failures.
func failedTry(resp *http.Response, err error) bool {
	return err != nil || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented
}

// retryLogger routes retryablehttp's messages to logrus at debug level. They
// carry the method and URL, never headers; redact guards anything else.
type retryLogger struct {
	log    *logrus.Entry
	redact func(string) string
}

func (l retryLogger) Error(msg string, kv ...any) { l.debug(msg, kv) }
func (l retryLogger) Warn(msg string, kv ...any)  { l.debug(msg, kv) }
func (l retryLogger) Info(msg string, kv ...any)  { l.debug(msg, kv) }
func (l retryLogger) Debug(msg string, kv ...any) { l.debug(msg, kv) }

func (l retryLogger) debug(msg string, kv []any) {
	if !l.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return
	}
	fields := make(logrus.Fields, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		fields[fmt.Sprint(kv[i])] = l.redact(fmt.Sprint(kv[i+1]))
	}
	l.log.WithFields(fields).Debug("scim http: " + msg)
}
