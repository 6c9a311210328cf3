package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// readResumed reads every page with a fresh Source, as a retried activity
// on another worker would, and returns the objects and watermark.
func readResumed(t *testing.T, c Config, pageSize int) ([]connectors.Object, string) {
	t.Helper()
	var objs []connectors.Object
	cursor := ""
	for {
		p, err := open(t, c).Read(context.Background(), connectors.ReadRequest{Cursor: cursor, PageSize: pageSize})
		if err != nil {
			t.Fatalf("after %d objects: %v", len(objs), err)
		}
		objs = append(objs, p.Objects...)
		if p.Cursor == "" {
			return objs, p.Watermark
		}
		cursor = p.Cursor
	}
}

func peopleCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,name,status\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "E%04d,\"Person, %d\",%s\n", i, i, map[bool]string{true: "Terminated", false: "Active"}[i%10 == 0])
	}
	return b.String()
}

func TestCSVPaging(t *testing.T) {
	content := peopleCSV(2500)
	path := writeFile(t, "hr.csv", content)
	cfg := Config{Path: path, IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}
	sum := sha256.Sum256([]byte(content))
	wantMark := "sha256:" + hex.EncodeToString(sum[:])
	for _, tt := range []struct{ pageSize, pages int }{{1000, 3}, {2500, 2}, {5000, 1}, {0, 3}, {7, 358}} {
		t.Run(fmt.Sprint(tt.pageSize), func(t *testing.T) {
			objs, pages, mark := readAll(t, open(t, cfg), tt.pageSize)
			if pages != tt.pages {
				t.Errorf("%d pages, want %d", pages, tt.pages)
			}
			if len(objs) != 2500 || mark != wantMark {
				t.Fatalf("%d objects, watermark %s; want 2500, %s", len(objs), mark, wantMark)
			}
			for i, o := range objs {
				if id := fmt.Sprintf("E%04d", i+1); o.ID != id || o.Locator != fmt.Sprintf("row %d", i+2) || o.Invalid != "" {
					t.Fatalf("object %d is %+v, want %s at row %d", i, o, id, i+2)
				}
				if o.Disabled != ((i+1)%10 == 0) {
					t.Fatalf("%s: disabled %v", o.ID, o.Disabled)
				}
			}
			resumed, rmark := readResumed(t, cfg, tt.pageSize)
			if !reflect.DeepEqual(resumed, objs) || rmark != mark {
				t.Fatal("a read resumed on fresh sources differs from one read on one source")
			}
		})
	}
}

func TestCSVValues(t *testing.T) {
	tests := []struct {
		name    string
		content string
		cfg     Config
		want    []connectors.Object
	}{
		{
			name:    "byte order mark, empty cells, disabled values",
			content: "\uFEFF\"id\",name,mail,status\r\n1,Ann,,INACTIVE\r\n 2 ,Bob,bob@example.com,Active\r\n",
			cfg:     Config{IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"inactive", " Terminated "}},
			want: []connectors.Object{
				{ID: "1", Locator: "row 2", Disabled: true, Attributes: connectors.Attributes{"id": "1", "name": "Ann", "mail": nil, "status": "INACTIVE"}},
				{ID: "2", Locator: "row 3", Attributes: connectors.Attributes{"id": " 2 ", "name": "Bob", "mail": "bob@example.com", "status": "Active"}},
			},
		},
		{
			name:    "quoted cells across lines keep row numbers on lines",
			content: "id,address,enabled\n1,\"1 Main St\nSpringfield\",false\n\n2,\"a \"\"b\"\"\",TRUE\n",
			cfg:     Config{IDColumn: "id", DisabledColumn: "enabled", DisabledValues: []string{"false"}},
			want: []connectors.Object{
				{ID: "1", Locator: "row 2", Disabled: true, Attributes: connectors.Attributes{"id": "1", "address": "1 Main St\nSpringfield", "enabled": "false"}},
				{ID: "2", Locator: "row 5", Attributes: connectors.Attributes{"id": "2", "address": `a "b"`, "enabled": "TRUE"}},
			},
		},
		{
			name:    "groups with members, another delimiter, default disabled value",
			content: "gid;members;disabled\nG1;\" E1 ;E2;; E3\";true\nG2;;\n",
			cfg:     Config{IDColumn: "gid", MembersColumn: "members", DisabledColumn: "disabled", Delimiter: ";", Type: connectors.Group},
			want: []connectors.Object{
				{ID: "G1", Locator: "row 2", Disabled: true, Members: []string{"E1", "E2", "E3"}, Attributes: connectors.Attributes{"gid": "G1", "members": " E1 ;E2;; E3", "disabled": "true"}},
				{ID: "G2", Locator: "row 3", Attributes: connectors.Attributes{"gid": "G2", "members": nil, "disabled": nil}},
			},
		},
		{
			name:    "unnamed columns are skipped",
			content: "id,name,\n1,Ann,\n",
			cfg:     Config{IDColumn: "id"},
			want:    []connectors.Object{{ID: "1", Locator: "row 2", Attributes: connectors.Attributes{"id": "1", "name": "Ann"}}},
		},
		{
			name:    "header only",
			content: "id,name\n",
			cfg:     Config{IDColumn: "id"},
			want:    []connectors.Object{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Path = writeFile(t, "in.csv", tt.content)
			if err := tt.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			p, err := open(t, tt.cfg).Read(context.Background(), connectors.ReadRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Cursor != "" || !strings.HasPrefix(p.Watermark, "sha256:") {
				t.Errorf("cursor %q, watermark %q", p.Cursor, p.Watermark)
			}
			if !reflect.DeepEqual(unhashed(p.Objects...), tt.want) {
				t.Errorf("got\n%#v\nwant\n%#v", p.Objects, tt.want)
			}
		})
	}
}

