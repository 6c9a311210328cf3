package file

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// wantNotFound checks that err is a *connectors.Error of kind NotFound.
func wantNotFound(t *testing.T, err error) {
	t.Helper()
	ce, ok := err.(*connectors.Error)
	if !ok || ce.Kind != connectors.KindNotFound || !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("got %v (%T), want a *connectors.Error of kind NotFound", err, err)
	}
}

// getEachAsRead checks that Get returns every object Read returns, under
// its ID: the first record of each ID, valid or not.
func getEachAsRead(t *testing.T, cfg Config, attributes []string) {
	t.Helper()
	s := open(t, cfg)
	p, err := s.Read(context.Background(), connectors.ReadRequest{Type: cfg.Type, Attributes: attributes, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, want := range p.Objects {
		if seen[want.ID] || strings.Contains(want.ID, ":") { // a later duplicate, or an ID made up for a record without one
			continue
		}
		seen[want.ID] = true
		got, err := s.Get(context.Background(), cfg.Type, want.ID, attributes)
		if err != nil {
			t.Fatalf("Get %s: %v", want.ID, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get %s:\n%#v\nRead returned\n%#v", want.ID, got, want)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no object to get")
	}
}

func TestGetCSV(t *testing.T) {
	content := strings.Join([]string{
		"id,name,mail,status",
		"E1,Ann,ann@example.com,Active",
		"E2,Bob", // too few fields
		`E3,"Cy`, // a stray quote: the rows after it are read on their own
		"E4,Dee,,Terminated",
		",Eve,eve@example.com,Active", // no ID
		"E1,Gus,gus@example.com,Active",
		`E5,"Hal, Jr.","hal@example.com",Active`,
	}, "\n") + "\n"
	cfg := Config{Path: writeFile(t, "hr.csv", content), IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"terminated"}}
	getEachAsRead(t, cfg, nil)
	getEachAsRead(t, cfg, []string{"mail", "phone"})

	s := open(t, cfg)
	ctx := context.Background()
	e4, err := s.Get(ctx, connectors.User, "E4", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := connectors.Object{ID: "E4", Locator: "row 5", Disabled: true, Attributes: connectors.Attributes{"id": "E4", "name": "Dee", "mail": nil, "status": "Terminated"}}
	if !reflect.DeepEqual(unhashed(e4)[0], want) {
		t.Errorf("E4 is %#v, want %#v", e4, want)
	}
	e1, err := s.Get(ctx, "", "E1", []string{"name"})
	if err != nil || e1.Locator != "row 2" || !reflect.DeepEqual(e1.Attributes, connectors.Attributes{"name": "Ann"}) {
		t.Errorf("E1 with only its name: %+v, %v; want the first of its two rows", e1, err)
	}
	e2, err := s.Get(ctx, connectors.User, "E2", nil)
	if err != nil || e2.Invalid != "row 3: has 2 fields, the header has 4" || e2.Attributes != nil {
		t.Errorf("a malformed row: %+v, %v; want it invalid", e2, err)
	}
	for _, id := range []string{"E9", "e1", "row:6", ""} {
		_, err := s.Get(ctx, connectors.User, id, nil)
		wantNotFound(t, err)
	}
	if _, err := s.Get(ctx, connectors.Group, "E1", nil); err == nil || !strings.Contains(err.Error(), "holds User objects, not Group") {
		t.Errorf("a Group get from a user file: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cancelled, connectors.User, "E1", nil); err != context.Canceled {
		t.Errorf("cancelled get: %v", err)
	}
}

func TestGetJSON(t *testing.T) {
	records := []string{
		`{"id": "E1", "name": "Zoë", "age": 41, "groups": ["a", "b"], "enabled": false}`,
		`{"id": 42, "name": "Ann", "enabled": "TRUE"}`,
		`{"name": "no id"}`,
		`{"id": "E5", "address": {"city": "Oslo"}}`,
		`{"id": "E1", "name": "again"}`,
		`{"id": "E6", "mail": null}`,
	}
	cfg := Config{IDColumn: "id", DisabledColumn: "enabled", DisabledValues: []string{"false"}}
	for _, format := range []string{"json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			cfg := cfg
			if format == "json" {
				cfg.Path = writeFile(t, "hr.json", "[\n"+strings.Join(records, ",\n")+"\n]\n")
			} else {
				cfg.Path = writeFile(t, "hr.jsonl", strings.Join(records, "\n")+"\n")
			}
			getEachAsRead(t, cfg, nil)
			getEachAsRead(t, cfg, []string{"name", "groups"})

			s := open(t, cfg)
			ctx := context.Background()
			e1, err := s.Get(ctx, connectors.User, "E1", []string{"name", "groups"})
			want := connectors.Object{ID: "E1", Locator: map[string]string{"json": "record 1", "jsonl": "line 1"}[format], Disabled: true,
				Attributes: connectors.Attributes{"name": "Zoë", "groups": []string{"a", "b"}}}
			if err != nil || !reflect.DeepEqual(unhashed(e1)[0], want) {
				t.Errorf("E1 is %#v, %v; want %#v", e1, err, want)
			}
			e5, err := s.Get(ctx, connectors.User, "E5", nil)
			if err != nil || !strings.HasSuffix(e5.Invalid, `field "address": nested objects are not supported`) {
				t.Errorf("a record with a nested object: %+v, %v; want it invalid", e5, err)
			}
			_, err = s.Get(ctx, connectors.User, "E7", nil)
			wantNotFound(t, err)
		})
	}
}

// A syntax error before the record fails a Get as it fails a Read.
func TestGetBrokenJSON(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.json", `[{"id": "1"}, {"id": "2",, }, {"id": "3"}]`), IDColumn: "id"}
	s := open(t, cfg)
	if _, err := s.Get(context.Background(), connectors.User, "1", nil); err != nil {
		t.Fatalf("a record before the error: %v", err)
	}
	_, err := s.Get(context.Background(), connectors.User, "3", nil)
	if ce := wantUnavailable(t, err); !strings.Contains(ce.Detail, "record 2") {
		t.Fatalf("detail %q", ce.Detail)
	}
	_, err = open(t, Config{Path: t.TempDir() + "/gone.csv", IDColumn: "id"}).Get(context.Background(), connectors.User, "1", nil)
	wantUnavailable(t, err)
}

func TestGetGroup(t *testing.T) {
	content := "gid;name;members\nG1;Sales;\" E1 ;E2;; E3\"\nG2;Empty;\n"
	cfg := Config{Path: writeFile(t, "groups.csv", content), Type: connectors.Group, IDColumn: "gid", MembersColumn: "members", Delimiter: ";"}
	getEachAsRead(t, cfg, nil)
	getEachAsRead(t, cfg, []string{"name"})
	s := open(t, cfg)
	g1, err := s.Get(context.Background(), connectors.Group, "G1", []string{"name"})
	want := connectors.Object{ID: "G1", Locator: "row 2", Members: []string{"E1", "E2", "E3"}, Attributes: connectors.Attributes{"name": "Sales"}}
	if err != nil || !reflect.DeepEqual(unhashed(g1)[0], want) {
		t.Errorf("G1 is %#v, %v; want %#v", g1, err, want)
	}
	if _, err := s.Get(context.Background(), connectors.User, "G1", nil); err == nil || !strings.Contains(err.Error(), "holds Group objects, not User") {
		t.Errorf("a User get from a group file: %v", err)
	}

	jcfg := Config{Path: writeFile(t, "groups.jsonl", `{"gid": "G1", "members": ["E1", "E2"]}`+"\n"), Type: connectors.Group, IDColumn: "gid", MembersColumn: "members"}
	getEachAsRead(t, jcfg, nil)
	g1, err = open(t, jcfg).Get(context.Background(), connectors.Group, "G1", nil)
	if err != nil || !reflect.DeepEqual(g1.Members, []string{"E1", "E2"}) {
		t.Errorf("G1 from JSON Lines: %+v, %v", g1, err)
	}
}
