package activities_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// digestWorld is a worker and its state store, fetching one job.
type digestWorld struct {
	st   *countingStore
	acts *activities.Activities
	env  *testsuite.TestActivityEnvironment
}

func newDigestWorld(t *testing.T, digests bool) *digestWorld {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	cs := &countingStore{Store: st}
	acts := activities.New(cs, log)
	if !digests {
		acts.Digests = nil
	}
	t.Cleanup(func() { acts.Connections.Close() })
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &digestWorld{st: cs, acts: acts, env: env}
}

// countingStore counts the source IDs whose fingerprints a fetch reads.
type countingStore struct {
	store.Store
	looked atomic.Int64
}

func (c *countingStore) Fingerprints(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.Fingerprint, error) {
	c.looked.Add(int64(len(ids)))
	return c.Store.Fingerprints(ctx, job, t, ids)
}

// staged returns a cycle's staged items, in ID order.
func (w *digestWorld) staged(t *testing.T, c store.Cycle, n int) []store.StagedItem {
	items, err := w.st.Staged(context.Background(), c, 1, n)
	require.NoError(t, err)
	require.Len(t, items, n)
	slices.SortFunc(items, func(a, b store.StagedItem) int {
		return cmp.Or(strings.Compare(a.Object.ID, b.Object.ID), strings.Compare(a.Object.Invalid, b.Object.Invalid))
	})
	for i := range items {
		// A due escrow whose row did not change is staged as the escrow
		// holds it, with the row number of the read that escrowed it.
		items[i].Seq, items[i].Object.Locator = 0, ""
	}
	return items
}

// provisioned records what a cycle's staged items came to, as a batch
// does: the new state of most, an escrow for some (due now or later), and
// settles the cycle as FinishCycle does.
func (w *digestWorld) provision(t *testing.T, c store.Cycle, items []store.StagedItem, rng *rand.Rand) {
	ctx := context.Background()
	var recs []store.Record
	known, err := w.st.Objects(ctx, c.Job, connectors.User, idsOf(items))
	require.NoError(t, err)
	for i, it := range items {
		o := it.Object
		st := known[o.ID]
		st.Type, st.SourceID, st.UpdatedAt = connectors.User, o.ID, time.Now()
		switch r := rng.IntN(10); {
		case o.Invalid != "":
			continue
		case r == 0:
			st.Escrow = &store.Escrow{Attempts: 1, Code: "Timeout", Object: o, RetryAfter: time.Now().Add(-time.Minute)}
		case r == 1:
			st.Escrow = &store.Escrow{Attempts: 1, Code: "Timeout", Object: o, RetryAfter: time.Now().Add(time.Hour)}
		default:
			st.Escrow = nil
			st.SourceHash = engine.Fingerprint(o.Attributes, o.Disabled, o.Deleted, o.Members)
			st.Active = !o.Disabled && o.Attributes["employeeType"] == "Employee"
			if st.Active && st.TargetID == "" {
				st.TargetID = "t-" + o.ID
			}
		}
		recs = append(recs, store.Record{Seq: i + 1, State: &st})
	}
	require.NoError(t, w.st.Record(ctx, c, recs))
	require.NoError(t, w.st.SettleCycle(ctx, c))
	require.NoError(t, w.st.EndCycle(ctx, c))
}

func idsOf(items []store.StagedItem) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Object.ID
	}
	return ids
}

// A fetch that compares with the digest of the last settled cycle's read
// stages exactly what a fetch that compares every row with the store
// stages, cycle after cycle: rows changed, added, removed, disabled,
// moved, malformed or duplicated, escrows due and not due, and a state
// written outside any cycle. Unchanged rows are not looked up in the
// store. Twelve series of sixteen cycles (three in -short), of a CSV
// export and of the same export as JSON Lines.
func TestDigestFetchStagesAsAFullCompare(t *testing.T) {
	series := uint64(12)
	if testing.Short() {
		series = 3
	}
	for _, format := range []string{file.CSV, file.JSONL} {
		for seed := range series {
			t.Run(fmt.Sprint(format, " seed ", seed), func(t *testing.T) { digestFetchStagesAsAFullCompare(t, format, seed) })
		}
	}
}

