package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// snapshotPages is a snapshot source read in the pages it holds; the
// cursor is the next page's number.
type snapshotPages [][]connectors.Object

func (snapshotPages) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }
func (p snapshotPages) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	n, _ := strconv.Atoi(req.Cursor)
	page := connectors.Page{Objects: p[n]}
	if n+1 < len(p) {
		page.Cursor = strconv.Itoa(n + 1)
	}
	return page, nil
}
func (snapshotPages) Close() error { return nil }

// BenchmarkIncrementalCompare compares a snapshot of 100,000 rows, 1% of
// them changed, with the fingerprints the store holds of them.
func BenchmarkIncrementalCompare(b *testing.B) {
	const rows, page = 100000, 1000
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	job := config.Job{Name: "bench", Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User",
		Attributes: []mapping.AttributeMapping{{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1}}}}}}
	var pages snapshotPages
	var states []store.Record
	for i := range rows {
		o := connectors.Object{ID: fmt.Sprintf("E%07d", i), Attributes: connectors.Attributes{
			"employeeId": fmt.Sprintf("E%07d", i), "givenName": "Ann", "surname": fmt.Sprint("Smith", i), "mail": fmt.Sprintf("u%d@example.com", i),
			"department": "Engineering", "jobTitle": "Engineer", "manager": "E0000001", "status": "Active", "city": "Springfield"}}
		states = append(states, store.Record{State: &store.ObjectState{Type: connectors.User, SourceID: o.ID, SourceHash: sourceHash(o, false), TargetID: "t" + o.ID, Active: true,
			Pushed: connectors.Attributes{"userName": o.Attributes["mail"]}}})
		if i%100 == 0 {
			o.Attributes["jobTitle"] = "Lead"
		}
		if i%page == 0 {
			pages = append(pages, nil)
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], o)
	}
	if err := st.Record(ctx, store.Cycle{Job: "bench", ID: "0"}, states); err != nil {
		b.Fatal(err)
	}
	e := New(Config{Store: st, Job: &job, Source: pages})
	b.ResetTimer()
	for n := range b.N {
		c := store.Cycle{Job: "bench", ID: fmt.Sprint(n + 1)}
		s, err := e.Stager(ctx, c, false, ReadStep{Type: connectors.User})
		if err != nil {
			b.Fatal(err)
		}
		seq, cursor := 0, ""
		for more := true; more; more = cursor != "" {
			page, err := pages.Read(ctx, connectors.ReadRequest{Type: connectors.User, Cursor: cursor})
			if err != nil {
				b.Fatal(err)
			}
			counts, err := s.Page(ctx, page.Objects, seq)
			if err != nil {
				b.Fatal(err)
			}
			seq, cursor = seq+counts.Staged, page.Cursor
		}
		if _, _, err := s.Absent(ctx, seq); err != nil {
			b.Fatal(err)
		}
		if seq != rows/100 {
			b.Fatalf("staged %d", seq)
		}
		b.StopTimer()
		if err := st.EndCycle(ctx, c); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/compare")
}
