package file

import (
	"context"
	"fmt"
	"io"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Getter = (*Source)(nil)

// Get returns the record whose ID is id as Read returns it. The file is
// scanned from the start and the first record with the ID is returned,
// since Read reports later ones as duplicates; a record with no ID of its
// own (Read gives it one like "row:17") is never found, as in Write.
//
// Errors are those of Read: Unavailable when the file cannot be read or
// changes during the scan; NotFound when no record has the ID.
func (s *Source) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	if t != "" && t != s.cfg.Type {
		return connectors.Object{}, fmt.Errorf("file source %s holds %s objects, not %s", s.name(), s.cfg.Type, t)
	}
	rd, err := s.openFile(ctx, Version{})
	if err != nil {
		return connectors.Object{}, err
	}
	defer rd.f.Close()
	rd.sh.want = wanted(attributes)
	// Records with other IDs are not built, only skipped.
	rd.sh.only = id
	r, err := openRows(&input{f: rd.f, end: rd.fp.size}, rd.sh, nil)
	if err != nil {
		return connectors.Object{}, rd.fail(err)
	}
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return connectors.Object{}, err
			}
		}
		rec, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return connectors.Object{}, rd.fail(err)
		}
		if rec.anchored && rec.obj.ID == id {
			if err := rd.check(); err != nil {
				return connectors.Object{}, err
			}
			return rec.obj, nil
		}
	}
	if err := rd.check(); err != nil {
		return connectors.Object{}, err
	}
	return connectors.Object{}, &connectors.Error{Kind: connectors.KindNotFound, Op: "read " + rd.path,
		Detail: fmt.Sprintf("no record has %s %q", s.cfg.IDColumn, id)}
}
