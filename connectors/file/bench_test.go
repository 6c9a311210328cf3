package file

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/examples/hrexport"
)

const benchRows = 100_000

// hrFile writes the generated HR export of benchRows employees.
func hrFile(b *testing.B) Config { return hrFileOf(b, benchRows) }

// hrFileOf writes the generated HR export of rows employees.
func hrFileOf(b *testing.B, rows int) Config {
	b.Helper()
	path := filepath.Join(b.TempDir(), "hr.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := hrexport.WriteCSV(f, rows, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return Config{Path: path, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"}}
}

// BenchmarkRead100k reads a 100,000-row HR export in pages of 1,000.
func BenchmarkRead100k(b *testing.B) { benchRead(b, benchRows) }

// BenchmarkRead1M reads a 1,000,000-row HR export in pages of 1,000.
func BenchmarkRead1M(b *testing.B) { benchRead(b, 1_000_000) }

func benchRead(b *testing.B, rows int) {
	cfg := hrFileOf(b, rows)
	b.ReportAllocs()
	// live is what the read holds before its last page, once: its set of
	// IDs and its row index at their largest.
	var live float64
	before := heapAlloc()
	for b.Loop() {
		n := 0
		s := open(b, cfg)
		for cursor := ""; ; {
			p, err := s.Read(context.Background(), connectors.ReadRequest{Cursor: cursor, PageSize: 1000})
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Objects)
			if cursor = p.Cursor; cursor == "" {
				break
			}
			if live == 0 && n+1000 >= rows {
				b.StopTimer()
				live = float64(heapAlloc()-before) / 1e6
				b.StartTimer()
			}
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(live, "live-MB")
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkResume100k reads the last page of the export on a fresh source,
// as a retried activity does: the cost of resuming near the end.
func BenchmarkResume100k(b *testing.B) {
	cfg := hrFile(b)
	p, err := open(b, cfg).Read(context.Background(), connectors.ReadRequest{PageSize: benchRows - 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		last, err := open(b, cfg).Read(context.Background(), connectors.ReadRequest{Cursor: p.Cursor, PageSize: 1000})
		if err != nil || len(last.Objects) != 1000 {
			b.Fatalf("%d objects, %v", len(last.Objects), err)
		}
	}
}

// BenchmarkWriteback100k writes back 200 values at once into a 100,000-row
// HR export, as the provisioning of a batch does.
func BenchmarkWriteback100k(b *testing.B) {
	cfg := hrFile(b)
	s := open(b, cfg)
	objs, _, _ := readAll(b, s, benchRows)
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		round++
		var wg sync.WaitGroup
		for i := range 200 {
			id := objs[i*(benchRows/200)].ID
			wg.Go(func() {
				values := connectors.Attributes{"email": fmt.Sprintf("%d.%d@example.com", round, i)}
				if err := s.Write(context.Background(), connectors.User, id, values); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkGet1M gets the last employee of a 1,000,000-row HR export, as
// provisioning a new hire on demand does: through the index of a source
// that has read the file, by the scan of a fresh source (which builds the
// index), and just after a row was appended to the file.
func BenchmarkGet1M(b *testing.B) {
	const rows = 1_000_000
	cfg := hrFileOf(b, rows)
	last := hrexport.Generate(rows, 1)[rows-1].ID
	ctx := context.Background()
	get := func(b *testing.B, s *Source, id string) {
		if o, err := s.Get(ctx, connectors.User, id, nil); err != nil || o.ID != id {
			b.Fatalf("Get %s: %+v, %v", id, o, err)
		}
	}
	indexed := open(b, cfg)
	get(b, indexed, last) // scans, indexes
	get(b, indexed, last) // sorts the index
	b.Run("indexed", func(b *testing.B) {
		for b.Loop() {
			get(b, indexed, last)
		}
		b.ReportMetric(float64(len(indexed.index.Load().entries)*int(unsafe.Sizeof(rowEntry{})))/1e6, "index-MB")
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			get(b, open(b, cfg), last)
		}
	})
	b.Run("appended", func(b *testing.B) {
		n := 0
		for b.Loop() {
			b.StopTimer()
			n++
			f, err := os.OpenFile(cfg.Path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(f, "N%07d,new.hire%d@example.com,New,Hire,new.hire%d@example.com,Employee,Active,,,,,\n", n, n, n)
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			get(b, indexed, fmt.Sprintf("N%07d", n))
		}
	})
}

// BenchmarkReadHeld100k reads the 100,000-row HR export, as CSV, JSON
// Lines and a JSON array, for a caller that holds none of its records and for one that
// holds every one unchanged (ReadRequest.Unchanged), as an incremental
// fetch against the last read's digest does.
func BenchmarkReadHeld100k(b *testing.B) {
	csvCfg := hrFile(b)
	objs, _, _ := readAll(b, open(b, csvCfg), benchRows)
	jsonl := csvCfg
	jsonl.Path, jsonl.Format = filepath.Join(b.TempDir(), "hr.jsonl"), JSONL
	var lines []byte
	for _, o := range objs {
		line, err := json.Marshal(o.Attributes)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(append(lines, line...), '\n')
	}
	if err := os.WriteFile(jsonl.Path, lines, 0o600); err != nil {
		b.Fatal(err)
	}
	array := jsonl
	array.Path, array.Format = filepath.Join(b.TempDir(), "hr.json"), JSON
	doc := append([]byte("[\n"), bytes.ReplaceAll(bytes.TrimSuffix(lines, []byte("\n")), []byte("}\n{"), []byte("},\n{"))...)
	if err := os.WriteFile(array.Path, append(doc, "\n]\n"...), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, format := range []struct {
		name string
		cfg  Config
	}{{"csv", csvCfg}, {"jsonl", jsonl}, {"json", array}} {
		held := map[string]uint64{}
		for _, o := range objectsOf(readAll(b, open(b, format.cfg), benchRows)) {
			held[o.ID] = o.RecordHash
		}
		for _, holds := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/held=%t", format.name, holds), func(b *testing.B) {
				unchanged := func(id string, h uint64) bool { return holds && held[id] == h }
				b.ReportAllocs()
				for b.Loop() {
					s := open(b, format.cfg)
					for cursor := ""; ; {
						p, err := s.Read(context.Background(), connectors.ReadRequest{Cursor: cursor, PageSize: 1000, Unchanged: unchanged})
						if err != nil {
							b.Fatal(err)
						}
						if cursor = p.Cursor; cursor == "" {
							break
						}
					}
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// objectsOf keeps readAll's objects.
func objectsOf(objs []connectors.Object, _ int, _ string) []connectors.Object { return objs }
