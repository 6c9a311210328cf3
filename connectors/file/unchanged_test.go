package file

import (
	"context"
	"os"
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
