package dryrun_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/dryrun"
	"github.com/openprovisioning/provisioner/store/sqlite"
	"github.com/openprovisioning/provisioner/store/storetest"
)

func open(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlite.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, path
}

// Over an empty store, the overlay alone behaves as a store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := open(t)
		return dryrun.New(s, "dry-run")
	})
}

const job = "job"

var (
	now   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cycle = store.Cycle{Job: job, ID: "preview-1"}
)

func user(id, target string, refs map[string]string) store.ObjectState {
	return store.ObjectState{Type: connectors.User, SourceID: id, SourceHash: "h" + id, TargetID: target, Active: target != "",
		Pushed: connectors.Attributes{"userName": id}, References: refs, UpdatedAt: now}
}

func escrowed(o store.ObjectState, retry time.Time) store.ObjectState {
	o.Escrow = &store.Escrow{Attempts: 2, RetryAfter: retry, Code: "Unavailable", Reason: "down", Object: connectors.Object{ID: o.SourceID}}
	return o
}

// fill gives the job state of every kind.
func fill(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, o := range []store.ObjectState{
		user("A", "tA", nil), user("B", "tB", map[string]string{"manager": "A"}), user("C", "tC", map[string]string{"manager": "A"}),
		escrowed(user("D", "", nil), now.Add(-time.Hour)), escrowed(user("E", "tE", nil), now.Add(time.Hour)), user("F", "", nil),
		{Type: connectors.Group, SourceID: "G1", SourceHash: "hG1", TargetID: "tG1", Active: true, Members: []string{"tA"}, UpdatedAt: now},
	} {
		require.NoError(t, s.PutObject(ctx, job, o))
	}
	require.NoError(t, s.PutObject(ctx, "other", user("A", "oA", nil)))
	require.NoError(t, s.PutSourceGroups(ctx, job, []store.SourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"A", "B"}, Hash: "g1"},
		{ID: "G2", Name: "Sales", Members: []string{"C", "G1"}, Hash: "g2"},
		{ID: "G3", Name: "Everyone", Members: []string{"A", "G2"}, Hash: "g3"},
		{ID: "G6", Name: "Ops", Members: []string{"D", "G3"}, Hash: "g6"},
	}))
	require.NoError(t, s.SetWatermark(ctx, job, connectors.User, "w1"))
	require.NoError(t, s.SetWatermark(ctx, job, connectors.Group, "g1"))
	require.NoError(t, s.MarkPending(ctx, job, store.MembershipWork, connectors.Group, []string{"G1", "G3"}))
	var many []string
	for i := range 25 {
		many = append(many, fmt.Sprintf("P%02d", i))
	}
	require.NoError(t, s.MarkPending(ctx, job, store.ReferenceWork, connectors.User, many))
}

// view is everything a store answers about the job.
type view struct {
	Objects, Fingerprints, Connections, Unseen, Due, Lookups, Groups, Parents, Found, Watermarks, Pending, Referrers string
	Linked                                                                                                           [2]int
}

