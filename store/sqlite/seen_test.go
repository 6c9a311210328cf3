package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// A cycle begun by an earlier version, which wrote a row per ID seen,
// goes on with runs: both kinds of marks count, for objects and groups.
func TestSeenMarksOfEarlierVersionsCount(t *testing.T) {
	ctx := context.Background()
	c := store.Cycle{Job: "job", ID: "1"}
	s, db := storeWithUsers(t, c, "A", "B", "C", "D")
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G1"}, {ID: "G2"}, {ID: "G3"}}))
	_, err := db.Exec(`INSERT INTO seen (job, cycle, type, source_id) VALUES
		('job', '1', 'User', 'B'), ('job', '1', 'User', 'Z'), ('job', '1', 'Group', 'G1'), ('job', '2', 'User', 'A')`)
	require.NoError(t, err)
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
	var n int
	require.NoError(t, db.QueryRow(`SELECT (SELECT count(*) FROM seen WHERE cycle = '1') + (SELECT count(*) FROM seen_runs)`).Scan(&n))
	require.Zero(t, n, "the cycle's end drops both kinds of marks")
}

// A damaged run of marks fails the listing rather than let the IDs after
// the damage look unseen, that is deleted.
func TestDamagedSeenMarksFail(t *testing.T) {
	ctx := context.Background()
	c := store.Cycle{Job: "job", ID: "1"}
	s, db := storeWithUsers(t, c, "A")
	_, err := db.Exec(`INSERT INTO seen_runs (job, cycle, type, ids) VALUES ('job', '1', 'User', X'0141' || X'09')`)
	require.NoError(t, err)
	err = s.Unseen(ctx, c, connectors.User, func(store.ObjectState) error { return nil })
	require.ErrorContains(t, err, "damaged")
	err = s.UnseenDueEscrows(ctx, c, connectors.User, time.Now(), func(store.ObjectState) error { return nil })
	require.ErrorContains(t, err, "damaged")
}

// storeWithUsers opens a store holding the users, recorded in cycle c,
// and a second connection to its file, as another version would open it.
func storeWithUsers(t *testing.T, c store.Cycle, ids ...string) (*sqlite.Store, *sql.DB) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlite.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var recs []store.Record
	for i, id := range ids {
		recs = append(recs, store.Record{Seq: i + 1, State: &store.ObjectState{Type: connectors.User, SourceID: id}})
	}
	require.NoError(t, s.Record(context.Background(), c, recs))
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return s, db
}
