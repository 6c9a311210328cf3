package file

import (
	"context"
	"fmt"
	"io"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Getter = (*Source)(nil)

// Get returns the record whose ID is id as Read returns it: the first
// record with the ID, since Read reports later ones as duplicates; a record
// with no ID of its own (Read gives it one like "row:17") is never found,
// as in Write.
//
// A local file is looked up in the index of the last complete pass over it
// (see rowIndex): the record is read where the index says it starts. When
// the file has only grown since, an ID the index lacks is looked for in the
// records after those indexed; when it changed otherwise, or has no index
// yet, the whole file is scanned and indexed.
//
// Errors are those of Read: Unavailable when the file cannot be read or
// changes during the scan; NotFound when no record has the ID.
func (s *Source) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	if t != "" && t != s.cfg.Type {
		return connectors.Object{}, fmt.Errorf("file source %s holds %s objects, not %s", s.name(), s.cfg.Type, t)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Object{}, err
	}
	rd, err := s.openFile(ctx, Version{})
	if err != nil {
		return connectors.Object{}, err
	}
	defer rd.f.Close()
	rd.sh.setWant(attributes)
	// Records with other IDs are not built, only skipped.
	rd.sh.only = id
	if s.origin != nil {
		obj, _, err := rd.scan(ctx, id, nil, nil)
		return obj, err
	}
	if obj, done, err := s.getIndexed(ctx, rd, id, false); done {
		return obj, err
	}
	// One scan at a time: the others then find the index it built.
	s.scanning.Lock()
	defer s.scanning.Unlock()
	if obj, done, err := s.getIndexed(ctx, rd, id, true); done {
		return obj, err
	}
	x := &indexer{size: rd.fp.size}
	obj, end, err := rd.scan(ctx, id, nil, x)
	if end != nil {
		if ix, err := x.build(rd.f, rd.fp, *end, rd.sh.format); err == nil {
			s.index.Store(ix)
		}
	}
	return obj, err
}

// getIndexed looks id up in the index; done is false when the index does
// not answer for the file as it is, or when the records appended since it
// was built must be scanned and scanning is not held.
func (s *Source) getIndexed(ctx context.Context, rd *pass, id string, scanning bool) (obj connectors.Object, done bool, err error) {
	ix := s.index.Load()
	if ix == nil {
		return connectors.Object{}, false, nil
	}
	m, err := ix.match(rd.f, rd.fp)
	if err != nil || m == indexStale {
		return connectors.Object{}, false, nil
	}
	if entries := ix.lookup(id); len(entries) > 0 {
		for _, e := range entries {
			rec, err := rd.recordAt(e.at(), false)
			if err != nil {
				return connectors.Object{}, false, nil
			}
			if rec.anchored && rec.obj.ID == id {
				return rec.obj, true, rd.check()
			}
		}
		// The index points elsewhere: the file changed under its identity.
		return connectors.Object{}, false, nil
	}
	if m == indexExact {
		return connectors.Object{}, true, rd.notFound(id)
	}
	// Rows were appended: only they can hold an ID the index lacks.
	if !scanning {
		return connectors.Object{}, false, nil
	}
	x := &indexer{size: rd.fp.size}
	obj, end, err := rd.scan(ctx, id, &ix.end, x)
	if end != nil {
		if next, err := ix.extend(x, rd.f, rd.fp, *end, rd.sh.format); err == nil {
			s.index.Store(next)
		}
	}
	return obj, true, err
}

// recordAt reads the record that starts at p; with its ID only when
// idOnly is set.
func (rd *pass) recordAt(p position, idOnly bool) (record, error) {
	at := &p
	if p.n == 0 { // the first record: a reader can only resume after one
		at = nil
	}
	sh := rd.sh
	if idOnly {
		bare := *rd.sh
		bare.idsOnly, sh = true, &bare
	}
	r, err := openRows(&input{f: rd.f, end: rd.fp.size}, sh, at)
	if err != nil {
		return record{}, err
	}
	return r.next()
}

// scan reads the records from p (nil: the beginning) and returns the first
// with the ID. Given an indexer x, it reads on to the end and indexes every
// ID, returning where the last record ends; a record found before an error
// later in the file is still returned, without that end.
func (rd *pass) scan(ctx context.Context, id string, p *position, x *indexer) (connectors.Object, *position, error) {
	r, err := openRows(&input{f: rd.f, end: rd.fp.size}, rd.sh, p)
	if err != nil {
		return connectors.Object{}, nil, rd.fail(err)
	}
	var (
		found connectors.Object
		ok    bool
	)
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return connectors.Object{}, nil, err
			}
		}
		start := r.pos()
		rec, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ok {
				return found, nil, rd.check()
			}
			return connectors.Object{}, nil, rd.fail(err)
		}
		if x != nil {
			// Later records with an ID are indexed too, rather than
			// remembering every ID: lookups try the first one first.
			x.malformed(rd.sh, &rec)
			x.add(&rec, start)
		}
		if !ok && rec.anchored && rec.obj.ID == id {
			found, ok = rec.obj, true
			if x == nil {
				break
			}
		}
	}
	if err := rd.check(); err != nil {
		return connectors.Object{}, nil, err
	}
	end := r.pos()
	if !ok {
		return connectors.Object{}, &end, rd.notFound(id)
	}
	return found, &end, nil
}

func (rd *pass) notFound(id string) error {
	return &connectors.Error{Kind: connectors.KindNotFound, Op: "read " + rd.path,
		Detail: fmt.Sprintf("no record has %s %q", rd.sh.IDColumn, id)}
}