func viewOf(t *testing.T, s store.Store) view {
	t.Helper()
	ctx := t.Context()
	ids := []string{"A", "B", "C", "D", "E", "F", "G1", "N", "X"}
	var v view
	each := func(iterate func(fn func(store.ObjectState) error) error) string {
		var out []string
		require.NoError(t, iterate(func(o store.ObjectState) error {
			out = append(out, fmt.Sprintf("%s:%s:%v", o.SourceID, o.TargetID, o.Escrow != nil))
			return nil
		}))
		return strings.Join(out, " ")
	}
	for i, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		objs, err := s.Objects(ctx, job, typ, ids)
		require.NoError(t, err)
		for _, id := range slices.Sorted(maps.Keys(objs)) {
			o := objs[id]
			o.UpdatedAt = time.Time{}
			if o.Escrow != nil {
				o.Escrow.RetryAfter = o.Escrow.RetryAfter.UTC()
			}
			b, err := json.Marshal(o)
			require.NoError(t, err)
			v.Objects += string(b) + "\n"
		}
		fps, err := s.Fingerprints(ctx, job, typ, ids)
		require.NoError(t, err)
		for _, id := range ids {
			if f, ok := fps[id]; ok {
				v.Fingerprints += fmt.Sprintf("%s:%s:%v:%v:%v ", id, f.SourceHash, f.Linked, f.Active, f.Escrow != nil)
			}
		}
		v.Connections += each(func(fn func(store.ObjectState) error) error { return s.Connections(ctx, job, typ, fn) }) + "|"
		v.Unseen += each(func(fn func(store.ObjectState) error) error { return s.Unseen(ctx, cycle, typ, fn) }) + "|"
		v.Due += each(func(fn func(store.ObjectState) error) error { return s.DueEscrows(ctx, job, typ, now, fn) }) + "|"
		v.Linked[i], err = s.CountLinked(ctx, job, typ)
		require.NoError(t, err)
		for _, target := range []string{"tA", "tB", "tC", "tE", "tG1", "tN", "tX"} {
			o, ok, err := s.LookupTarget(ctx, job, typ, target)
			require.NoError(t, err)
			if ok {
				v.Lookups += target + "→" + o.SourceID + " "
			}
		}
	}
	groups := []string{"G1", "G2", "G3", "G4", "G5", "G6", "A"}
	among, err := s.GroupsAmong(ctx, job, groups)
	require.NoError(t, err)
	for _, g := range groups {
		members, err := s.SourceMembers(ctx, job, g)
		require.NoError(t, err)
		v.Groups += fmt.Sprintf("%s:%v:%v ", g, among[g], members)
	}
	parents, err := s.ParentGroups(ctx, job, ids)
	require.NoError(t, err)
	for _, id := range append(ids, groups...) {
		if len(parents[id]) > 0 {
			v.Parents += fmt.Sprintf("%s:%v ", id, parents[id])
		}
	}
	found, err := s.FindSourceGroups(ctx, job, []string{"engineering", "SALES", "G3", "Staff", "G5", "ops"})
	require.NoError(t, err)
	v.Found = fmt.Sprint(found)
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		w, err := s.Watermark(ctx, job, typ)
		require.NoError(t, err)
		v.Watermarks += w + "|"
	}
	// Small pages, so that paging meets the overlay's marks and clears.
	for _, w := range []struct {
		work store.Work
		typ  connectors.ObjectType
	}{{store.MembershipWork, connectors.Group}, {store.ReferenceWork, connectors.User}} {
		after := ""
		for {
			page, err := s.Pending(ctx, job, w.work, w.typ, after, 4)
			require.NoError(t, err)
			v.Pending += fmt.Sprint(page)
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1]
		}
		v.Pending += "|"
	}
	refs, err := s.Referrers(ctx, job, []string{"A", "N"})
	require.NoError(t, err)
	v.Referrers = fmt.Sprint(refs[connectors.User], refs[connectors.Group])
	return v
}

// dump returns every row of every table of a SQLite state file.
func dump(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = fmt.Sprintf("%s=%s", c, vals[i])
			}
			out[table] = append(out[table], strings.Join(row, " "))
		}
		require.NoError(t, rows.Err())
		slices.Sort(out[table])
	}
	return out
}

// jobState keeps the rows of the job's own state: those of other jobs
// (the overlay's names) and of the dry run's cycle go.
func jobState(rows map[string][]string) map[string][]string {
	out := map[string][]string{}
	for table, list := range rows {
		for _, r := range list {
			if strings.HasPrefix(r, "job="+job+" ") && !strings.Contains(r, "cycle="+cycle.ID+" ") {
				out[table] = append(out[table], r)
			}
		}
	}
	return out
}

