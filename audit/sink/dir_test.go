package sink_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/sink"
)

// unitEntries makes n entries of one unit.
func unitEntries(u sink.Unit, n int) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{
			Job: u.Job, CycleID: u.ID, ChangeID: fmt.Sprintf("%s-%d", u.ID, i+1), ObjectType: "User",
			SourceID: fmt.Sprintf("E%d", i+1), Action: audit.Create, Status: audit.Success, Time: u.Time.Add(-time.Duration(n-i) * time.Second),
		}
	}
	return out
}

// reader yields entries and fails after failAfter of them when it is set;
// reads counts its calls.
type reader struct {
	entries   []audit.Entry
	failAfter int
	reads     int
}

func (r *reader) read(fn func(audit.Entry) error) error {
	r.reads++
	for i, e := range r.entries {
		if r.failAfter > 0 && i == r.failAfter {
			return errors.New("history read failed")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func readAll(t *testing.T, dir, job string, since time.Time) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	require.NoError(t, sink.Read(dir, job, since, func(e audit.Entry) error {
		out = append(out, e)
		return nil
	}))
	return out
}

func changeIDs(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ChangeID
	}
	return out
}

func nothingSaved(sink.Checkpoint) {}

// A unit's file appears whole or not at all: an export that fails, or a
// worker that dies mid-write, leaves no entry behind, and an export tried
// again after it succeeded reads nothing and writes nothing.
func TestDirHoldsEachUnitOnce(t *testing.T) {
	dir := t.TempDir()
	d, err := sink.NewDir(dir)
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "3-abc_run1", Time: time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)}
	r := &reader{entries: unitEntries(u, 5), failAfter: 3}
	ctx := context.Background()

	_, err = sink.Export(ctx, []sink.Sink{d}, u, nil, r.read, nothingSaved)
	require.ErrorContains(t, err, "history read failed")
	require.Empty(t, readAll(t, dir, "hr", time.Time{}))

	// A worker killed mid-write leaves only its temporary file.
	w, err := d.Begin(ctx, u, 0, func(int) {})
	require.NoError(t, err)
	require.NoError(t, w.Write(ctx, r.entries[0]))
	require.Empty(t, readAll(t, dir, "hr", time.Time{}))

	r.failAfter = 0
	n, err := sink.Export(ctx, []sink.Sink{d}, u, nil, r.read, nothingSaved)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	require.Equal(t, changeIDs(r.entries), changeIDs(readAll(t, dir, "hr", time.Time{})))
	files, err := os.ReadDir(filepath.Join(dir, "hr", "2025-03-04"))
	require.NoError(t, err)
	require.Len(t, files, 1, "the dead attempt's temporary file is gone")
	require.Equal(t, "103000_3-abc_run1.jsonl", files[0].Name())

	// Tried again, from no checkpoint: the file is found, history not read.
	reads := r.reads
	n, err = sink.Export(ctx, []sink.Sink{d}, u, nil, r.read, nothingSaved)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, reads, r.reads)
	require.Len(t, readAll(t, dir, "hr", time.Time{}), 5)
}

// Two attempts of the same export at once (a worker thought dead that
// still runs) leave one copy.
func TestDirConcurrentAttempts(t *testing.T) {
	dir := t.TempDir()
	d, err := sink.NewDir(dir)
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "7-abc_run1", Time: time.Now()}
	entries := unitEntries(u, 200)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = sink.Export(context.Background(), []sink.Sink{d}, u, nil, (&reader{entries: entries}).read, nothingSaved)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, changeIDs(entries), changeIDs(readAll(t, dir, "hr", time.Time{})))
}

// Reading with since opens no folder of a day before it but the one day
// before, whose entries may be timed by a clock ahead of the server's.
func TestReadSkipsDaysBeforeSince(t *testing.T) {
	dir := t.TempDir()
	d, err := sink.NewDir(dir)
	require.NoError(t, err)
	day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var all []audit.Entry
	for i := range 5 {
		u := sink.Unit{Job: "hr", ID: fmt.Sprintf("%d-abc_run", i+1), Time: day.AddDate(0, 0, i)}
		r := &reader{entries: unitEntries(u, 3)}
		_, err := sink.Export(context.Background(), []sink.Sink{d}, u, nil, r.read, nothingSaved)
		require.NoError(t, err)
		all = append(all, r.entries...)
	}
	// Another job's folder is not read.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "other", "2025-03-05"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other", "2025-03-05", "000000_x.jsonl"), []byte("{broken\n"), 0o640))
	corrupt := filepath.Join(dir, "hr", "2025-03-01", "235959_broken.jsonl")
	require.NoError(t, os.WriteFile(corrupt, []byte("{\"changeId\":\"ok\"}\n{broken\n"), 0o640))

	err = sink.Read(dir, "hr", time.Time{}, func(audit.Entry) error { return nil })
	require.ErrorContains(t, err, corrupt+" line 2")

	got := readAll(t, dir, "hr", day.AddDate(0, 0, 2).Add(3*time.Hour))
	require.Equal(t, changeIDs(all[3:]), changeIDs(got), "from the day before since, in day order")

	require.Empty(t, readAll(t, dir, "nobody", time.Time{}))
	require.ErrorContains(t, sink.Read(filepath.Join(dir, "missing"), "hr", time.Time{}, func(audit.Entry) error { return nil }), "audit folder")
}

// Thirty days of a cycle every 40 minutes, read for one object: an
// answer in seconds.
func TestReadThirtyDaysOfCyclesQuickly(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a month of log files")
	}
	dir := t.TempDir()
	d, err := sink.NewDir(dir)
	require.NoError(t, err)
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	units := 0
	for at := start; at.Before(start.AddDate(0, 0, 30)); at = at.Add(40 * time.Minute) {
		units++
		u := sink.Unit{Job: "hr", ID: fmt.Sprintf("%d-abc_run", units), Time: at}
		_, err := sink.Export(context.Background(), []sink.Sink{d}, u, nil, (&reader{entries: unitEntries(u, 50)}).read, nothingSaved)
		require.NoError(t, err)
	}
	require.Equal(t, 30*36, units)
	began := time.Now()
	n := 0
	f := audit.Filter{Object: "E17"}
	require.NoError(t, sink.Read(dir, "hr", time.Time{}, func(e audit.Entry) error {
		if f.Match(e) {
			n++
		}
		return nil
	}))
	took := time.Since(began)
	require.Equal(t, units, n)
	require.Less(t, took, 5*time.Second, "read %d entries in %s", units*50, took)
	t.Logf("read %d entries of %d files in %s", units*50, units, took)
}

// Unit IDs name files: what a file name cannot hold is replaced, and a
// hash keeps IDs that differ there apart.
func TestUnitID(t *testing.T) {
	require.Equal(t, "3-abc_0f1e-22", sink.UnitID("3-abc", "0f1e-22"))
	a, b := sink.UnitID("rollback-a/b", "r"), sink.UnitID("rollback-a:b", "r")
	require.NotEqual(t, a, b)
	require.Regexp(t, `^[A-Za-z0-9][A-Za-z0-9._-]*$`, a)
	require.Regexp(t, `^[A-Za-z0-9][A-Za-z0-9._-]*$`, sink.UnitID("../x", "r"))
}