func TestCSVMalformedRowsFailAlone(t *testing.T) {
	content := strings.Join([]string{
		"id,name,dept",    // 1
		"E1,Ann,Sales",    // 2
		"E2,Bob",          // 3 too few fields
		"E3,Cy,Ops,extra", // 4 too many
		`E4,D"an,Ops`,     // 5 bare quote
		",Eve,Ops",        // 6 empty ID
		"  ,Fay,Ops",      // 7 blank ID
		"E1,Gus,Ops",      // 8 duplicate of row 2
		`E9,"Hal,Ops`,     // 9 stray quote swallowing the next rows
		"E10,Ida,Ops",     // 10
		`E11,"Jo"e,Ops`,   // 11 where the stray quote ends; itself malformed
		"E12,Kim,Ops",     // 12
		`E13,"Lee,Ops`,    // 13 stray quote closed on the next row
		`E14,Max",Ops,x`,  // 14 which is malformed itself
		"E15,Ned,Ops",     // 15
		`E16,"Oz`,         // 16 unterminated to the end
	}, "\n") + "\n"
	want := []struct{ id, invalid string }{
		{"E1", ""},
		{"E2", "row 3: has 2 fields, the header has 3"},
		{"E3", "row 4: has 4 fields, the header has 3"},
		{"E4", `row 5: bare " in non-quoted-field (line 5, column 5)`},
		{"row:6", "row 6: id is empty"},
		{"row:7", "row 7: id is empty"},
		{"E1", `row 8: duplicate id "E1", first on row 2`},
		{"E9", "row 9: extraneous or missing \" in quoted-field (line 11, column 5); the lines after its first are read as rows of their own"},
		{"E10", ""},
		{"E11", "row 11: extraneous or missing \" in quoted-field (line 11, column 8)"},
		{"E12", ""},
		{"E13", "row 13: a quoted field runs on to line 14 (a stray quote?); the lines after its first are read as rows of their own"},
		{"E14", `row 14: bare " in non-quoted-field (line 14, column 8)`},
		{"E15", ""},
		{"E16", "row 16: extraneous or missing \" in quoted-field (line 16, column 9)"},
	}
	cfg := Config{Path: writeFile(t, "bad.csv", content), IDColumn: "id"}
	objs, _, _ := readAll(t, open(t, cfg), 1000)
	check := func(t *testing.T, objs []connectors.Object) {
		if len(objs) != len(want) {
			for _, o := range objs {
				t.Logf("%s %s %q", o.ID, o.Locator, o.Invalid)
			}
			t.Fatalf("%d objects, want %d", len(objs), len(want))
		}
		for i, w := range want {
			o := objs[i]
			if o.ID != w.id || o.Invalid != w.invalid {
				t.Errorf("object %d: got %s %q, want %s %q", i, o.ID, o.Invalid, w.id, w.invalid)
			}
			if w.invalid != "" && (o.Attributes != nil || !strings.HasPrefix(o.Invalid, o.Locator+": ")) {
				t.Errorf("object %d: invalid object %+v", i, o)
			}
		}
	}
	check(t, objs)
	// One record per page, each page on a fresh source: the row numbers and
	// the duplicate are found across resumes too.
	resumed, _ := readResumed(t, cfg, 1)
	t.Run("resumed", func(t *testing.T) { check(t, resumed) })
}

