package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
	"github.com/openprovisioning/provisioner/store/storetest"
)

func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkRecord(b *testing.B) {
	storetest.BenchRecord(b, open(b))
}

// A state file written before references were kept gains the column, and
// loses the index of target IDs.
func TestOpenUpgradesOlderFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE objects (job TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL,
		source_hash TEXT NOT NULL DEFAULT '', target_id TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 0,
		pushed TEXT, members TEXT, escrow TEXT, escrow_due INTEGER, updated_at INTEGER NOT NULL, PRIMARY KEY (job, type, source_id)) WITHOUT ROWID;
		CREATE INDEX objects_target ON objects (job, type, target_id) WHERE target_id <> '';
		INSERT INTO objects (job, type, source_id, target_id, active, updated_at) VALUES ('job', 'User', 'E1', 't1', 1, 0);
		CREATE TABLE source_groups (job TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
			hash TEXT NOT NULL DEFAULT '', PRIMARY KEY (job, group_id)) WITHOUT ROWID;
		CREATE INDEX source_groups_name ON source_groups (job, lower(name));
		INSERT INTO source_groups (job, group_id, name) VALUES ('job', 'G1', 'Ärzte')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := sqlite.Open(path)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Objects(context.Background(), "job", connectors.User, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, "t1", got["E1"].TargetID)
	require.NoError(t, s.PutObject(context.Background(), "job", store.ObjectState{Type: connectors.User, SourceID: "E1", References: map[string]string{"manager": "E9"}}))
	groups, err := s.FindSourceGroups(context.Background(), "job", []string{"ÄRZTE"})
	require.NoError(t, err)
	require.Equal(t, []string{"G1"}, groups, "names recorded before the upgrade are found in any case")
	require.NoError(t, s.Close())

	db, err = sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'objects_target'`).Scan(&n))
	require.Zero(t, n)
}

// BenchmarkInitialCycle measures the store's work per object in an
// initial cycle, which should stay flat from 100k to 1M objects. Run one
// cycle: -bench InitialCycle -benchtime 1x; -short leaves out 1M.
func BenchmarkInitialCycle(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("1M objects")
			}
			storetest.BenchInitialCycle(b, func(b *testing.B) store.Store { return open(b) }, n)
		})
	}
}
