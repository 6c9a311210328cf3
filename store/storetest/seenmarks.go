package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// Database runs SQL on the database of a store, as another version of the
// program would: exec a statement, count a query's one number.
type Database struct {
	Exec  func(t *testing.T, query string)
	Count func(t *testing.T, query string) int
}

// EarlierSeenMarks checks, on a store holding users A to D recorded in
// cycle "1" of job "job", that a cycle begun by an earlier version, which
// wrote a row per ID seen to table seen, goes on with runs: both kinds of
// marks count, for objects and groups, and the cycle's end drops both.
func EarlierSeenMarks(t *testing.T, s store.Store, db Database) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G1"}, {ID: "G2"}, {ID: "G3"}}))
	db.Exec(t, `INSERT INTO seen (job, cycle, type, source_id) VALUES
		('job', '1', 'User', 'B'), ('job', '1', 'User', 'Z'), ('job', '1', 'Group', 'G1'), ('job', '2', 'User', 'A')`)
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"D"}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, []string{"G3"}))

	var unseen []string
	require.NoError(t, s.Unseen(ctx, c, connectors.User, func(o store.ObjectState) error {
		unseen = append(unseen, o.SourceID)
		return nil
	}))
	require.Equal(t, []string{"A", "C"}, unseen)
	gone, err := s.ForgetUnseenGroups(ctx, c)
	require.NoError(t, err)
	require.Equal(t, []string{"G2"}, gone)

	require.NoError(t, s.EndCycle(ctx, c))
	require.Zero(t, db.Count(t, `SELECT (SELECT count(*) FROM seen WHERE cycle = '1') + (SELECT count(*) FROM seen_runs)`),
		"the cycle's end drops both kinds of marks")
}

// DamagedSeenMarks checks, on a store holding user A recorded in cycle "1"
// of job "job", that a damaged run of marks, which insert writes, fails
// the listings rather than let the IDs after the damage look unseen, that
// is deleted.
func DamagedSeenMarks(t *testing.T, s store.Store, db Database, insert string) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	db.Exec(t, insert)
	err := s.Unseen(ctx, c, connectors.User, func(store.ObjectState) error { return nil })
	require.ErrorIs(t, err, store.ErrDamagedSeenRun)
	err = s.UnseenDueEscrows(ctx, c, connectors.User, time.Now(), func(store.ObjectState) error { return nil })
	require.ErrorIs(t, err, store.ErrDamagedSeenRun)
}
