//go:build unix

package activities_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/internal/cputime"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// BenchmarkIncrementalFetch runs the fetch of an incremental cycle over the
// generated HR export, as cmd/bench does: the state store holds the
// fingerprints every row had in the previous cycle, and 1% of the rows in
// scope have a new job title. It reports the time spent in each store call
// the fetch makes.
func BenchmarkIncrementalFetch(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows > 100_000 && testing.Short() {
				b.Skip("1M rows in -short mode")
			}
			for _, digests := range []bool{true, false} {
				// Without digests every row is compared with the store.
				b.Run(fmt.Sprintf("digests=%t", digests), func(b *testing.B) { benchIncrementalFetch(b, rows, digests) })
			}
		})
	}
}

// fetchWorld is a job over the generated HR export whose state store
// holds the previous cycle: every row staged, then recorded as
// provisioned.
type fetchWorld struct {
	st    *sqlite.Store
	timed *timedStore
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
	staff []hrexport.Employee
	path  string
	job   config.Job
}

func newFetchWorld(b *testing.B, rows int, target string) *fetchWorld {
	dir := b.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	timed := &timedStore{Store: st, spent: map[string]time.Duration{}}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	acts := activities.New(timed, log)
	b.Cleanup(func() { acts.Connections.Close() })
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	staff := hrexport.Generate(rows, 1)
	path := filepath.Join(dir, "hr.csv")
	writeExport(b, path, staff)
	job := fetchBenchJob(path, target)

	w := &fetchWorld{st: st, timed: timed, acts: acts, env: env, staff: staff, path: path, job: job}
	seed := store.Cycle{Job: job.Name, ID: "seed"}
	res := fetch(b, env, job, seed, true)
	if res.Staged != rows {
		b.Fatalf("seed staged %d of %d", res.Staged, rows)
	}
	w.provision(b, seed, res.Staged)
	return w
}

