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
)

func TestSourceGroups(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E2", "E1"}, Hash: "h1"},
		{ID: "G2", Name: "Everyone", Members: []string{"G1", "E3"}, Hash: "h2"},
	}))
	require.NoError(t, s.PutSourceGroups(ctx, "other", []store.SourceGroup{{ID: "G1", Name: "Engineering", Members: []string{"X"}}}))

	members, err := s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"E1", "E2"}, members)

	parents, err := s.ParentGroups(ctx, "job", []string{"E1", "G1", "E9"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"E1": {"G1"}, "G1": {"G2"}}, parents)

	groups, err := s.GroupsAmong(ctx, "job", []string{"G1", "E1", "G9"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"G1": true}, groups)

	found, err := s.FindSourceGroups(ctx, "job", []string{"everyone", "G1", "nobody"})
	require.NoError(t, err)
	require.Equal(t, []string{"G1", "G2"}, found, "by ID, or by name in any case")

	hashes, err := s.SourceGroupHashes(ctx, "job", []string{"G1", "G2", "G3"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"G1": "h1", "G2": "h2"}, hashes)

	// Putting a group again replaces its members.
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G1", Name: "Engineering", Members: []string{"E3"}, Hash: "h3"}}))
	members, err = s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"E3"}, members)

	// A read that saw only G2 forgets G1, in this job only.
	c := store.Cycle{Job: "job", ID: "7"}
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, []string{"G2"}))
	gone, err := s.ForgetUnseenGroups(ctx, c)
	require.NoError(t, err)
	require.Equal(t, []string{"G1"}, gone)
	members, err = s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Empty(t, members)
	members, err = s.SourceMembers(ctx, "other", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"X"}, members)

	require.NoError(t, s.DeleteSourceGroups(ctx, "job", []string{"G2"}))
	found, err = s.FindSourceGroups(ctx, "job", []string{"Everyone"})
	require.NoError(t, err)
	require.Empty(t, found)
}

func TestPendingWork(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G3", "G1", "G2", "G1"}))
	require.NoError(t, s.MarkPending(ctx, "job", store.ReferenceWork, connectors.User, []string{"E1"}))

	page, err := s.Pending(ctx, "job", store.MembershipWork, connectors.Group, "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"G1", "G2"}, page)
	page, err = s.Pending(ctx, "job", store.MembershipWork, connectors.Group, "G2", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"G3"}, page)

	require.NoError(t, s.ClearPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G1", "G3"}))
	page, err = s.Pending(ctx, "job", store.MembershipWork, connectors.Group, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"G2"}, page)
	page, err = s.Pending(ctx, "job", store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"E1"}, page, "each phase has its own list")

	// A full reset forgets the lists and the source groups with the connections.
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G1", Members: []string{"E1"}}}))
	require.NoError(t, s.Reset(ctx, "job", store.ResetScope{ConnectorDataStore: true}))
	page, err = s.Pending(ctx, "job", store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	require.Empty(t, page)
	members, err := s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Empty(t, members)
}

func TestReferencesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	o := store.ObjectState{Type: connectors.User, SourceID: "E2", TargetID: "t2", Active: true, References: map[string]string{"manager": "E1"}}
	require.NoError(t, s.PutObject(ctx, "job", o))
	got, err := s.Objects(ctx, "job", connectors.User, []string{"E2"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"manager": "E1"}, got["E2"].References)
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
		INSERT INTO objects (job, type, source_id, target_id, active, updated_at) VALUES ('job', 'User', 'E1', 't1', 1, 0)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := sqlite.Open(path)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Objects(context.Background(), "job", connectors.User, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, "t1", got["E1"].TargetID)
	require.NoError(t, s.PutObject(context.Background(), "job", store.ObjectState{Type: connectors.User, SourceID: "E1", References: map[string]string{"manager": "E9"}}))
	require.NoError(t, s.Close())

	db, err = sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'objects_target'`).Scan(&n))
	require.Zero(t, n)
}
