package file

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

type write struct {
	id     string
	values connectors.Attributes
}

// writeAll writes one value after another and fails on any error.
func writeAll(t testing.TB, s *Source, writes ...write) {
	t.Helper()
	for _, w := range writes {
		if err := s.Write(context.Background(), connectors.User, w.id, w.values); err != nil {
			t.Fatalf("write %s: %v", w.id, err)
		}
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteCSV(t *testing.T) {
	tests := []struct {
		name, content string
		cfg           Config
		writes        []write
		want          string
	}{
		{
			name:    "an existing column",
			content: "id,name,mail\n1,Ann,\n2,Bob,bob@old.example\n",
			writes:  []write{{"2", connectors.Attributes{"mail": "bob@example.com"}}},
			want:    "id,name,mail\n1,Ann,\n2,Bob,bob@example.com\n",
		},
		{
			name:    "a new column, nil adds none",
			content: "id,name\n1,Ann\n2,Bob\n",
			writes:  []write{{"1", connectors.Attributes{"mail": "ann@example.com", "phone": nil}}},
			want:    "id,name,mail\n1,Ann,ann@example.com\n2,Bob,\n",
		},
		{
			name:    "nil clears",
			content: "id,name,mail\n1,Ann,ann@example.com\n",
			writes:  []write{{"1", connectors.Attributes{"mail": nil}}},
			want:    "id,name,mail\n1,Ann,\n",
		},
		{
			name:    "byte order mark, CRLF, quoted cells, another delimiter, every value type",
			content: "\uFEFF\"id\";\"name\";groups\r\n1;\"Ann; A\";\r\n2;\"Bob \"\"B\"\"\";\"x\"\r\n",
			cfg:     Config{Delimiter: ";"},
			writes: []write{{"1", connectors.Attributes{
				"groups": []string{"a", "b"}, "count": int64(3), "admin": true, "score": 0.25, "note": "say \"hi\"\nbye",
			}}},
			want: "\uFEFF\"id\";\"name\";groups;admin;count;note;score\r\n" +
				"1;\"Ann; A\";\"a;b\";true;3;\"say \"\"hi\"\"\r\nbye\";0.25\r\n" +
				"2;\"Bob \"\"B\"\"\";\"x\";;;;\r\n",
		},
		{
			name:    "no line break at the end",
			content: "id,name\n1,Ann\n2,Bob",
			writes:  []write{{"2", connectors.Attributes{"name": "Bo"}}, {"1", connectors.Attributes{"mail": "a@example.com"}}},
			want:    "id,name,mail\n1,Ann,a@example.com\n2,Bo,",
		},
		{
			name:    "blank lines, cells over lines, unnamed and spaced columns",
			content: "id,address, mail ,\n\n1,\"1 Main St\nSpringfield\",,x\n\n\n2,,,\n\n",
			writes:  []write{{"2", connectors.Attributes{"mail": "b@example.com"}}, {"1", connectors.Attributes{"mail": "a@example.com"}}},
			want:    "id,address, mail ,\n\n1,\"1 Main St\nSpringfield\",a@example.com,x\n\n\n2,,b@example.com,\n\n",
		},
		{
			name:    "the first of duplicate IDs, as a read returns",
			content: "id,name\n1,Ann\n1,Again\n",
			writes:  []write{{"1", connectors.Attributes{"name": "Anna"}}},
			want:    "id,name\n1,Anna\n1,Again\n",
		},
		{
			name:    "the last of several writes to one cell",
			content: "id,name\n1,Ann\n",
			writes:  []write{{"1", connectors.Attributes{"name": "A"}}, {"1", connectors.Attributes{"name": "B"}}},
			want:    "id,name\n1,B\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Path, tt.cfg.IDColumn = writeFile(t, "hr.csv", tt.content), "id"
			writeAll(t, open(t, tt.cfg), tt.writes...)
			if got := readFile(t, tt.cfg.Path); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteCSVKeepsMalformedRows(t *testing.T) {
	content := strings.Join([]string{
		"id,name,dept",
		"E1,Ann,Sales",
		"E2,Bob",          // too few fields
		"E3,Cy,Ops,extra", // too many
		`E4,D"an,Ops`,     // bare quote
		`E9,"Hal,Ops`,     // a stray quote swallowing the next rows
		"E10,Ida,Ops",
		`E11,"Jo"e,Ops`,
		"E12,Kim,Ops",
	}, "\n") + "\n"
	cfg := Config{Path: writeFile(t, "bad.csv", content), IDColumn: "id"}
	s := open(t, cfg)
	before, _, _ := readAll(t, s, 1000)

	writeAll(t, s, write{"E12", connectors.Attributes{"dept": "Finance"}})
	want := strings.Replace(content, "E12,Kim,Ops", "E12,Kim,Finance", 1)
	if got := readFile(t, cfg.Path); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}

	// An added column gives every row, malformed or not, one more cell:
	// rows with too many fields do not become valid by it.
	writeAll(t, s, write{"E1", connectors.Attributes{"mail": "ann@example.com"}})
	after, _, _ := readAll(t, s, 1000)
	if len(after) != len(before) {
		t.Fatalf("%d records after the write, %d before", len(after), len(before))
	}
	for i, o := range after {
		if o.ID != before[i].ID || (o.Invalid == "") != (before[i].Invalid == "") {
			t.Errorf("record %d: %s %q, was %s %q", i, o.ID, o.Invalid, before[i].ID, before[i].Invalid)
		}
	}
	if got := after[0].Attributes["mail"]; got != "ann@example.com" {
		t.Errorf("mail %v", got)
	}
	for _, line := range []string{`E4,D"an,Ops,`, `E9,"Hal,Ops,`, "E3,Cy,Ops,extra,"} {
		if !strings.Contains(readFile(t, cfg.Path), line+"\n") {
			t.Errorf("line %q is gone", line)
		}
	}

	// A malformed record cannot be written, even when it has the ID.
	err := s.Write(context.Background(), connectors.User, "E4", connectors.Attributes{"dept": "x"})
	if ce, ok := err.(*connectors.Error); !ok || ce.Kind != connectors.KindNotFound || !strings.Contains(ce.Detail, "row 5") {
		t.Fatalf("writing a malformed record: %v", err)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Run("array", func(t *testing.T) {
		content := "\uFEFF[\n  {\n    \"id\": \"E1\",\n    \"name\": \"Ann\",\n    \"mail\": null\n  },\n  {\"id\": 2, \"name\": \"Bob\"},\n  {\"id\": \"E3\"}\n]\n"
		cfg := Config{Path: writeFile(t, "hr.json", content), IDColumn: "id"}
		s := open(t, cfg)
		writeAll(t, s,
			write{"E1", connectors.Attributes{"mail": "a@example.com", "groups": []string{"g1"}, "active": true}},
			write{"2", connectors.Attributes{"name": nil, "n": int64(5), "f": 2.5, "gone": nil}},
		)
		want := "\uFEFF[\n  {\n    \"id\": \"E1\",\n    \"name\": \"Ann\",\n    \"mail\": \"a@example.com\",\n    \"active\": true,\n    \"groups\": [\"g1\"]\n  },\n" +
			"  {\"id\": 2, \"name\": null, \"f\": 2.5, \"n\": 5},\n  {\"id\": \"E3\"}\n]\n"
		if got := readFile(t, cfg.Path); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		objs, _, _ := readAll(t, s, 10)
		if got := objs[1].Attributes; !reflect.DeepEqual(got, connectors.Attributes{"id": int64(2), "name": nil, "f": 2.5, "n": int64(5)}) {
			t.Errorf("read back %v", got)
		}
	})
	t.Run("lines", func(t *testing.T) {
		content := "{\"id\":\"1\",\"tags\":[]}\n\n{\"id\":\"2\"}\r\n{not json\n{\"id\" : \"3\" , \"x\" : {\"nested\": 1}}"
		cfg := Config{Path: writeFile(t, "hr.jsonl", content), IDColumn: "id"}
		writeAll(t, open(t, cfg),
			write{"2", connectors.Attributes{"mail": "<b>&\n"}},
			write{"3", connectors.Attributes{"x": "flat", "y": []string{}}},
		)
		want := "{\"id\":\"1\",\"tags\":[]}\n\n{\"id\":\"2\",\"mail\":\"<b>&\\n\"}\r\n{not json\n{\"id\" : \"3\" , \"x\" : \"flat\", \"y\" : []}"
		if got := readFile(t, cfg.Path); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})
}

func TestWriteFailures(t *testing.T) {
	content := "id,name\n1,Ann\n"
	cfg := Config{Path: writeFile(t, "hr.csv", content), IDColumn: "id"}
	s := open(t, cfg)
	before, err := os.Stat(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	err = s.Write(ctx, connectors.User, "2", connectors.Attributes{"name": "Bob"})
	ce, ok := err.(*connectors.Error)
	if !ok || ce.Kind != connectors.KindNotFound || !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("an unknown ID: %v (%T), want a *connectors.Error of kind NotFound", err, err)
	}
	for _, values := range []connectors.Attributes{
		{"id": "3"},
		{"": "x"},
		{" name": "x"},
		{"name": map[string]any{}},
		{"name": 3}, // an int, not an int64
		{"name": math.NaN()},
	} {
		if err := s.Write(ctx, connectors.User, "1", values); connectors.KindOf(err) != connectors.KindInvalidRequest {
			t.Errorf("%v: %v", values, err)
		}
	}
	if err := s.Write(ctx, connectors.Group, "1", connectors.Attributes{"name": "x"}); err == nil {
		t.Error("a Group written to a User file")
	}
	if err := open(t, Config{Path: cfg.Path + ".missing", Format: CSV, IDColumn: "id"}).Write(ctx, connectors.User, "1", connectors.Attributes{"name": "x"}); connectors.KindOf(err) != connectors.KindUnavailable {
		t.Errorf("a missing file: %v", err)
	}
	after, err := os.Stat(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, cfg.Path); got != content || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("failed writes changed the file: %q", got)
	}
}

func TestWriteKeepsModeAndLink(t *testing.T) {
	path := writeFile(t, "hr.csv", "id,name\n1,Ann\n")
	if err := os.Chmod(path, 0o604); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(filepath.Dir(path), "current.csv")
	if err := os.Symlink("hr.csv", link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	writeAll(t, open(t, Config{Path: link, IDColumn: "id"}), write{"1", connectors.Attributes{"name": "Anna"}})
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o604 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	if got := readFile(t, path); got != "id,name\n1,Anna\n" {
		t.Fatalf("got %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"current.csv", "current.csv.lock", "hr.csv"}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

// Many writes at once, from two sources over one file, all land.
func TestWriteConcurrently(t *testing.T) {
	const n = 200
	for _, format := range []string{CSV, JSONL} {
		t.Run(format, func(t *testing.T) {
			var b strings.Builder
			if format == CSV {
				b.WriteString("id,name\n")
			}
			for i := range n {
				if format == CSV {
					fmt.Fprintf(&b, "E%d,Person %d\n", i, i)
				} else {
					fmt.Fprintf(&b, "{\"id\": \"E%d\", \"name\": \"Person %d\"}\n", i, i)
				}
			}
			cfg := Config{Path: writeFile(t, "hr."+format, b.String()), IDColumn: "id"}
			sources := []*Source{open(t, cfg), open(t, cfg)}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					values := connectors.Attributes{"mail": fmt.Sprintf("p%d@example.com", i)}
					if i%3 == 0 {
						values["name"] = nil
					}
					errs[i] = sources[i%2].Write(context.Background(), connectors.User, fmt.Sprintf("E%d", i), values)
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			objs, _, _ := readAll(t, sources[0], 1000)
			if len(objs) != n {
				t.Fatalf("%d records", len(objs))
			}
			for i, o := range objs {
				var name any = fmt.Sprintf("Person %d", i)
				if i%3 == 0 {
					name = nil
				}
				if o.Attributes["mail"] != fmt.Sprintf("p%d@example.com", i) || o.Attributes["name"] != name {
					t.Errorf("%s: %v", o.ID, o.Attributes)
				}
			}
		})
	}
}

// A read under way finishes on the file as it was; a read resumed from its
// cursor elsewhere finds the file changed, and a new read sees the writes.
func TestWriteDuringRead(t *testing.T) {
	content := peopleCSV(30)
	cfg := Config{Path: writeFile(t, "hr.csv", content), IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}
	s := open(t, cfg)
	p, err := s.Read(context.Background(), connectors.ReadRequest{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	// A value of the same length: only the modification time tells the
	// new file from the old one.
	writeAll(t, s, write{"E0025", connectors.Attributes{"status": "Absent"}})
	if len(readFile(t, cfg.Path)) != len(content) {
		t.Fatal("the file changed size")
	}

	_, err = open(t, cfg).Read(context.Background(), connectors.ReadRequest{PageSize: 10, Cursor: p.Cursor})
	if wantUnavailable(t, err); !Changed(err) {
		t.Fatalf("a resumed read: %v", err)
	}

	objs := p.Objects
	for p.Cursor != "" {
		if p, err = s.Read(context.Background(), connectors.ReadRequest{PageSize: 10, Cursor: p.Cursor}); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, p.Objects...)
	}
	whole, _, mark := readAll(t, open(t, Config{Path: writeFile(t, "old.csv", content), IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}), 1000)
	if p.Watermark != mark || len(objs) != len(whole) || objs[24].Attributes["status"] != "Active" {
		t.Fatal("the read under way did not finish on the file as it was")
	}

	objs, _, _ = readAll(t, s, 1000)
	if objs[24].Attributes["status"] != "Absent" {
		t.Fatalf("a new read: %v", objs[24].Attributes)
	}
}
