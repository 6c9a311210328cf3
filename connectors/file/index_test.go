package file

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// asRead returns what a full read on a fresh source returns for each ID:
// its first record.
func asRead(t *testing.T, cfg Config) map[string]connectors.Object {
	t.Helper()
	p, err := open(t, cfg).Read(context.Background(), connectors.ReadRequest{Type: cfg.Type, PageSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]connectors.Object{}
	for _, o := range p.Objects {
		if _, dup := out[o.ID]; !dup && !strings.Contains(o.ID, ":") {
			out[o.ID] = o
		}
	}
	return out
}

// getsAsRead checks that s.Get returns for each ID what a full read of the
// file returns now, and NotFound for each of gone.
func getsAsRead(t *testing.T, s *Source, cfg Config, gone ...string) {
	t.Helper()
	want := asRead(t, cfg)
	if len(want) == 0 {
		t.Fatal("no object to get")
	}
	for id, w := range want {
		got, err := s.Get(context.Background(), cfg.Type, id, nil)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Get %s:\n%#v\na full read returns\n%#v", id, got, w)
		}
	}
	for _, id := range gone {
		_, err := s.Get(context.Background(), cfg.Type, id, nil)
		wantNotFound(t, err)
	}
}

// indexedRead reads the whole file with s, which indexes it.
func indexedRead(t *testing.T, s *Source) {
	t.Helper()
	readAll(t, s, 2)
	if s.index.Load() == nil {
		t.Fatal("a complete read left no index")
	}
}

// rewrite replaces the file's content, with a later modification time.
func rewrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// indexFormats are files of each format with the records ID, name:
// E1..E4 in order, with a quoted line break, a duplicate and a record
// without an ID.
var indexFormats = []struct {
	name, file string
	cfg        Config
	records    func(rows ...[2]string) string
}{
	{"csv", "hr.csv", Config{IDColumn: "id"}, func(rows ...[2]string) string {
		var b strings.Builder
		b.WriteString("id,name\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "%s,\"%s\"\n", r[0], r[1])
		}
		return b.String()
	}},
	{"json", "hr.json", Config{IDColumn: "id"}, func(rows ...[2]string) string {
		var recs []string
		for _, r := range rows {
			recs = append(recs, fmt.Sprintf(`{"id": %q, "name": %q}`, r[0], r[1]))
		}
		return "[\n" + strings.Join(recs, ",\n") + "\n]\n"
	}},
	{"recordsPath", "hr.json", Config{IDColumn: "id", RecordsPath: "d.results"}, func(rows ...[2]string) string {
		var recs []string
		for _, r := range rows {
			recs = append(recs, fmt.Sprintf(`{"id": %q, "name": %q}`, r[0], r[1]))
		}
		return `{"d": {"results": [` + strings.Join(recs, ", ") + `], "__count": "4"}}`
	}},
	{"jsonl", "hr.jsonl", Config{IDColumn: "id"}, func(rows ...[2]string) string {
		var b strings.Builder
		for _, r := range rows {
			fmt.Fprintf(&b, "{\"id\": %q, \"name\": %q}\n\n", r[0], r[1])
		}
		return b.String()
	}},
}

var indexRows = [][2]string{{"E1", "Ann\nAnders"}, {"E2", "Bob"}, {"", "no ID"}, {"E3", "Cy"}, {"E2", "Bob again"}, {"E4", "Dee"}}