func digestFetchStagesAsAFullCompare(t *testing.T, format string, seed uint64) {
	withDigests, without := newDigestWorld(t, true), newDigestWorld(t, false)
	path := filepath.Join(t.TempDir(), "hr."+format)
	job := fetchBenchJob(path, "http://127.0.0.1:1/scim/v2")
	job.Source.Connector.(*file.Config).Format = format
	writeExport := writeExport
	if format == file.JSONL {
		writeExport = writeExportJSONL
	}
	staff := hrexport.Generate(400, 7+seed)
	rng := rand.New(rand.NewPCG(1, 2+seed))
	next := 400

	for cycle := range 16 {
		c := store.Cycle{Job: job.Name, ID: fmt.Sprint("c", cycle)}
		changed := 0
		if cycle > 0 {
			staff, changed = mutate(staff, rng, &next)
		}
		rows := slices.Clone(staff)
		broken := ""
		if cycle%4 == 3 {
			// A row with another's ID, which fails alone, and a row that
			// cannot be read, which must not look like a person gone.
			rows = append(rows, hrexport.Employee{ID: staff[0].ID, UserName: "twin"})
			broken = rows[1].ID
			rows = slices.Delete(rows, 1, 2)
		}
		writeExport(t, path, rows)
		if broken != "" {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			line := fmt.Sprintf("%s,too few fields\n", broken)
			if format == file.JSONL {
				line = fmt.Sprintf(`{"employeeId":%q,"office":{"floor":2}}`+"\n", broken)
			}
			_, err = f.WriteString(line)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
		if cycle == 6 {
			// A state written outside any cycle: the next fetch cannot
			// trust the digest, and must find the row changed.
			for _, w := range []*digestWorld{withDigests, without} {
				st, err := w.st.Objects(context.Background(), job.Name, connectors.User, []string{staff[5].ID})
				require.NoError(t, err)
				o := st[staff[5].ID]
				o.SourceHash = "written on demand"
				require.NoError(t, w.st.PutObject(context.Background(), job.Name, o))
			}
		}

		withDigests.st.looked.Store(0)
		// Pages of 40 rows: the source builds only the changed rows of the
		// pages after the first, once the digest is loaded.
		a := fetchPaged(t, withDigests.env, job, c, cycle == 0, 40)
		b := fetchPaged(t, without.env, job, c, cycle == 0, 40)
		require.Equal(t, b, a, "cycle %d", cycle)
		itemsA, itemsB := withDigests.staged(t, c, a.Staged), without.staged(t, c, b.Staged)
		require.Equal(t, itemsB, itemsA, "cycle %d", cycle)
		if cycle > 0 && cycle != 6 && cycle != 7 {
			require.LessOrEqual(t, withDigests.st.looked.Load(), int64(changed+2),
				"cycle %d: only changed rows are looked up", cycle)
		}
		seed := rng.Uint64()
		withDigests.provision(t, c, itemsA, rand.New(rand.NewPCG(seed, 0)))
		without.provision(t, c, itemsB, rand.New(rand.NewPCG(seed, 0)))
	}
}

// mutate changes, disables, scopes out or in, removes, adds and moves
// rows, and returns
// how many rows it touched.
func mutate(staff []hrexport.Employee, rng *rand.Rand, next *int) ([]hrexport.Employee, int) {
	staff = slices.Clone(staff)
	touched := 0
	for range 6 {
		i := rng.IntN(len(staff))
		staff[i].JobTitle += " II"
		touched++
	}
	for range 2 {
		flip(&staff[rng.IntN(len(staff))].Status, "Active", "Inactive")
		// Out of scope, or back in.
		flip(&staff[rng.IntN(len(staff))].EmployeeType, "Employee", "Contractor")
		touched += 2
	}
	for range 3 {
		i := rng.IntN(len(staff))
		staff = slices.Delete(staff, i, i+1)
	}
	for range 3 {
		*next++
		e := hrexport.Generate(1, uint64(*next))[0]
		e.ID = fmt.Sprintf("N%05d", *next)
		e.UserName += fmt.Sprint(*next)
		staff = append(staff, e)
		touched++
	}
	if rng.IntN(3) == 0 {
		// The export sorted otherwise: rows move, none changes.
		i, j := rng.IntN(len(staff)), rng.IntN(len(staff))
		staff[i], staff[j] = staff[j], staff[i]
	}
	return staff, touched
}

// A fetch retried while its read compared with a digest reads the type
// again from its first page: the first attempt's place in the read does
// not tell which of the prior read's objects it returned.
func TestRetriedDigestFetchReadsAgain(t *testing.T) {
	withDigests, without := newDigestWorld(t, true), newDigestWorld(t, false)
	path := filepath.Join(t.TempDir(), "hr.csv")
	job := fetchBenchJob(path, "http://127.0.0.1:1/scim/v2")
	staff := hrexport.Generate(300, 3)
	writeExport(t, path, staff)
	seed := store.Cycle{Job: job.Name, ID: "c0"}
	for _, w := range []*digestWorld{withDigests, without} {
		res := fetch(t, w.env, job, seed, true)
		w.provision(t, seed, w.staged(t, seed, res.Staged), rand.New(rand.NewPCG(9, 9)))
	}
	staff, _ = mutate(staff, rand.New(rand.NewPCG(4, 4)), new(int))
	writeExport(t, path, staff)

	c := store.Cycle{Job: job.Name, ID: "c1"}
	want := fetch(t, without.env, job, c, false)
	retried := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	retried.RegisterActivity(withDigests.acts)
	// As the first attempt heartbeat it two pages in, having staged three.
	retried.SetHeartbeatDetails(activities.FetchProgress{Cursor: "page 3", Seq: 3, Read: 200, Skipping: true,
		Watermarks: map[connectors.ObjectType]string{}})
	got := fetch(t, retried, job, c, false)
	require.Equal(t, want, got)
	require.Equal(t, without.staged(t, c, want.Staged), withDigests.staged(t, c, got.Staged))
}

// versionedSource is a snapshot source, registered as any connector is,
// whose data is its Version's objects: a read given that version's
// watermark is answered Unchanged, as a report server answers 304.
type versionedSource struct {
	snapshotSource
	Name string
}

var versions sync.Map // name -> versionedData

type versionedData struct {
	version string
	objects []connectors.Object
}

func init() {
	connectors.RegisterSource("test-versioned", func() connectors.SourceConfig { return &versionedSource{} })
}

func (c versionedSource) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return c, nil
}

