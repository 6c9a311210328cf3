package file

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// pass is one read of the whole file, page by page.
type pass struct {
	path string
	f    Snapshot
	fp   fingerprint
	hash *fileHash
	sh   *shape
	rows rows
	// firsts is where each ID's first record starts, by the ID's key
	// (idKey): a record whose key is there is a duplicate when the record
	// there has its ID. Keys, not IDs, keep it small. An ID whose key
	// another ID has is kept in collided, with its record number.
	firsts   *firstRecords
	collided map[string]int64
	cursor   string // returned with the last page: a Read with it goes on here
	// mark makes the last page's watermark (Source.watermark).
	mark func(digest, validator string) string
	// remote is set when the bytes are an origin's copy, not a file.
	remote bool
	// index collects where each ID's record starts, and keep receives the
	// index when the pass completes; nil for an origin's copy, and when
	// the index of an earlier pass answers. It is the indexer of firsts.
	index *indexer
	keep  func(*rowIndex)
}

// rows reads records one by one.
type rows interface {
	// next returns the next record, io.EOF after the last one, or an error
	// after which the file cannot be read on.
	next() (record, error)
	// pos is the position after the last record returned.
	pos() position
}

// openRows opens a reader of the configured format, at the beginning or at p.
func openRows(in *input, sh *shape, p *position) (rows, error) {
	switch sh.format {
	case JSON:
		return openJSON(in, sh, p)
	case JSONL:
		return openJSONL(in, sh, p), nil
	}
	return openCSV(in, sh, p)
}

// open starts a read at the beginning, or where cursor c says; last is
// passed on to an origin (see Origin.Open).
func (s *Source) open(ctx context.Context, c string, last Version) (*pass, error) {
	var cur *cursor
	if c != "" {
		var err error
		if cur, err = decodeCursor(c); err != nil {
			return nil, err
		}
	}
	rd, err := s.openFile(ctx, last)
	if err != nil {
		return nil, err
	}
	if s.origin == nil && !s.indexAnswers(rd) {
		rd.index, rd.keep = rd.firsts.x, s.index.Store
	}
	if err := rd.start(cur); err != nil {
		rd.f.Close()
		return nil, err
	}
	return rd, nil
}

// indexAnswers reports whether the index of an earlier pass answers for
// the file as the read finds it, which the read then need not index again.
// An index of other bytes is dropped: it cannot answer for this file, and
// kept while the read builds the next, a million rows' worth would be held
// twice at the read's peak.
func (s *Source) indexAnswers(rd *pass) bool {
	ix := s.index.Load()
	if ix == nil {
		return false
	}
	m, err := ix.match(rd.f, rd.fp)
	switch {
	case err != nil:
		return false
	case m == indexExact:
		return true
	case m == indexStale:
		s.index.CompareAndSwap(ix, nil)
	}
	return false
}

// openFile opens the export and takes its fingerprint, for a read or a
// Get. An origin's own errors (a refused request) keep their kind.
func (s *Source) openFile(ctx context.Context, last Version) (*pass, error) {
	rd := &pass{path: s.name(), sh: newShape(s.cfg), mark: s.watermark, remote: s.origin != nil}
	f, err := s.snapshot(ctx, last)
	if err != nil {
		var ce *connectors.Error
		if errors.As(err, &ce) || errors.Is(err, ErrUnchanged) || ctx.Err() != nil {
			return nil, err
		}
		return nil, rd.unavailable(err.Error())
	}
	rd.f = f
	if rd.fp, err = stat(f); err != nil {
		f.Close()
		return nil, rd.unavailable(err.Error())
	}
	rd.firsts = newFirstRecords(&indexer{size: rd.fp.size})
	return rd, nil
}

func (rd *pass) start(cur *cursor) error {
	var at *position
	if cur == nil {
		rd.hash = newFileHash()
	} else {
		if cur.fp != rd.fp {
			return rd.changed(cur.fp)
		}
		var err error
		if rd.hash, err = cur.restoreHash(); err != nil {
			return err
		}
		if err := rd.scanIDs(cur.at); err != nil {
			return rd.fail(err)
		}
		at = &cur.at
	}
	var err error
	rd.rows, err = openRows(&input{f: rd.f, end: rd.fp.size, hash: rd.hash}, rd.sh, at)
	return rd.fail(err)
}

// scanIDs reads the IDs of the records before a resumed read's position,
// so that duplicates across the resume point are still found. It reads the
// whole file, not just up to the position: a malformed record that is cut
// back to its first line parses as it did in the first read only when the
// bytes after the cut are there too.
func (rd *pass) scanIDs(at position) error {
	sh := *rd.sh
	sh.idsOnly = true
	r, err := openRows(&input{f: rd.f, end: rd.fp.size}, &sh, nil)
	if err != nil {
		return err
	}
	for r.pos().off < at.off {
		start := r.pos()
		rec, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := rd.dedupe(&rec, start); err != nil {
			return err
		}
	}
	if r.pos() != at {
		return fmt.Errorf("the cursor does not fall on a record boundary of the file")
	}
	return nil
}