// Get with an index returns what a full read returns, in every format,
// as the file is regenerated with its rows moved, a row deleted or
// appended.
func TestGetIndexed(t *testing.T) {
	for _, f := range indexFormats {
		t.Run(f.name, func(t *testing.T) {
			cfg := f.cfg
			cfg.Path = writeFile(t, f.file, f.records(indexRows...))
			s := open(t, cfg)
			indexedRead(t, s)
			getsAsRead(t, s, cfg, "E9", "row:3")

			moved := [][2]string{{"E4", "Dee"}, {"E3", "Cy, changed"}, {"E2", "Bob"}, {"E1", "Ann\nAnders"}}
			rewrite(t, cfg.Path, f.records(moved...))
			getsAsRead(t, s, cfg, "E9")

			rewrite(t, cfg.Path, f.records(moved[1:]...))
			getsAsRead(t, s, cfg, "E4")

			if f.name == "csv" || f.name == "jsonl" {
				more := f.records([2]string{"E5", "Eve\n(new)"}, [2]string{"E3", "Cy's duplicate"})
				if f.name == "csv" {
					more = strings.TrimPrefix(more, "id,name\n")
				}
				appendTo(t, cfg.Path, more)
				getsAsRead(t, s, cfg, "E4")
			} else {
				rewrite(t, cfg.Path, f.records(append(moved, [2]string{"E5", "Eve"})...))
				getsAsRead(t, s, cfg)
			}
		})
	}
}

// An entry holds a key's high half and any position up to line 2^40 and
// byte 2^56; past them, a pass fails as it does past 2^32 records, and a
// scan builds no index.
func TestRowEntriesHoldTheirPositions(t *testing.T) {
	for _, c := range []struct {
		k  uint64
		at position
	}{{0, position{}}, {math.MaxUint64, position{n: maxLine, off: maxOffset}}, {0x0123456789abcdef, position{n: 1<<32 + 5, off: 1<<40 + 7}}} {
		e, err := newRowEntry(c.k, c.at)
		if err != nil || e.at() != c.at || e.key() != uint32(c.k>>32) {
			t.Errorf("entry of %x at %+v: key %x at %+v, %v", c.k, c.at, e.key(), e.at(), err)
		}
	}
	for _, at := range []position{{n: maxLine + 1}, {off: maxOffset + 1}, {n: -1}} {
		if _, err := newRowEntry(1, at); err != errLongFile {
			t.Errorf("entry at %+v: %v", at, err)
		}
	}
	x := &indexer{}
	x.add(&record{anchored: true, obj: connectors.Object{ID: "E1"}}, position{n: maxLine + 1})
	if _, err := x.build(nil, fingerprint{}, position{}, CSV); err != errLongFile {
		t.Fatalf("build: %v", err)
	}
	if err := newFirstRecords(&indexer{}).add(1, position{off: maxOffset + 1}, true); err != errLongFile {
		t.Fatalf("a pass past byte 2^56: %v", err)
	}
}

// A Get with no index scans and indexes the file; later Gets use it.
func TestGetBuildsIndex(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", indexFormats[0].records(indexRows...)), IDColumn: "id"}
	s := open(t, cfg)
	if _, err := s.Get(context.Background(), connectors.User, "E1", nil); err != nil {
		t.Fatal(err)
	}
	ix := s.index.Load()
	if ix == nil {
		t.Fatal("a scanning Get left no index")
	}
	getsAsRead(t, s, cfg, "E9")
	if s.index.Load() != ix {
		t.Error("Gets of an unchanged file built the index again")
	}
}

// Rows appended to a file whose last row has no line break change that
// row: the index is not extended but rebuilt.
func TestGetAppendedToUnfinishedRow(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", "id,name\nE1,Ann\nE2,Bo"), IDColumn: "id"}
	s := open(t, cfg)
	indexedRead(t, s)
	appendTo(t, cfg.Path, "b\nE3,Cy\n")
	getsAsRead(t, s, cfg)

	// A malformed row's stray quote may be closed by rows appended after it.
	cfg.Path = writeFile(t, "hr.csv", "id,name\nE1,\"Ann\nE2,Bob\n")
	s = open(t, cfg)
	indexedRead(t, s)
	appendTo(t, cfg.Path, "E3,Cy\"\nE4,Dee\n")
	getsAsRead(t, s, cfg, "E2", "E3")
}