func (c versionedSource) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	v, _ := versions.Load(c.Name)
	d := v.(versionedData)
	if req.Since == d.version {
		return connectors.Page{Unchanged: true, Watermark: req.Since}, nil
	}
	return connectors.Page{Objects: slices.Clone(d.objects), Watermark: d.version}, nil
}

// A snapshot found unchanged between two reads with digests neither loses
// the digest nor makes every object look absent: the read after it
// compares with the digest still, and stages only what changed.
func TestUnchangedSnapshotKeepsTheDigest(t *testing.T) {
	w := newDigestWorld(t, true)
	job := fetchBenchJob(filepath.Join(t.TempDir(), "unused.csv"), "http://127.0.0.1:1/scim/v2")
	job.Source.Connector = &versionedSource{Name: t.Name()}
	var objs []connectors.Object
	for _, e := range hrexport.Generate(50, 5) {
		objs = append(objs, connectors.Object{ID: e.ID, Attributes: connectors.Attributes{
			"employeeId": e.ID, "userName": e.UserName, "displayName": e.DisplayName, "employeeType": "Employee", "status": "Active"}})
	}
	versions.Store(t.Name(), versionedData{"v1", objs})
	rng := rand.New(rand.NewPCG(1, 1))
	cycle := func(id string, initial bool) activities.FetchResult {
		c := store.Cycle{Job: job.Name, ID: id}
		w.st.looked.Store(0)
		res := fetch(t, w.env, job, c, initial)
		items := w.staged(t, c, res.Staged)
		for i := range items {
			items[i].Object.Locator = ""
		}
		w.provision(t, c, items, rand.New(rand.NewPCG(rng.Uint64(), 0)))
		require.NoError(t, w.st.SetWatermark(context.Background(), job.Name, connectors.User, res.Watermarks[connectors.User]))
		return res
	}
	cycle("c0", true)
	unchanged := cycle("c1", false)
	require.Zero(t, unchanged.Deleted)
	require.Zero(t, unchanged.Removals)

	changed := slices.Clone(objs)
	changed[7].Attributes = connectors.Attributes{"employeeId": objs[7].ID, "userName": "renamed", "employeeType": "Employee", "status": "Active"}
	changed = slices.Delete(changed, 9, 10)
	versions.Store(t.Name(), versionedData{"v2", changed})
	res := cycle("c2", false)
	require.Equal(t, 1, res.Deleted, "the one row gone")
	require.GreaterOrEqual(t, res.Staged, 2)
	require.LessOrEqual(t, w.st.looked.Load(), int64(1), "only the changed row is looked up")
}

// flip makes v b when it is a, and a otherwise.
func flip(v *string, a, b string) {
	if *v == a {
		*v = b
	} else {
		*v = a
	}
}

// writeExportJSONL writes the export as JSON Lines, one object per
// employee with the CSV export's columns.
func writeExportJSONL(b testing.TB, path string, staff []hrexport.Employee) {
	b.Helper()
	var out []byte
	for _, e := range staff {
		values := []string{e.ID, e.UserName, e.GivenName, e.Surname, e.DisplayName, e.Email,
			e.Department, e.JobTitle, e.ManagerID, e.Status, e.Office, e.EmployeeType}
		m := make(map[string]string, len(values))
		for i, col := range hrexport.Columns {
			m[col] = values[i]
		}
		line, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		out = append(append(out, line...), '\n')
	}
	if err := os.WriteFile(path+".tmp", out, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
}
