package file

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// A read whose caller holds some rows as they are (ReadRequest.Unchanged)
// builds only the others: the rows it holds come back with their ID and
// hash alone. A row's hash follows its fields and what the read makes of
// them (the columns, those asked for, the disabled values), not where the
// row is in the file.
func TestUnchangedRowsAreNotBuilt(t *testing.T) {
	path := writeFile(t, "hr.csv", "id,name,mail,status\nE1,Ann,ann@x,Active\nE2,Bob,bob@x,Active\nE3,Cy,cy@x,Terminated\n")
	cfg := Config{Path: path, IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}
	read := func(cfg Config, attrs []string, held map[string]uint64) map[string]connectors.Object {
		t.Helper()
		s := open(t, cfg)
		asked := 0
		req := connectors.ReadRequest{Type: connectors.User, PageSize: 2, Attributes: attrs, Unchanged: func(id string, h uint64) bool {
			asked++
			return held[id] == h
		}}
		out := map[string]connectors.Object{}
		for {
			p, err := s.Read(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Objects {
				if o.RecordHash == 0 {
					t.Fatalf("%s has no hash", o.ID)
				}
				out[o.ID] = o
			}
			if req.Cursor = p.Cursor; req.Cursor == "" {
				break
			}
		}
		if asked != len(out) {
			t.Fatalf("asked about %d rows of %d", asked, len(out))
		}
		return out
	}
	hashes := func(objs map[string]connectors.Object) map[string]uint64 {
		m := map[string]uint64{}
		for id, o := range objs {
			m[id] = o.RecordHash
		}
		return m
	}
	wantBuilt := func(objs map[string]connectors.Object, built ...string) {
		t.Helper()
		for id, o := range objs {
			isBuilt := !o.Unchanged
			want := false
			for _, b := range built {
				want = want || b == id
			}
			if isBuilt != want {
				t.Errorf("%s: built %t, want %t (%#v)", id, isBuilt, want, o)
			}
			if !isBuilt && (o.Attributes != nil || o.Locator != "" || o.Disabled) {
				t.Errorf("%s is unchanged but has content: %#v", id, o)
			}
		}
	}

	first := read(cfg, nil, nil)
	wantBuilt(first, "E1", "E2", "E3")
	if !first["E3"].Disabled || first["E2"].Attributes["mail"] != "bob@x" {
		t.Fatalf("first read: %#v", first)
	}
	held := hashes(first)
	wantBuilt(read(cfg, nil, held), nil...)

	// E2's mail changed and E1 moved to the end: only E2 is built.
	if err := os.WriteFile(path, []byte("id,name,mail,status\nE2,Bob,bob@y,Active\nE3,Cy,cy@x,Terminated\nE1,Ann,ann@x,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved := read(cfg, nil, held)
	wantBuilt(moved, "E2")
	if moved["E2"].Attributes["mail"] != "bob@y" || moved["E2"].Locator != "row 2" {
		t.Errorf("E2 is %#v", moved["E2"])
	}
	held = hashes(moved)

	// Fields that join into the same text are different rows.
	if err := os.WriteFile(path, []byte("id,name,mail,status\nE2,Bobb,@y,Active\nE3,Cy,cy@x,Terminated\nE1,Ann,ann@x,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantBuilt(read(cfg, nil, held), "E2")
	if err := os.WriteFile(path, []byte("id,name,mail,status\nE2,Bob,bob@y,Active\nE3,Cy,cy@x,Terminated\nE1,Ann,ann@x,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantBuilt(read(cfg, nil, held), nil...)

	// What the read makes of the same rows changed: every row is built.
	wantBuilt(read(cfg, []string{"name"}, held), "E1", "E2", "E3")
	other := cfg
	other.DisabledValues = []string{"active"}
	wantBuilt(read(other, nil, held), "E1", "E2", "E3")
	other = cfg
	other.DisabledColumn = ""
	wantBuilt(read(other, nil, held), "E1", "E2", "E3")
	if err := os.WriteFile(path, []byte("id,mail,name,status\nE2,Bob,bob@y,Active\nE3,Cy,cy@x,Terminated\nE1,Ann,ann@x,Active\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantBuilt(read(cfg, nil, held), "E1", "E2", "E3")
}

// JSON Lines records are hashed as their bytes: the ID is found in them
// without decoding, and the records held unchanged are not decoded.
func TestUnchangedJSONLinesAreNotBuilt(t *testing.T) {
	lines := []string{`{"id":"E1","name":"Ann","status":"Active"}`, `{"name":"Bob","id":2,"status":"Active"}`, `{"id":"E3","name":"Cy","status":"Terminated"}`}
	path := writeFile(t, "hr.jsonl", strings.Join(lines, "\n")+"\n")
	cfg := Config{Path: path, Format: JSONL, IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}
	read := func(attrs []string, held map[string]uint64) map[string]connectors.Object {
		t.Helper()
		req := connectors.ReadRequest{Type: connectors.User, Attributes: attrs, Unchanged: func(id string, h uint64) bool { return held[id] == h }}
		p, err := open(t, cfg).Read(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]connectors.Object{}
		for _, o := range p.Objects {
			out[o.ID] = o
		}
		return out
	}
	first := read(nil, nil)
	held := map[string]uint64{}
	for id, o := range first {
		if o.Unchanged || o.RecordHash == 0 || o.Attributes == nil {
			t.Fatalf("%s: %#v", id, o)
		}
		held[id] = o.RecordHash
	}
	if !first["E3"].Disabled {
		t.Fatalf("E3 is %#v", first["E3"])
	}
	for id, o := range read(nil, held) {
		if !o.Unchanged || o.RecordHash != held[id] || o.Attributes != nil {
			t.Errorf("%s is %#v; want it unbuilt", id, o)
		}
	}
	for id, o := range read([]string{"name"}, held) {
		if o.Unchanged {
			t.Errorf("%s is unbuilt, though the read asks for other attributes", id)
		}
	}
	lines[1] = `{"name":"Bob","id":2,"status":"Inactive"}`
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for id, o := range read(nil, held) {
		if o.Unchanged != (id != "2") {
			t.Errorf("%s: unbuilt %t", id, o.Unchanged)
		}
	}
}