// provision records a cycle's staged items as provisioned, the in-scope
// ones linked, and ends the cycle as FinishCycle does, settling it.
func (w *fetchWorld) provision(b *testing.B, c store.Cycle, staged int) {
	ctx := context.Background()
	st := w.st
	for from := 1; from <= staged; from += 5000 {
		items, err := st.Staged(ctx, c, from, from+4999)
		if err != nil {
			b.Fatal(err)
		}
		recs := make([]store.Record, len(items))
		for i, it := range items {
			o := it.Object
			st := &store.ObjectState{Type: it.Type, SourceID: o.ID,
				SourceHash: engine.Fingerprint(o.Attributes, o.Disabled, o.Deleted, o.Members), UpdatedAt: time.Now()}
			if o.Attributes["employeeType"] == "Employee" && !o.Disabled {
				st.TargetID, st.Active, st.Pushed = "t-"+o.ID, true, o.Attributes
			}
			recs[i] = store.Record{Seq: it.Seq, State: st}
		}
		if err := st.Record(ctx, c, recs); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.SettleCycle(ctx, c); err != nil {
		b.Fatal(err)
	}
	if err := st.EndCycle(ctx, c); err != nil {
		b.Fatal(err)
	}
}

func benchIncrementalFetch(b *testing.B, rows int, digests bool) {
	w := newFetchWorld(b, rows, "http://127.0.0.1:1/scim/v2")
	if !digests {
		w.acts.Digests = nil
	}
	timed, env, staff, path, job := w.timed, w.env, w.staff, w.path, w.job

	// As cmd/bench does: 1% of the rows, all in scope, spread over the
	// file; each cycle changes them back or again, so that each compares
	// with a provisioned and settled cycle, as one after another do.
	var scope []int
	for i, e := range staff {
		if e.EmployeeType == "Employee" && e.Status == "Active" {
			scope = append(scope, i)
		}
	}
	changed := rows / 100
	titles := make([]string, changed)
	for k := range changed {
		titles[k] = staff[scope[k*len(scope)/changed]].JobTitle
	}

	n, cpu := 0, time.Duration(0)
	clear(timed.spent)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		n++
		for k := range changed {
			i := scope[k*len(scope)/changed]
			if staff[i].JobTitle = titles[k]; n%2 == 1 {
				staff[i].JobTitle = "Acting " + titles[k]
			}
		}
		writeExport(b, path, staff)
		c := store.Cycle{Job: job.Name, ID: fmt.Sprint("c", n)}
		b.StartTimer()
		before := cpuTime()
		res := fetch(b, env, job, c, false)
		cpu += cpuTime() - before
		b.StopTimer()
		if res.Staged != changed || res.Read != rows {
			b.Fatalf("staged %d of %d read, want %d of %d", res.Staged, res.Read, changed, rows)
		}
		w.provision(b, c, res.Staged)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
	for _, k := range timed.names() {
		b.ReportMetric(timed.spent[k].Seconds()/float64(n), k+"-s/op")
	}
}

func fetch(b testing.TB, env *testsuite.TestActivityEnvironment, job config.Job, c store.Cycle, initial bool) activities.FetchResult {
	b.Helper()
	return fetchPaged(b, env, job, c, initial, 0)
}

// fetchPaged runs FetchChanges reading pageSize objects per page (0: the default).
func fetchPaged(b testing.TB, env *testsuite.TestActivityEnvironment, job config.Job, c store.Cycle, initial bool, pageSize int) activities.FetchResult {
	b.Helper()
	v, err := env.ExecuteActivity("FetchChanges", activities.FetchInput{Job: job, Cycle: c, Initial: initial, PageSize: pageSize})
	if err != nil {
		b.Fatal(err)
	}
	var res activities.FetchResult
	if err := v.Get(&res); err != nil {
		b.Fatal(err)
	}
	return res
}

// writeExport writes the export as cmd/bench does.
func writeExport(b testing.TB, path string, staff []hrexport.Employee) {
	b.Helper()
	f, err := os.Create(path + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(hrexport.Columns)
	for _, e := range staff {
		_ = w.Write([]string{e.ID, e.UserName, e.GivenName, e.Surname, e.DisplayName, e.Email,
			e.Department, e.JobTitle, e.ManagerID, e.Status, e.Office, e.EmployeeType})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
}

const benchTokenEnv = "TEST_FETCH_BENCH_TOKEN"

// fetchBenchJob is cmd/bench's job over the export at path, into the SCIM
// application at target.
func fetchBenchJob(path, target string) config.Job {
	return config.Job{
		Name: "fetch-bench",
		Source: config.Source{Connector: &file.Config{
			Path: path, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"},
		}},
		Target:  config.Target{Connector: &scim.Config{BaseURL: target, Token: secrets.Ref{Env: benchTokenEnv}}},
		Objects: []config.Object{{ObjectMapping: hrexport.UserMapping()}},
	}
}

// cpuTime is the CPU time the process has used: with other work on the
// machine, it varies less than the wall time.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

// timedStore adds up the time spent in the store calls a fetch makes.
type timedStore struct {
	store.Store
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (t *timedStore) add(name string, start time.Time) {
	t.mu.Lock()
	t.spent[name] += time.Since(start)
	t.mu.Unlock()
}

func (t *timedStore) names() []string {
	var out []string
	for k := range t.spent {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (t *timedStore) Fingerprints(ctx context.Context, job string, ty connectors.ObjectType, ids []string) (map[string]store.Fingerprint, error) {
	defer t.add("fingerprints", time.Now())
	return t.Store.Fingerprints(ctx, job, ty, ids)
}

func (t *timedStore) MarkSeen(ctx context.Context, c store.Cycle, ty connectors.ObjectType, ids []string) error {
	defer t.add("markseen", time.Now())
	return t.Store.MarkSeen(ctx, c, ty, ids)
}

func (t *timedStore) Stage(ctx context.Context, c store.Cycle, items []store.StagedItem) error {
	defer t.add("stage", time.Now())
	return t.Store.Stage(ctx, c, items)
}

func (t *timedStore) Unseen(ctx context.Context, c store.Cycle, ty connectors.ObjectType, fn func(store.ObjectState) error) error {
	defer t.add("unseen", time.Now())
	return t.Store.Unseen(ctx, c, ty, fn)
}

func (t *timedStore) CountLinked(ctx context.Context, job string, ty connectors.ObjectType) (int, error) {
	defer t.add(strings.ToLower("countlinked"), time.Now())
	return t.Store.CountLinked(ctx, job, ty)
}

// BenchmarkOnDemandNewHire provisions on demand a new hire written at the
// end of a 1,000,000-row export after an incremental cycle read it, as
// cmd/bench does: the export is replaced by one with the new hires
// appended, and each is provisioned in its own request.
func BenchmarkOnDemandNewHire(b *testing.B) {
	if testing.Short() {
		b.Skip("1M rows in -short mode")
	}
	const rows = 1_000_000
	b.Setenv(benchTokenEnv, "token")
	app := sampleapp.New(sampleapp.Options{Token: "token"})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	w := newFetchWorld(b, rows, srv.URL+"/scim/v2")
	fetch(b, w.env, w.job, store.Cycle{Job: w.job.Name, ID: "c1"}, false)
	if err := w.st.EndCycle(context.Background(), store.Cycle{Job: w.job.Name, ID: "c1"}); err != nil {
		b.Fatal(err)
	}
	var hires []hrexport.Employee
	for i := range 200 {
		e := w.staff[i]
		e.ID = fmt.Sprintf("N%06d", i+1)
		e.UserName, e.Email = fmt.Sprintf("new.hire%d@example.com", i+1), fmt.Sprintf("new.hire%d@example.com", i+1)
		e.EmployeeType, e.Status = "Employee", "Active"
		hires = append(hires, e)
	}
	writeExport(b, w.path, append(w.staff, hires...))
	n := 0
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if n == len(hires) {
			b.Fatal("out of new hires")
		}
		id := hires[n].ID
		n++
		v, err := w.env.ExecuteActivity(w.acts.ProvisionOnDemand, activities.OnDemandInput{Job: w.job, Type: connectors.User, SourceID: id, RequestID: id})
		if err != nil {
			b.Fatal(err)
		}
		var res api.OnDemandResult
		if err := v.Get(&res); err != nil {
			b.Fatal(err)
		}
		if e := res.Object(); e.Action != audit.Create || e.Status != audit.Success {
			b.Fatalf("%s: %+v", id, e)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2].Seconds(), "median-s")
	b.ReportMetric(times[len(times)-1].Seconds(), "max-s")
}
