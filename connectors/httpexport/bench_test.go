package httpexport_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/internal/testenv/hrreport"
)

const benchRows = 100_000

// hrReport serves the generated HR export of benchRows employees as CSV.
func hrReport(b *testing.B) *hrreport.Server {
	b.Helper()
	var buf bytes.Buffer
	if err := hrexport.WriteCSV(&buf, benchRows, 1); err != nil {
		b.Fatal(err)
	}
	s := hrreport.Start(b)
	s.Set("text/csv", buf.String(), `"v1"`, "")
	return s
}

// BenchmarkRead100k downloads a 100,000-row report over TLS and reads it
// in pages of 1,000.
func BenchmarkRead100k(b *testing.B) {
	s := hrReport(b)
	c := reportConfig(b, s, "/hr.csv", passwordEnv)
	c.IDColumn = "employeeId"
	b.ReportAllocs()
	for b.Loop() {
		objs, _ := readAll(b, open(b, c), "")
		if len(objs) != benchRows {
			b.Fatalf("%d rows", len(objs))
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkUnchanged100k reads the unchanged report from its watermark.
func BenchmarkUnchanged100k(b *testing.B) {
	s := hrReport(b)
	c := reportConfig(b, s, "/hr.csv", passwordEnv)
	c.IDColumn = "employeeId"
	_, last := readAll(b, open(b, c), "")
	src := open(b, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, page := readAll(b, src, last.Watermark); !page.Unchanged {
			b.Fatal("read again")
		}
	}
}

// A report far larger than the memory the read may use is streamed to
// disk, not held: the heap stays small while 128 MB pass through.
func TestLargeReportStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 128 MB")
	}
	const rows = 2_000_000
	s := hrreport.Start(t)
	s.Answer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "Employee_ID,Padding\n")
		line := []byte(fmt.Sprintf(",%054d\n", 0))
		for i := range rows {
			fmt.Fprintf(w, "E%08d", i)
			w.Write(line)
		}
	})
	src := open(t, reportConfig(t, s, "/hr.csv", passwordEnv))
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak.Store(max(peak.Load(), m.HeapInuse))
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	_, err := src.Get(context.Background(), connectors.User, "missing", nil)
	close(done)
	wg.Wait()
	require.ErrorIs(t, err, connectors.ErrNotFound)
	require.Less(t, peak.Load(), uint64(48<<20), "peak heap while 128 MB were read")
}