// An index that no longer matches the file is never trusted for a row:
// here the file keeps its size, modification time and first and last
// blocks while rows in its middle trade places.
func TestGetStaleIndex(t *testing.T) {
	var rows [][2]string
	for i := range 20_000 {
		rows = append(rows, [2]string{fmt.Sprintf("E%05d", i), fmt.Sprintf("Name %05d", i)})
	}
	cfg := Config{Path: writeFile(t, "hr.csv", indexFormats[0].records(rows...)), IDColumn: "id"}
	s := open(t, cfg)
	indexedRead(t, s)
	fi, err := os.Stat(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	rows[10_000], rows[10_001] = rows[10_001], rows[10_000]
	rows[10_002][0], rows[10_003][0] = "X10002", "X10003" // IDs gone, others new
	if err := os.WriteFile(cfg.Path, []byte(indexFormats[0].records(rows...)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(cfg.Path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	want := asRead(t, cfg)
	for _, id := range []string{"E10000", "E10001", "X10002", "E00000", "E19999"} {
		got, err := s.Get(context.Background(), connectors.User, id, nil)
		if err != nil || !reflect.DeepEqual(got, want[id]) {
			t.Errorf("Get %s: %+v, %v; want %+v", id, got, err, want[id])
		}
	}
	// The scan rebuilt the index: an ID gone from the file is not found.
	_, err = s.Get(context.Background(), connectors.User, "E10003", nil)
	wantNotFound(t, err)
}

// Concurrent Gets, some building the index, some using it, beside reads
// that build it too and rows being appended.
func TestGetIndexConcurrent(t *testing.T) {
	var rows [][2]string
	for i := range 2000 {
		rows = append(rows, [2]string{fmt.Sprintf("E%04d", i), fmt.Sprintf("Name %d", i)})
	}
	cfg := Config{Path: writeFile(t, "hr.csv", indexFormats[0].records(rows...)), IDColumn: "id"}
	want := asRead(t, cfg)
	s := open(t, cfg)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(rows); i += 97 {
				id := rows[i][0]
				got, err := s.Get(ctx, connectors.User, id, nil)
				if err != nil && !Changed(err) {
					t.Errorf("Get %s: %v", id, err)
				} else if err == nil && !reflect.DeepEqual(got, want[id]) {
					t.Errorf("Get %s: %+v, want %+v", id, got, want[id])
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := s.Read(ctx, connectors.ReadRequest{PageSize: 5000}); err != nil && !Changed(err) {
			t.Error(err)
		}
	})
	wg.Go(func() {
		for i := range 5 {
			appendTo(t, cfg.Path, fmt.Sprintf("N%d,New %d\n", i, i))
		}
	})
	wg.Wait()
	for i := range 5 {
		id := fmt.Sprintf("N%d", i)
		got, err := s.Get(ctx, connectors.User, id, nil)
		if err != nil || got.Attributes["name"] != fmt.Sprintf("New %d", i) {
			t.Errorf("Get %s: %+v, %v", id, got, err)
		}
	}
}

// A read of the file an index was built from keeps that index rather than
// building another; a read of other bytes drops it at once, so that a large
// export's index is not held twice while the next is built.
func TestReadKeepsOrDropsIndex(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", indexFormats[0].records(indexRows...)), IDColumn: "id"}
	s := open(t, cfg)
	indexedRead(t, s)
	built := s.index.Load()

	readAll(t, s, 2)
	if s.index.Load() != built {
		t.Fatal("a read of the same bytes built another index")
	}
	getsAsRead(t, s, cfg, "E9")

	rewrite(t, cfg.Path, indexFormats[0].records([2]string{"E4", "Dee"}, [2]string{"E1", "Ann"}))
	p, err := s.Read(context.Background(), connectors.ReadRequest{Type: cfg.Type, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cursor == "" {
		t.Fatal("the read ended on its first page")
	}
	if s.index.Load() != nil {
		t.Fatal("the index of other bytes is kept while the read goes on")
	}
	indexedRead(t, s)
	getsAsRead(t, s, cfg, "E2")
}