// A dry run's writes of every kind answer as they would from the job's
// own store, and leave the job's state as it was; the end of its cycle
// leaves no trace.
func TestWritesStayInTheOverlay(t *testing.T) {
	ctx := t.Context()
	plain, _ := open(t)
	live, path := open(t)
	fill(t, plain)
	fill(t, live)
	before := dump(t, path)
	dry := dryrun.New(live, cycle.ID)
	require.Equal(t, viewOf(t, plain), viewOf(t, dry), "reads through to the job's state")

	steps := []struct {
		name string
		do   func(s store.Store) error
	}{
		{"stage and mark seen", func(s store.Store) error {
			if err := s.Stage(ctx, cycle, []store.StagedItem{{Seq: 1, Type: connectors.User, Object: connectors.Object{ID: "B"}}, {Seq: 2, Type: connectors.User, Object: connectors.Object{ID: "C"}}}); err != nil {
				return err
			}
			return s.MarkSeen(ctx, cycle, connectors.User, []string{"A", "B", "N"})
		}},
		{"record states and forget", func(s store.Store) error {
			b := user("B", "tB2", nil)
			n := escrowed(user("N", "tN", map[string]string{"manager": "A"}), now.Add(-time.Minute))
			return s.Record(ctx, cycle, []store.Record{
				{Seq: 1, Outcome: []byte(`"updated"`), State: &b},
				{Seq: 2, Outcome: []byte(`"deleted"`), Forget: true, Type: connectors.User, SourceID: "C"},
				{State: &n},
			})
		}},
		{"put objects", func(s store.Store) error {
			e := user("E", "tE", nil)
			if err := s.PutObject(ctx, job, e); err != nil {
				return err
			}
			return s.PutObject(ctx, job, store.ObjectState{Type: connectors.Group, SourceID: "G1", SourceHash: "new", TargetID: "tG1", Active: true, Members: []string{"tA", "tB2"}})
		}},
		{"watermarks", func(s store.Store) error {
			if err := s.SetWatermark(ctx, job, connectors.User, "w2"); err != nil {
				return err
			}
			return s.SetWatermark(ctx, job, connectors.Group, "")
		}},
		{"source groups", func(s store.Store) error {
			if err := s.PutSourceGroups(ctx, job, []store.SourceGroup{
				{ID: "G1", Name: "Staff", Members: []string{"B", "N"}, Hash: "g1'"},
				{ID: "G5", Name: "Support", Members: []string{"A", "G1"}, Hash: "g5"},
			}); err != nil {
				return err
			}
			return s.DeleteSourceGroups(ctx, job, []string{"G2"})
		}},
		{"pending work", func(s store.Store) error {
			if err := s.ClearPending(ctx, job, store.MembershipWork, connectors.Group, []string{"G1"}); err != nil {
				return err
			}
			if err := s.MarkPending(ctx, job, store.MembershipWork, connectors.Group, []string{"G5", "G2"}); err != nil {
				return err
			}
			if err := s.ClearPending(ctx, job, store.ReferenceWork, connectors.User, []string{"P00", "P03", "P04", "P05", "P06", "P07", "P08", "P20"}); err != nil {
				return err
			}
			return s.MarkPending(ctx, job, store.ReferenceWork, connectors.User, []string{"P04", "P10b", "Q"})
		}},
		{"reset escrows and watermarks", func(s store.Store) error {
			return s.Reset(ctx, job, store.ResetScope{Escrows: true, Watermark: true})
		}},
		{"escrow after the reset", func(s store.Store) error {
			return s.PutObject(ctx, job, escrowed(user("F", "", nil), now.Add(-time.Second)))
		}},
		{"forget the groups a complete read did not see", func(s store.Store) error {
			// As fetch does: every group read is recorded, then marked seen.
			if err := s.PutSourceGroups(ctx, job, []store.SourceGroup{{ID: "G3", Name: "Everyone", Members: []string{"A", "G5"}, Hash: "g3'"}}); err != nil {
				return err
			}
			if err := s.MarkSeen(ctx, cycle, connectors.Group, []string{"G1", "G3", "G5"}); err != nil {
				return err
			}
			_, err := s.ForgetUnseenGroups(ctx, cycle)
			return err
		}},
		{"reset the connector data store", func(s store.Store) error {
			if err := s.Reset(ctx, job, store.ResetScope{ConnectorDataStore: true}); err != nil {
				return err
			}
			a := user("A", "tA", map[string]string{"manager": "N"})
			if err := s.PutObject(ctx, job, a); err != nil {
				return err
			}
			if err := s.PutSourceGroups(ctx, job, []store.SourceGroup{{ID: "G4", Name: "Engineering", Members: []string{"A"}}}); err != nil {
				return err
			}
			return s.MarkPending(ctx, job, store.ReferenceWork, connectors.User, []string{"A"})
		}},
	}
	for _, step := range steps {
		require.NoError(t, step.do(plain), step.name)
		require.NoError(t, step.do(dry), step.name)
		require.Equal(t, viewOf(t, plain), viewOf(t, dry), "after %s", step.name)
		require.Equal(t, jobState(before), jobState(dump(t, path)), "the job's state after %s", step.name)
	}
	staged, err := dry.Staged(ctx, cycle, 1, 2)
	require.NoError(t, err)
	require.Equal(t, `"deleted"`, string(staged[1].Outcome), "outcomes are recorded in the dry run's staging area")

	other := dryrun.New(live, "preview-2")
	require.Equal(t, viewOf(t, plain), viewOf(t, dryrun.New(live, cycle.ID)), "the cycle's activities share its overlay")
	w, err := other.Watermark(ctx, job, connectors.User)
	require.NoError(t, err)
	require.Equal(t, "w1", w, "another dry run has its own")

	require.NoError(t, dry.EndCycle(ctx, store.Cycle{Job: job, ID: "another cycle"}))
	require.NotEqual(t, before, dump(t, path), "only the end of its own cycle drops the overlay")
	require.NoError(t, dry.EndCycle(ctx, cycle))
	require.Equal(t, before, dump(t, path), "nothing of the dry run is left")
}

// The hashes of groups the dry run has not recorded read as unknown, so
// that a read records every group it reads in the overlay.
func TestGroupHashesAreTheOverlays(t *testing.T) {
	live, _ := open(t)
	fill(t, live)
	dry := dryrun.New(live, cycle.ID)
	ctx := t.Context()
	hashes, err := dry.SourceGroupHashes(ctx, job, []string{"G1", "G2"})
	require.NoError(t, err)
	require.Empty(t, hashes)
	require.NoError(t, dry.PutSourceGroups(ctx, job, []store.SourceGroup{{ID: "G1", Name: "Engineering", Members: []string{"A", "B"}, Hash: "g1"}}))
	hashes, err = dry.SourceGroupHashes(ctx, job, []string{"G1", "G2"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"G1": "g1"}, hashes)
}
