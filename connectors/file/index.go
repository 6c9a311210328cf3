package file

import (
	"cmp"
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"sync"
)

// rowIndex is where each ID's first record starts in one version of a
// local file, kept from the last complete pass over it (a Read, or a Get
// that had to scan) so that a Get seeks to the record instead of scanning
// the file. It costs 16 bytes a record (16 MB for a million rows), in the
// worker's memory, one per Source; it is never changed once built, so
// concurrent Gets share it without a lock.
//
// An index is used only for the bytes it was built from: same size,
// modification time and first and last blocks; or the same bytes followed
// by more (rows appended), when the file's format allows appending. The
// record it points to is read and its ID checked; anything else falls back
// to a scan, so a stale index costs time, never a wrong record.
type rowIndex struct {
	fp         fingerprint
	head, tail uint64   // hashes of the first and last indexBlock bytes
	end        position // after the last record
	// appendable is set when rows appended to the file parse as rows of
	// their own and leave those before them as they were: CSV and JSON
	// Lines ending in a line break, CSV without a malformed row (whose
	// stray quote could swallow what follows).
	appendable bool

	sort    sync.Once
	entries []rowEntry // sorted byKey on first use
}

// rowEntry is where a record starts whose ID's key (idKey) has the high
// half key(), in 16 bytes: that half, the record's line number (40 bits)
// and its byte offset (56 bits). A lookup reads the record and checks its
// ID anyway; a pass tells duplicates by the whole key, its low half kept
// in firstRecords.
type rowEntry struct{ hi, lo uint64 }

const (
	maxLine   = 1<<40 - 1
	maxOffset = 1<<56 - 1
)

var errLongFile = errors.New("a record starts past line 2^40 or byte 2^56: too far into the file to tell duplicates apart")

func newRowEntry(k uint64, at position) (rowEntry, error) {
	if at.n < 0 || at.n > maxLine || at.off < 0 || at.off > maxOffset {
		return rowEntry{}, errLongFile
	}
	n := uint64(at.n)
	return rowEntry{hi: k>>32<<32 | n&math.MaxUint32, lo: n>>32<<56 | uint64(at.off)}, nil
}

func (e rowEntry) key() uint32 { return uint32(e.hi >> 32) }

func (e rowEntry) at() position {
	return position{n: int64(e.hi&math.MaxUint32 | e.lo>>56<<32), off: int64(e.lo & maxOffset)}
}

// byKey orders entries by key, then in file order, so that of the records
// whose keys are alike the first comes first.
func byKey(a, b rowEntry) int {
	return cmp.Or(cmp.Compare(a.key(), b.key()), cmp.Compare(a.lo&maxOffset, b.lo&maxOffset))
}

// indexBlock is how many bytes at each end of the file its identity hashes.
const indexBlock = 64 << 10

var idSeed = maphash.MakeSeed()

// idKey is what the index and a pass's duplicate check know an ID by; a
// test makes every ID's key the same.
var idKey = func(id string) uint64 { return maphash.String(idSeed, id) }

// indexer collects the entries of a pass over the whole file.
type indexer struct {
	entries []rowEntry
	broken  bool  // a CSV record was malformed
	long    bool  // a record lies past what an entry holds
	size    int64 // of the file, to size entries from the first records
}

// sample is how many entries size the rest from the bytes they took, so
// that a large index is not copied again and again as it grows.
const sample = 4096

// add records where the first record of an ID starts.
func (x *indexer) add(rec *record, at position) {
	if rec.anchored && x.addKey(idKey(rec.obj.ID), at) != nil {
		x.long = true
	}
}

// addKey records where the first record of the ID whose key is k starts.
func (x *indexer) addKey(k uint64, at position) error {
	e, err := newRowEntry(k, at)
	if err != nil {
		return err
	}
	if len(x.entries) == sample && at.off > 0 && x.size > at.off {
		x.entries = slices.Grow(x.entries, int(float64(sample)*float64(x.size-at.off)/float64(at.off)*1.1))
	}
	x.entries = append(x.entries, e)
	return nil
}

// malformed notes a record that keeps the file from being extended.
func (x *indexer) malformed(sh *shape, rec *record) {
	if rec.obj.Invalid != "" && sh.format == CSV {
		x.broken = true
	}
}

// build makes the index of a complete pass that ended at end.
func (x *indexer) build(f Snapshot, fp fingerprint, end position, format string) (*rowIndex, error) {
	if x.long {
		return nil, errLongFile
	}
	head, tail, last, err := blocks(f, fp.size)
	if err != nil {
		return nil, err
	}
	return &rowIndex{fp: fp, head: head, tail: tail, end: end, entries: x.entries,
		appendable: format != JSON && !x.broken && end.off == fp.size && last == '\n'}, nil
}

// blocks hashes the first and last indexBlock bytes of the file's first
// size bytes, and returns the last byte.
func blocks(f Snapshot, size int64) (head, tail uint64, last byte, err error) {
	n := min(size, indexBlock)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return 0, 0, 0, err
	}
	head = maphash.Bytes(idSeed, buf)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return 0, 0, 0, err
	}
	tail = maphash.Bytes(idSeed, buf)
	if n > 0 {
		last = buf[n-1]
	}
	return head, tail, last, nil
}

// indexMatch is how an index relates to the file as it is now.
type indexMatch int

const (
	indexStale    indexMatch = iota
	indexExact               // the same bytes
	indexAppended            // the same bytes, then more records
)

// match compares the index with the file f, whose fingerprint is fp.
func (ix *rowIndex) match(f Snapshot, fp fingerprint) (indexMatch, error) {
	switch {
	case fp == ix.fp:
	case fp.size > ix.fp.size && ix.appendable:
	default:
		return indexStale, nil
	}
	head, tail, _, err := blocks(f, ix.fp.size)
	if err != nil || head != ix.head || tail != ix.tail {
		return indexStale, err
	}
	if fp == ix.fp {
		return indexExact, nil
	}
	return indexAppended, nil
}

// lookup returns where the records whose ID may be id start: those whose
// ID's key has the high half of id's.
func (ix *rowIndex) lookup(id string) []rowEntry {
	ix.sorted()
	k := uint32(idKey(id) >> 32)
	i, _ := slices.BinarySearchFunc(ix.entries, k, func(e rowEntry, k uint32) int { return cmp.Compare(e.key(), k) })
	j := i
	for j < len(ix.entries) && ix.entries[j].key() == k {
		j++
	}
	return ix.entries[i:j]
}

// sorted sorts the entries once, for lookups.
func (ix *rowIndex) sorted() { ix.sort.Do(func() { slices.SortFunc(ix.entries, byKey) }) }

// extend returns the index of the file grown past ix, whose records after
// ix.end the indexer x holds.
func (ix *rowIndex) extend(x *indexer, f Snapshot, fp fingerprint, end position, format string) (*rowIndex, error) {
	ix.sorted()
	more := x.entries
	slices.SortFunc(more, byKey)
	x.entries = mergeEntries(ix.entries, more)
	x.broken = x.broken || !ix.appendable
	next, err := x.build(f, fp, end, format)
	if err != nil {
		return nil, err
	}
	next.sort.Do(func() {}) // already sorted
	return next, nil
}

// mergeEntries merges two sorted runs, a's entries first among equal keys.
func mergeEntries(a, b []rowEntry) []rowEntry {
	out := make([]rowEntry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].key() < a[0].key() {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}
