package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	pgtest "github.com/openprovisioning/provisioner/internal/testenv/postgres"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/postgres"
	"github.com/openprovisioning/provisioner/store/storetest"
)

// server starts PostgreSQL; -short runs, the fast unit runs, go without.
func server(t testing.TB) *pgtest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a PostgreSQL server")
	}
	return pgtest.Start(t)
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := server(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, srv.Database(t)) })
}

// Two workers, each with its own pool, record the batches of one cycle at once.
func TestWorkersShareTheStore(t *testing.T) {
	srv := server(t)
	ctx := t.Context()
	workers := []*postgres.Store{open(t, srv.DSN()), open(t, srv.DSN())}
	c := store.Cycle{Job: "job", ID: "1"}
	const batch, batches = 50, 20
	var items []store.StagedItem
	for i := range batch * batches {
		items = append(items, store.StagedItem{Seq: i + 1, Type: connectors.User, Object: connectors.Object{ID: fmt.Sprintf("E%04d", i)}})
	}
	require.NoError(t, workers[0].Stage(ctx, c, items))

	var wg sync.WaitGroup
	errs := make(chan error, batches)
	for b := range batches {
		w := workers[b%2]
		part := items[b*batch : (b+1)*batch]
		wg.Go(func() {
			recs := make([]store.Record, len(part))
			ids := make([]string, len(items))
			for i, it := range part {
				recs[i] = store.Record{Seq: it.Seq, Outcome: []byte(`"done"`), State: &store.ObjectState{Type: connectors.User, SourceID: it.Object.ID, TargetID: "t" + it.Object.ID}}
			}
			// Every batch marks every ID, half of them in reverse order.
			for i, it := range items {
				if b%2 == 0 {
					ids[i] = it.Object.ID
				} else {
					ids[len(items)-1-i] = it.Object.ID
				}
			}
			err := w.Record(ctx, c, recs)
			if err == nil {
				err = w.MarkSeen(ctx, c, connectors.User, ids)
			}
			if err == nil {
				err = w.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G", Members: []string{fmt.Sprint("batch", b), "shared"}}})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	staged, err := workers[1].Staged(ctx, c, 1, len(items))
	require.NoError(t, err)
	require.Len(t, staged, len(items))
	for _, it := range staged {
		require.Equal(t, `"done"`, string(it.Outcome), it.Seq)
	}
	n := 0
	require.NoError(t, workers[1].Connections(ctx, "job", connectors.User, func(store.ObjectState) error { n++; return nil }))
	require.Equal(t, len(items), n)
	require.NoError(t, workers[0].Unseen(ctx, c, connectors.User, func(o store.ObjectState) error { return fmt.Errorf("%s unseen", o.SourceID) }))
	members, err := workers[0].SourceMembers(ctx, "job", "G")
	require.NoError(t, err)
	require.Len(t, members, 2, "one batch's members: %v", members)
}

// Workers starting together create the schema once, without error.
func TestOpenConcurrently(t *testing.T) {
	srv := server(t)
	dsn := srv.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var tables int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables))
	require.Equal(t, 12, tables)

	open(t, dsn) // and again, once it exists
}

func TestErrorsHideThePassword(t *testing.T) {
	srv := server(t)
	u, err := url.Parse(srv.DSN())
	require.NoError(t, err)
	right, _ := u.User.Password()
	const wrong = "Wr0ng-Secret-Value"
	u.User = url.UserPassword(pgtest.User, wrong)
	keyValue := fmt.Sprintf("host=%s port=%s dbname=%s user=%s password=%s sslmode=disable", u.Hostname(), u.Port(), u.Path[1:], pgtest.User, wrong)
	unparsable := strings.Replace(u.String(), u.Port(), "port", 1)

	for _, dsn := range []string{u.String(), keyValue, unparsable} {
		_, err := postgres.Open(t.Context(), dsn)
		require.Error(t, err)
		msg := fmt.Sprintf("%v %+v", err, err)
		require.NotContains(t, msg, wrong)
		require.NotContains(t, msg, right)
		if dsn != unparsable {
			require.Contains(t, msg, u.Host+u.Path, "names the server and database")
		}
	}
}

// Record's writes apply together or not at all.
func TestRecordIsAtomic(t *testing.T) {
	srv := server(t)
	ctx := t.Context()
	s := open(t, srv.DSN())
	c := store.Cycle{Job: "job", ID: "1"}
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{{Seq: 1, Type: connectors.User, Object: connectors.Object{ID: "A"}}}))
	err := s.Record(ctx, c, []store.Record{
		{Seq: 1, Outcome: []byte(`"done"`), State: &store.ObjectState{Type: connectors.User, SourceID: "A"}},
		// PostgreSQL refuses NUL in text, after the outcome is written.
		{Seq: 2, State: &store.ObjectState{Type: connectors.User, SourceID: "B\x00"}},
	})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "the server refused it, not the driver before sending")
	items, err := s.Staged(ctx, c, 1, 1)
	require.NoError(t, err)
	require.Nil(t, items[0].Outcome)
	got, err := s.Objects(ctx, "job", connectors.User, []string{"A"})
	require.NoError(t, err)
	require.Empty(t, got)
}

func BenchmarkRecord(b *testing.B) {
	storetest.BenchRecord(b, open(b, server(b).DSN()))
}

// BenchmarkSnapshotMarks: the seen marks of a snapshot read of 100,000
// known objects, and the listing of those it did not return.
func BenchmarkSnapshotMarks(b *testing.B) {
	srv := server(b)
	storetest.BenchSnapshotMarks(b, func(b *testing.B) store.Store { return open(b, srv.Database(b)) }, 100_000)
}

// A cycle begun by an earlier version, which wrote a row per ID seen,
// goes on with runs.
func TestSeenMarksOfEarlierVersionsCount(t *testing.T) {
	s, db := storeWithUsers(t, store.Cycle{Job: "job", ID: "1"}, "A", "B", "C", "D")
	storetest.EarlierSeenMarks(t, s, db)
}

// A damaged run of marks fails the listings.
func TestDamagedSeenMarksFail(t *testing.T) {
	s, db := storeWithUsers(t, store.Cycle{Job: "job", ID: "1"}, "A")
	storetest.DamagedSeenMarks(t, s, db, `INSERT INTO seen_runs (job, cycle, type, ids) VALUES ('job', '1', 'User', '\x014109'::bytea)`)
}

// storeWithUsers opens a store of a database of its own holding the users,
// recorded in cycle c, and a second connection to it, as another version
// would open it.
func storeWithUsers(t *testing.T, c store.Cycle, ids ...string) (*postgres.Store, storetest.Database) {
	dsn := server(t).Database(t)
	s := open(t, dsn)
	var recs []store.Record
	for i, id := range ids {
		recs = append(recs, store.Record{Seq: i + 1, State: &store.ObjectState{Type: connectors.User, SourceID: id}})
	}
	require.NoError(t, s.Record(t.Context(), c, recs))
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return s, storetest.Database{
		Exec: func(t *testing.T, query string) {
			_, err := conn.Exec(t.Context(), query)
			require.NoError(t, err)
		},
		Count: func(t *testing.T, query string) (n int) {
			require.NoError(t, conn.QueryRow(t.Context(), query).Scan(&n))
			return n
		},
	}
}
