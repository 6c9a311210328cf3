package connectors

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactAndTruncate(t *testing.T) {
	require.Equal(t, "token [REDACTED] refused", Redact("token s3cret refused", []string{"", "s3cret"}), "an empty secret redacts nothing")
	long := strings.Repeat("é", 10) // two bytes each
	require.Equal(t, strings.Repeat("é", 2)+"…", Truncate(long, 5), "cut at a character boundary")
	require.Equal(t, "short", Truncate("short", 5))
}
