package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
	requirePages(t, db, 4096)
}

// A new state file has pages of 16 KiB, in WAL mode: it is made so before
// turning to WAL, after which its page size is fixed.
func TestNewFilesHaveLargePages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlite.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	requirePages(t, db, 16384)
}

// requirePages checks a state file's page size and that it is in WAL mode.
func requirePages(t *testing.T, db *sql.DB, size int) {
	t.Helper()
	var got int
	var mode string
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&got))
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	require.Equal(t, size, got, "page size")
	require.Equal(t, "wal", mode)
}

// A state file whose large-row tables are WITHOUT ROWID, as earlier
// versions made them, has them converted with every row kept, in the
// middle of a cycle; the converted tables keep their keys unique.
func TestOpenConvertsLargeRowTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE objects (job TEXT NOT NULL, type TEXT NOT NULL, source_id TEXT NOT NULL,
		source_hash TEXT NOT NULL DEFAULT '', target_id TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 0,
		pushed TEXT, members TEXT, refs TEXT, escrow TEXT, escrow_due INTEGER, updated_at INTEGER NOT NULL, operation TEXT,
		PRIMARY KEY (job, type, source_id)) WITHOUT ROWID;
		CREATE INDEX objects_escrowed ON objects (job, type, source_id, escrow_due) WHERE escrow_due IS NOT NULL;
		CREATE TABLE staged (job TEXT NOT NULL, cycle TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, object TEXT NOT NULL,
		outcome BLOB, PRIMARY KEY (job, cycle, seq)) WITHOUT ROWID;
		CREATE TABLE outcomes (job TEXT NOT NULL, cycle TEXT NOT NULL, seq INTEGER NOT NULL, outcome BLOB NOT NULL,
		PRIMARY KEY (job, cycle, seq)) WITHOUT ROWID;
		INSERT INTO objects (job, type, source_id, source_hash, target_id, active, pushed, members, refs, escrow, escrow_due, updated_at, operation)
		VALUES ('job', 'User', 'E1', 'h1', 't1', 1, '{"userName":"ann"}', NULL, '{"manager":"E2"}', NULL, NULL, 1000, NULL),
		('job', 'User', 'E2', 'h2', '', 0, NULL, NULL, NULL, '{"attempts":2,"retryAfter":"2030-01-01T00:00:00Z","code":"Timeout","reason":"slow","object":{"id":"E2"}}', 1893456000000, 2000,
		 '{"changeId":"1-2","action":"Create","modified":[{"name":"userName","new":"bob"}],"time":"2030-01-01T00:00:00Z"}'),
		('job', 'Group', 'G1', '', 'g1', 1, NULL, '["t1"]', NULL, NULL, NULL, 3000, NULL);
		INSERT INTO staged (job, cycle, seq, type, object, outcome) VALUES ('job', '1', 1, 'User', '{"id":"E1"}', NULL),
		('job', '1', 2, 'User', '{"id":"E2","attributes":{"userName":"bob"}}', NULL), ('job', '1', 3, 'User', '{"id":"E3"}', '{"old":true}');
		INSERT INTO outcomes (job, cycle, seq, outcome) VALUES ('job', '1', 1, '{"action":"Update"}')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := sqlite.Open(path)
	require.NoError(t, err)
	defer s.Close()
	users, err := s.Objects(ctx, "job", connectors.User, []string{"E1", "E2"})
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, connectors.Attributes{"userName": "ann"}, users["E1"].Pushed)
	require.Equal(t, map[string]string{"manager": "E2"}, users["E1"].References)
	require.Equal(t, "h1", users["E1"].SourceHash)
	require.True(t, users["E1"].Active)
	require.Equal(t, "bob", users["E2"].Operation.Modified[0].New)
	require.Equal(t, 2, users["E2"].Escrow.Attempts)
	groups, err := s.Objects(ctx, "job", connectors.Group, []string{"G1"})
	require.NoError(t, err)
	require.Equal(t, []string{"t1"}, groups["G1"].Members)
	var due []string
	require.NoError(t, s.DueEscrows(ctx, "job", connectors.User, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), func(o store.ObjectState) error {
		due = append(due, o.SourceID)
		return nil
	}))
	require.Equal(t, []string{"E2"}, due, "the escrow index is made again")

	c := store.Cycle{Job: "job", ID: "1"}
	items, err := s.Staged(ctx, c, 1, 3)
	require.NoError(t, err)
	require.Len(t, items, 3)
	require.Equal(t, `{"action":"Update"}`, string(items[0].Outcome))
	require.Nil(t, items[1].Outcome)
	require.Equal(t, "bob", items[1].Object.Attributes["userName"])
	require.Equal(t, `{"old":true}`, string(items[2].Outcome))

	// Keys stay unique: writing an object, an item or an outcome again
	// replaces it.
	e1 := users["E1"]
	e1.TargetID = "t1b"
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 2, Outcome: []byte(`{"action":"Create"}`), State: &e1}, {Seq: 1, Outcome: []byte(`{"action":"Retry"}`)}}))
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{{Seq: 3, Type: connectors.User, Object: connectors.Object{ID: "E3b"}}}))
	items, err = s.Staged(ctx, c, 1, 3)
	require.NoError(t, err)
	require.Equal(t, []string{`{"action":"Retry"}`, `{"action":"Create"}`, ""}, []string{string(items[0].Outcome), string(items[1].Outcome), string(items[2].Outcome)})
	require.Equal(t, "E3b", items[2].Object.ID)
	n, err := s.CountLinked(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	users, err = s.Objects(ctx, "job", connectors.User, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, "t1b", users["E1"].TargetID)
	require.NoError(t, s.Close())

	db, err = sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var rowless int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('objects', 'staged', 'outcomes') AND sql LIKE '%WITHOUT ROWID%'`).Scan(&rowless))
	require.Zero(t, rowless)

	// Opening the converted file again changes nothing.
	s, err = sqlite.Open(path)
	require.NoError(t, err)
	users, err = s.Objects(ctx, "job", connectors.User, []string{"E1", "E2"})
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.NoError(t, s.Close())
}

// BenchmarkInitialCycle measures the store's work per object in an
// initial cycle, which should stay flat from 100k to 1M objects; wide
// objects have 12 more attributes mapped, which makes their rows over a
// kilobyte. Run one cycle: -bench InitialCycle -benchtime 1x; -short
// leaves out 1M.
func BenchmarkInitialCycle(b *testing.B) {
	for _, c := range []struct {
		name     string
		n, extra int
	}{{"100k", 100_000, 0}, {"100k-wide", 100_000, 12}, {"1M", 1_000_000, 0}} {
		b.Run(c.name, func(b *testing.B) {
			if c.n > 100_000 && testing.Short() {
				b.Skip("1M objects")
			}
			storetest.BenchInitialCycle(b, func(b *testing.B) store.Store { return open(b) }, c.n, c.extra)
		})
	}
}

// BenchmarkSnapshotMarks: the seen marks of a snapshot read of 100,000
// known objects, and the listing of those it did not return.
func BenchmarkSnapshotMarks(b *testing.B) {
	storetest.BenchSnapshotMarks(b, func(b *testing.B) store.Store { return open(b) }, 100_000)
}

// Records written at once share a transaction; one that fails leaves the
// others written, as if each had been its own.
func TestConcurrentRecordsFailAlone(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := store.Cycle{Job: "job", ID: "1"}
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			st := &store.ObjectState{Type: connectors.User, SourceID: fmt.Sprint("E", i), TargetID: fmt.Sprint("t", i), Active: true,
				Pushed: connectors.Attributes{"userName": fmt.Sprint("u", i)}}
			if i%16 == 7 {
				st.Pushed["broken"] = make(chan int) // no encoding: the write fails
			}
			errs[i] = s.Record(ctx, c, []store.Record{{State: st}})
		})
	}
	wg.Wait()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("E", i)
	}
	got, err := s.Objects(ctx, "job", connectors.User, ids)
	require.NoError(t, err)
	for i, id := range ids {
		if i%16 == 7 {
			require.Error(t, errs[i], id)
			require.NotContains(t, got, id)
			continue
		}
		require.NoError(t, errs[i], id)
		require.Equal(t, fmt.Sprint("u", i), got[id].Pushed["userName"], id)
	}
}

// BenchmarkConcurrentRecords: push steps' pending operations, written one
// object at a time by 64 callers at once.
func BenchmarkConcurrentRecords(b *testing.B) {
	storetest.BenchConcurrentRecords(b, open(b))
}

// The end of a cycle copies the WAL back into the database: the objects a
// cycle recorded, in the log until then, are in the database file after
// it, and the next cycle starts with a short log.
func TestEndCycleCopiesTheLogBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlite.Open(path)
	require.NoError(t, err)
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	c := store.Cycle{Job: "job", ID: "1"}
	var items []store.StagedItem
	var records []store.Record
	for i := range 2000 {
		id := fmt.Sprintf("E%05d", i)
		items = append(items, store.StagedItem{Seq: i + 1, Type: connectors.User, Object: connectors.Object{ID: id, Attributes: connectors.Attributes{"userName": id + "@example.com"}}})
		records = append(records, store.Record{Seq: i + 1, Outcome: []byte(`{"action":"Create"}`), State: &store.ObjectState{Type: connectors.User, SourceID: id, TargetID: "t" + id, Active: true, Pushed: connectors.Attributes{"userName": id + "@example.com"}}})
	}
	require.NoError(t, s.Stage(ctx, c, items))
	require.NoError(t, s.Record(ctx, c, records))
	before := size()
	require.NoError(t, s.EndCycle(ctx, c))
	require.Greater(t, size(), before+100<<10, "the cycle's object states are copied into the database")
}
