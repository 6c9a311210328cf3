package file

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// memOrigin supplies an export from memory, with a validator that names
// its version.
type memOrigin struct {
	data      string
	validator string
	opened    int
}

func (o *memOrigin) Name() string { return "https://hr.example/report" }

func (o *memOrigin) Open(_ context.Context, last Version) (Snapshot, error) {
	o.opened++
	if last.Validator != "" && last.Validator == o.validator {
		return nil, ErrUnchanged
	}
	return memSnapshot{bytes.NewReader([]byte(o.data)), o.validator}, nil
}

func (o *memOrigin) Stream(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(o.data)), nil
}

type memSnapshot struct {
	*bytes.Reader
	validator string
}

func (s memSnapshot) Close() error                { return nil }
func (s memSnapshot) Stat() (int64, int64, error) { return s.Size(), 1, nil }
func (s memSnapshot) Validator() string           { return s.validator }

// A source of an origin reads the export as a file's, and a read from the
// watermark of the same version and configuration is one empty page
// marked Unchanged; another configuration reads it whole.
func TestOriginSource(t *testing.T) {
	o := &memOrigin{data: "id,name\nE1,Ada\nE2,Grace\n", validator: `etag:"v1"`}
	cfg := Config{Format: CSV, IDColumn: "id"}
	s, err := NewSource(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	objs, _, mark := readAll(t, s, 1)
	if len(objs) != 2 || !strings.HasSuffix(mark, `|etag:"v1"`) {
		t.Fatalf("read %v, watermark %q", objs, mark)
	}
	p, err := s.Read(context.Background(), connectors.ReadRequest{Since: mark})
	if err != nil || !p.Unchanged || len(p.Objects) != 0 || p.Watermark != mark {
		t.Fatalf("read from the watermark: %+v, %v", p, err)
	}
	other, err := NewSource(Config{Format: CSV, IDColumn: "name"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := other.Read(context.Background(), connectors.ReadRequest{Since: mark}); err != nil || p.Unchanged || len(p.Objects) != 2 {
		t.Fatalf("another configuration: %+v, %v", p, err)
	}
	if _, err := NewSource(Config{IDColumn: "id"}, o); err == nil || !strings.Contains(err.Error(), "format: required") {
		t.Errorf("no format: %v", err)
	}
	err = s.Write(context.Background(), connectors.User, "E1", connectors.Attributes{"mail": "ada@example.org"})
	if connectors.KindOf(err) != connectors.KindInvalidRequest {
		t.Errorf("write back to an origin: %v", err)
	}
}