// page reads up to size records.
func (rd *pass) page(ctx context.Context, size int) (connectors.Page, error) {
	objs := make([]connectors.Object, 0, min(size, 4096))
	for len(objs) < size {
		if len(objs)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return connectors.Page{}, err
			}
		}
		start := rd.rows.pos()
		rec, err := rd.rows.next()
		if err == io.EOF {
			return rd.last(objs)
		}
		if err != nil {
			return connectors.Page{}, rd.fail(err)
		}
		if err := rd.dedupe(&rec, start); err != nil {
			return connectors.Page{}, rd.fail(err)
		}
		objs = append(objs, rec.obj)
	}
	if err := rd.check(); err != nil {
		return connectors.Page{}, err
	}
	c, err := (&cursor{at: rd.rows.pos(), fp: rd.fp, hashed: rd.hash.n}).encode(rd.hash)
	if err != nil {
		return connectors.Page{}, err
	}
	rd.cursor = c
	return connectors.Page{Objects: objs, Cursor: c}, nil
}

func (rd *pass) last(objs []connectors.Object) (connectors.Page, error) {
	if err := rd.check(); err != nil {
		return connectors.Page{}, err
	}
	if rd.hash.n != rd.fp.size {
		return connectors.Page{}, rd.unavailable(fmt.Sprintf("read %d of %d bytes", rd.hash.n, rd.fp.size))
	}
	if rd.index != nil {
		// An index that cannot be built costs later Gets a scan, not this read.
		if ix, err := rd.index.build(rd.f, rd.fp, rd.rows.pos(), rd.sh.format); err == nil {
			rd.keep(ix)
			// Sorted now rather than by the first Get, which would wait
			// for it (a fifth of a second at a million rows).
			go ix.sorted()
		}
	}
	return connectors.Page{Objects: objs, Watermark: rd.mark(hex.EncodeToString(rd.hash.Sum(nil)), rd.f.Validator())}, nil
}

// dedupe turns a record into an invalid one when an earlier record, valid
// or not, had its ID. The record starts at start.
func (rd *pass) dedupe(rec *record, start position) error {
	if rd.index != nil {
		rd.index.malformed(rd.sh, rec)
	}
	if !rec.anchored {
		return nil
	}
	id := rec.obj.ID
	k := idKey(id)
	at, taken := rd.firsts.find(k)
	if taken {
		first, err := rd.recordAt(at, true)
		if err != nil {
			return err
		}
		if first.obj.ID == id {
			rd.duplicate(rec, first.n)
			return nil
		}
		// Another ID has this key.
		if n, ok := rd.collided[id]; ok {
			rd.duplicate(rec, n)
			return nil
		}
		if rd.collided == nil {
			rd.collided = map[string]int64{}
		}
		rd.collided[strings.Clone(id)] = rec.n
	}
	return rd.firsts.add(k, start, !taken)
}

func (rd *pass) duplicate(rec *record, first int64) {
	*rec = rd.sh.invalid(rec.n, rec.obj.ID, fmt.Sprintf("duplicate %s %q, first on %s %d", rd.sh.IDColumn, rec.obj.ID, rd.sh.word, first))
}

// check fails when the file changed since the read began.
func (rd *pass) check() error {
	fp, err := stat(rd.f)
	if err != nil {
		return rd.unavailable(err.Error())
	}
	if fp != rd.fp {
		return rd.changed(rd.fp)
	}
	return nil
}

// fail reports an error that ends the read; a file that changed under the
// reader is the likelier cause of a parse error, so it is reported first.
func (rd *pass) fail(err error) error {
	if err == nil {
		return nil
	}
	if cerr := rd.check(); cerr != nil {
		return cerr
	}
	return rd.unavailable(err.Error())
}

const changedDetail = "the file changed during the read"

// Changed reports whether a Read failed because the file changed since its
// first page. Retrying with the same cursor fails again: the read must start
// again with an empty cursor.
func Changed(err error) bool { return errors.Is(err, connectors.ErrSnapshotChanged) }

func (rd *pass) changed(was fingerprint) error {
	if rd.remote {
		return connectors.SnapshotChanged("read "+rd.path, fmt.Sprintf("the export is no longer the %d bytes the read began on; read it again from the beginning", was.size))
	}
	return connectors.SnapshotChanged("read "+rd.path, fmt.Sprintf("%s (it was %d bytes, modified %s); read it again from the beginning", changedDetail, was.size, was.modified()))
}

func (rd *pass) unavailable(detail string) error {
	return &connectors.Error{Kind: connectors.KindUnavailable, Op: "read " + rd.path, Detail: detail}
}
