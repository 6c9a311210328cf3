package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
	"github.com/openprovisioning/provisioner/store/storetest"
)

// A cycle begun by an earlier version, which wrote a row per ID seen,
// goes on with runs.
func TestSeenMarksOfEarlierVersionsCount(t *testing.T) {
	s, db := storeWithUsers(t, store.Cycle{Job: "job", ID: "1"}, "A", "B", "C", "D")
	storetest.EarlierSeenMarks(t, s, db)
}

// A damaged run of marks fails the listings.
func TestDamagedSeenMarksFail(t *testing.T) {
	s, db := storeWithUsers(t, store.Cycle{Job: "job", ID: "1"}, "A")
	storetest.DamagedSeenMarks(t, s, db, `INSERT INTO seen_runs (job, cycle, type, ids) VALUES ('job', '1', 'User', X'0141' || X'09')`)
}

// storeWithUsers opens a store holding the users, recorded in cycle c,
// and a second connection to its file, as another version would open it.
func storeWithUsers(t *testing.T, c store.Cycle, ids ...string) (*sqlite.Store, storetest.Database) {
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
	return s, storetest.Database{
		Exec: func(t *testing.T, query string) {
			_, err := db.Exec(query)
			require.NoError(t, err)
		},
		Count: func(t *testing.T, query string) (n int) {
			require.NoError(t, db.QueryRow(query).Scan(&n))
			return n
		},
	}
}
