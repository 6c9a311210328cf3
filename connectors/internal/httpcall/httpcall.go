// Package httpcall holds what the connectors that speak HTTP (SCIM, Graph)
// share about a call: reading Retry-After, and giving a concurrency slot
// back once an answer's body is closed.
package httpcall

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3), at most a day.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// ReleaseOnClose returns body, which calls release once it is closed: the
// call holds its slot until its answer is read. release runs once, however
// often the body is closed (a retry drains and closes an answer its caller
// closes again).
func ReleaseOnClose(body io.ReadCloser, release func()) io.ReadCloser {
	return &releasingBody{ReadCloser: body, release: release}
}

type releasingBody struct {
	io.ReadCloser
	release  func()
	released atomic.Bool
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	if b.released.CompareAndSwap(false, true) {
		b.release()
	}
	return err
}
