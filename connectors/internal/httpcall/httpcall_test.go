package httpcall

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"7":                             7 * time.Second,
		"999999999999":                  24 * time.Hour, // at most a day
		"0":                             0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:04:00 GMT": 0, // in the past
	} {
		d, ok := RetryAfter(in, now)
		assert.True(t, ok, in)
		assert.Equal(t, want, d, in)
	}
	for _, in := range []string{"", "-3", "soon"} {
		_, ok := RetryAfter(in, now)
		assert.False(t, ok, in)
	}

}

// A body closed twice, as a drained retry's may be, gives its slot back
// once.
func TestReleaseOnCloseReleasesOnce(t *testing.T) {
	released := 0
	body := ReleaseOnClose(io.NopCloser(strings.NewReader("x")), func() { released++ })
	assert.NoError(t, body.Close())
	assert.NoError(t, body.Close())
	assert.Equal(t, 1, released)
}