func TestCSVChangeMidReadFails(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprint("fresh source ", fresh), func(t *testing.T) {
			cfg := Config{Path: writeFile(t, "hr.csv", peopleCSV(30)), IDColumn: "id"}
			s := open(t, cfg)
			p, err := s.Read(context.Background(), connectors.ReadRequest{PageSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg.Path, []byte(peopleCSV(31)), 0o600); err != nil {
				t.Fatal(err)
			}
			// File systems with coarse timestamps would hide a change of
			// equal size; this one changes size and time both.
			later := time.Now().Add(time.Minute)
			os.Chtimes(cfg.Path, later, later)
			if fresh {
				s = open(t, cfg)
			}
			_, err = s.Read(context.Background(), connectors.ReadRequest{PageSize: 10, Cursor: p.Cursor})
			if wantUnavailable(t, err); !Changed(err) {
				t.Fatalf("Changed(%v) is false", err)
			}
			// Starting again reads the new file.
			objs, _, _ := readAll(t, s, 10)
			if len(objs) != 31 {
				t.Fatalf("%d objects after starting again", len(objs))
			}
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, path, detail string }{
		{"missing", dir + "/gone.csv", "no such file or directory"},
		{"a folder", dir, "is a directory"},
		{"empty", writeFile(t, "empty.csv", ""), "the file is empty"},
		{"broken header", writeFile(t, "h.csv", "id,\"name\n"), "header"},
		{"repeated column", writeFile(t, "r.csv", "id,name,name\n"), `header: column "name" appears twice`},
		{"no id column", writeFile(t, "n.csv", "name\nAnn\n"), `idColumn column "id" is not in the header`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := open(t, Config{Path: tt.path, Format: "csv", IDColumn: "id"}).Read(context.Background(), connectors.ReadRequest{})
			if ce := wantUnavailable(t, err); !strings.Contains(ce.Detail, tt.detail) || Changed(err) {
				t.Fatalf("detail %q, want it to mention %q", ce.Detail, tt.detail)
			}
		})
	}
}

func TestReadRequests(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", "id,name,mail\n1,Ann,a@example.com\n"), IDColumn: "id"}
	s := open(t, cfg)
	ctx := context.Background()
	p, err := s.Read(ctx, connectors.ReadRequest{Attributes: []string{"mail", "phone"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Objects[0].Attributes; !reflect.DeepEqual(got, connectors.Attributes{"mail": "a@example.com"}) {
		t.Errorf("attributes %v, want only mail", got)
	}
	if _, err := s.Read(ctx, connectors.ReadRequest{Type: connectors.Group}); err == nil || !strings.Contains(err.Error(), "holds User objects, not Group") {
		t.Errorf("a Group read of a user file: %v", err)
	}
	for _, c := range []string{"junk", "f1.1.2.3.4.5.!!", "f1.1.20.3.4.5.AAAA"} {
		if _, err := s.Read(ctx, connectors.ReadRequest{Cursor: c}); err == nil || !strings.Contains(err.Error(), "invalid cursor") {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Read(cancelled, connectors.ReadRequest{}); err != context.Canceled {
		t.Errorf("cancelled read: %v", err)
	}
}

// The open file is read to the end even if the path goes away: the read
// stays a snapshot of the file it started on.
func TestCSVKeepsTheFileOpenBetweenPages(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", peopleCSV(30)), IDColumn: "id"}
	s := open(t, cfg)
	p, err := s.Read(context.Background(), connectors.ReadRequest{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cfg.Path); err != nil {
		t.Fatal(err)
	}
	_, err = open(t, cfg).Read(context.Background(), connectors.ReadRequest{PageSize: 10, Cursor: p.Cursor})
	if ce := wantUnavailable(t, err); !strings.Contains(ce.Detail, "no such file") {
		t.Fatalf("a fresh source: %v", err)
	}
	n := len(p.Objects)
	for p.Cursor != "" {
		if p, err = s.Read(context.Background(), connectors.ReadRequest{PageSize: 10, Cursor: p.Cursor}); err != nil {
			t.Fatal(err)
		}
		n += len(p.Objects)
	}
	if n != 30 {
		t.Fatalf("%d objects", n)
	}
}

// Duplicates are told by the record each ID's key points to: when every
// ID has the same key, which 64-bit keys make all but impossible, the
// same records are duplicates, the first is still the one named, and
// no other record is lost, in CSV, JSON and JSON Lines, read at once or
// resumed page by page.
func TestDuplicatesWhenEveryKeyCollides(t *testing.T) {
	defer func(k func(string) uint64) { idKey = k }(idKey)
	idKey = func(string) uint64 { return 7 }
	t.Run("csv", TestCSVMalformedRowsFailAlone)
	t.Run("json", TestJSONRecords)
}

// The table of first records keeps each key's low half and the row index
// its high half: IDs whose keys share either half are still told apart.
func TestDuplicatesWhenKeysShareAHalf(t *testing.T) {
	defer func(k func(string) uint64) { idKey = k }(idKey)
	for name, key := range map[string]func(string) uint64{
		"high": func(id string) uint64 { return uint64(uint32(maphash.String(idSeed, id))) },
		"low":  func(id string) uint64 { return maphash.String(idSeed, id) << 32 },
	} {
		idKey = key
		t.Run(name+"/csv", TestCSVMalformedRowsFailAlone)
		t.Run(name+"/json", TestJSONRecords)
		t.Run(name+"/get", TestGetIndexed)
	}
}
