package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// BenchSnapshotMarks drives a store the way a snapshot read of n known
// objects does when it compares every object: each page of 1,000 IDs, in
// an order that is not the IDs' own, is marked seen; then the objects the
// read did not return, 1% of them, are listed. It reports the wall time
// (a server's work is in another process) per object read, for the marks
// and for the listing.
func BenchSnapshotMarks(b *testing.B, open func(b *testing.B) store.Store, n int) {
	const page = 1000
	ctx := b.Context()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%07d", i)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	var marking, listing time.Duration
	b.StopTimer()
	for k := range b.N {
		s := open(b)
		job := fmt.Sprint("bench-", k)
		for from := 0; from < n; from += page {
			recs := make([]store.Record, 0, page)
			for _, id := range ids[from:min(from+page, n)] {
				recs = append(recs, store.Record{State: &store.ObjectState{Type: connectors.User, SourceID: id, SourceHash: "3f2a9c0d1e", TargetID: "t-" + id, Active: true, UpdatedAt: time.Now()}})
			}
			require.NoError(b, s.Record(ctx, store.Cycle{Job: job, ID: "1"}, recs))
		}
		c := store.Cycle{Job: job, ID: "2"}
		read := ids[:n-n/100]
		start := time.Now()
		for from := 0; from < len(read); from += page {
			require.NoError(b, s.MarkSeen(ctx, c, connectors.User, read[from:min(from+page, len(read))]))
		}
		marking += time.Since(start)
		start = time.Now()
		unseen := 0
		require.NoError(b, s.Unseen(ctx, c, connectors.User, func(store.ObjectState) error { unseen++; return nil }))
		listing += time.Since(start)
		require.Equal(b, n/100, unseen)
		require.NoError(b, s.EndCycle(ctx, c))
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n*b.N) }
	b.ReportMetric(per(marking), "ns/mark")
	b.ReportMetric(per(listing), "ns/listed")
	b.ReportMetric(per(marking+listing), "ns/object")
}

// BenchConcurrentRecords drives a store the way push steps record their
// objects' pending operations: 64 callers at once, each writing one
// object's state, then waiting a millisecond (its push) before the next.
// It reports the process's CPU time and the wall time per write.
func BenchConcurrentRecords(b *testing.B, s store.Store) {
	const callers, each = 64, 100
	ctx := b.Context()
	c := store.Cycle{Job: "bench", ID: "1"}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for k := range b.N {
		var wg sync.WaitGroup
		for w := range callers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprint("E", k, "-", w, "-", i)
					st := &store.ObjectState{Type: connectors.User, SourceID: id, TargetID: "t-" + id, Active: true,
						Pushed:    connectors.Attributes{"userName": id, "displayName": "User " + id, "title": "Engineer", "department": "Engineering"},
						Operation: &store.Operation{ChangeID: "1-" + id, Action: audit.Update, Time: time.Now()}}
					if err := s.Record(ctx, c, []store.Record{{State: st}}); err != nil {
						b.Error(err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
	}
	writes := float64(callers * each * b.N)
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/writes, "cpu-ns/write")
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/writes, "ns/write")
}
