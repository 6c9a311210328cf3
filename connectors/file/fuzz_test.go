package file

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// FuzzRead checks that no file makes a read panic, that a read resumed
// after every record on fresh sources returns what one source returns, and
// that Get returns the object a read returns first under each ID.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"id,name\n1,Ann\n2,\"B\nob\"\n",
		"id,n\n1,\"a\n2,b\"\",c\n3,d\n",
		"\uFEFFid,x\r\n1,\"\"\r\n\r\n1,y",
		`[{"id": "1", "n": [1]}, {"id": 2}, 3]`,
		"{\"id\": \"1\"}\n\n{\"id\": \"1\"}\nnot json\n",
		`{"d": {"x": [1, {"y": "]"}], "results": [{"id": "1"}, {"id": "2"}], "__next": null}}`,
	} {
		for format := range 4 {
			f.Add(seed, uint8(format))
		}
	}
	f.Fuzz(func(t *testing.T, content string, format uint8) {
		// The fourth format is JSON with its records inside objects.
		cfg := Config{Path: writeFile(t, "in", content), Format: []string{CSV, JSON, JSONL, JSON}[format%4], IDColumn: "id"}
		if format%4 == 3 {
			cfg.RecordsPath = "d.results"
		}
		whole, err := read(open(t, cfg), 1000)
		if err != nil {
			if connectors.KindOf(err) != connectors.KindUnavailable {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		var resumed []connectors.Object
		cursor := ""
		for {
			p, err := open(t, cfg).Read(context.Background(), connectors.ReadRequest{Cursor: cursor, PageSize: 1})
			if err != nil {
				t.Fatalf("resumed after %d objects: %v", len(resumed), err)
			}
			resumed = append(resumed, p.Objects...)
			if p.Cursor == "" {
				break
			}
			cursor = p.Cursor
		}
		if !reflect.DeepEqual(whole, resumed) {
			t.Fatalf("whole read\n%#v\nresumed\n%#v", whole, resumed)
		}
		s := open(t, cfg)
		got := map[string]bool{}
		for _, o := range whole {
			if got[o.ID] || strings.Contains(o.ID, ":") { // a duplicate, or an ID made up for a record without one
				continue
			}
			got[o.ID] = true
			if g, err := s.Get(context.Background(), "", o.ID, nil); err != nil || !reflect.DeepEqual(g, o) {
				t.Fatalf("Get %q: %v\n%#v\nread\n%#v", o.ID, err, g, o)
			}
		}
	})
}

func read(s *Source, pageSize int) ([]connectors.Object, error) {
	var objs []connectors.Object
	cursor := ""
	for {
		p, err := s.Read(context.Background(), connectors.ReadRequest{Cursor: cursor, PageSize: pageSize})
		if err != nil {
			return nil, err
		}
		objs = append(objs, p.Objects...)
		if p.Cursor == "" {
			return objs, nil
		}
		cursor = p.Cursor
	}
}
