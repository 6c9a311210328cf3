package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// writeFile writes content to name in a fresh temporary folder.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t testing.TB, c Config) *Source {
	t.Helper()
	s, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll reads every page with one source and returns the objects, the
// number of pages and the watermark.
func readAll(t testing.TB, s *Source, pageSize int) ([]connectors.Object, int, string) {
	t.Helper()
	var objs []connectors.Object
	cursor := ""
	for pages := 1; ; pages++ {
		p, err := s.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Cursor: cursor, PageSize: pageSize})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if p.Cursor == "" && p.Watermark == "" {
			t.Fatalf("page %d: the last page has no watermark", pages)
		}
		objs = append(objs, p.Objects...)
		if p.Cursor == "" {
			return objs, pages, p.Watermark
		}
		cursor = p.Cursor
	}
}

func wantUnavailable(t *testing.T, err error) *connectors.Error {
	t.Helper()
	ce, ok := err.(*connectors.Error)
	if !ok || ce.Kind != connectors.KindUnavailable {
		t.Fatalf("got %v (%T), want a *connectors.Error of kind Unavailable", err, err)
	}
	if !errors.As(err, &ce) {
		t.Fatal("errors.As does not find the *connectors.Error")
	}
	return ce
}

// unhashed returns objs with their RecordHash cleared, to compare with
// objects written out in a test.
func unhashed(objs ...connectors.Object) []connectors.Object {
	out := make([]connectors.Object, len(objs))
	for i, o := range objs {
		o.RecordHash = 0
		out[i] = o
	}
	return out
}
