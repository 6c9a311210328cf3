package graph

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The calls to one tenant share the strictest limit its open connections
// ask for, and a stricter connection leaving lets more through.
func TestTenantCallsKeepToTheStrictestConnection(t *testing.T) {
	tn, leaveWide := joinTenant("tenant-limit-test", 3)
	defer leaveWide()
	_, leaveStrict := joinTenant("tenant-limit-test", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, tn.slots.Acquire(ctx))

	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	require.ErrorIs(t, tn.slots.Acquire(short), context.DeadlineExceeded, "a second call while the strict connection is open")

	leaveStrict()
	require.NoError(t, tn.slots.Acquire(ctx), "the wide connection alone allows three")
	require.NoError(t, tn.slots.Acquire(ctx))
	tn.slots.Release()
	tn.slots.Release()
	tn.slots.Release()
	require.Zero(t, tn.slots.Held())
}
