package engine

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// ReadDigests keeps, per job and object type, what the last complete
// snapshot read of a cycle found: each object's ID and a hash of what the
// cycle compared of it, in a file of the worker's temporary directory.
// While the state store still holds what that cycle left
// (store.SettledCycle names it), the next read compares an object whose
// hash is unchanged with nothing else: it is not looked up, marked seen or
// staged, and the objects the digest has and the read did not return are
// the absent ones. At a million objects this is what keeps an incremental
// cycle from reading a million fingerprints. A digest is the worker's own:
// a cycle whose fetch runs on another worker, or after a restart, compares
// every object, and records a digest there.
type ReadDigests struct {
	dir  string
	warn func(msg string, err error)
	seed maphash.Seed
	mu   sync.Mutex
	last map[digestKey]*readDigest
}

type digestKey struct {
	job string
	t   connectors.ObjectType
}

// readDigest is the digest of one complete read, by the cycle that read.
type readDigest struct {
	cycle string
	f     *os.File
	path  string // set while the file could not be unlinked
	n     int
}

// NewReadDigests keeps digests in dir ("" is the system's temporary
// directory), and tells warn when a read goes without one: it then
// compares every object, as it can, but the operator should know why.
func NewReadDigests(dir string, warn func(msg string, err error)) *ReadDigests {
	return &ReadDigests{dir: dir, warn: warn, seed: maphash.MakeSeed(), last: map[digestKey]*readDigest{}}
}

// Close drops every digest.
func (d *ReadDigests) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, rd := range d.last {
		rd.drop()
		delete(d.last, k)
	}
}

func (rd *readDigest) drop() {
	rd.f.Close()
	if rd.path != "" {
		os.Remove(rd.path)
	}
}

// take removes and returns the digest of a job's type when cycle read it.
func (d *ReadDigests) take(k digestKey, cycle string) *readDigest {
	d.mu.Lock()
	defer d.mu.Unlock()
	rd := d.last[k]
	if rd == nil || rd.cycle != cycle || cycle == "" {
		return nil
	}
	delete(d.last, k)
	return rd
}

// keep makes rd the digest of a job's type, dropping the one it replaces.
func (d *ReadDigests) keep(k digestKey, rd *readDigest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.last[k]; old != nil && old != rd {
		old.drop()
	}
	d.last[k] = rd
}

// digestWriter records a read's digest as its pages are staged.
type digestWriter struct {
	rd  *readDigest
	w   *bufio.Writer
	buf []byte
	err error
}

func (d *ReadDigests) create(cycle string) (*digestWriter, error) {
	f, err := os.CreateTemp(d.dir, "provisioner-read-*.digest")
	if err != nil {
		return nil, err
	}
	rd := &readDigest{cycle: cycle, f: f}
	// Unlinked at once where the system allows it, so that a worker that
	// dies leaves no file behind.
	if os.Remove(f.Name()) != nil {
		rd.path = f.Name()
	}
	return &digestWriter{rd: rd, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// add records one object: its ID's key, its hash, and its ID; unread
// when its record could not be read (or was a tombstone), which has no
// hash to compare but an ID that is not absent.
func (w *digestWriter) add(key, hash uint64, unread bool, id string) {
	if w.err != nil {
		return
	}
	b := binary.LittleEndian.AppendUint64(w.buf[:0], key)
	b = binary.LittleEndian.AppendUint64(b, hash)
	b = append(b, flag(unread))
	b = binary.AppendUvarint(b, uint64(len(id)))
	w.buf = append(b, id...)
	_, w.err = w.w.Write(w.buf)
	w.rd.n++
}

// finish flushes the digest and returns it, or the first error met.
func (w *digestWriter) finish() (*readDigest, error) {
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		w.rd.drop()
		return nil, w.err
	}
	return w.rd, nil
}

func (w *digestWriter) discard() { w.rd.drop() }

// digestEntry is one object of a digest read back: its ID's key and hash.
type digestEntry struct{ key, hash uint64 }

// priorRead is the digest of the read a cycle compares with, and which of
// its objects the cycle's read has returned so far. Exports keep their
// order from one day to the next: each object is looked for first where
// the last one found was followed, and by key only when it is not there.
type priorRead struct {
	rd      *readDigest
	entries []digestEntry // in the order of the read
	// kind, by entry, is what load found; flags, by entry, what the read
	// found since. Only flags change once loaded: the source's goroutine
	// may look entries up (holds) while the stager marks them.
	kind  []uint8
	flags []uint8
	// byKey is an open-addressing table of entry indexes (plus one, zero
	// for a free slot), at the key's low bits and after: the first entry
	// of each key, its readable record if it has one.
	byKey []uint32
	next  int // where the next object is looked for first
}

// Kinds of a prior read's entry.
const (
	entryUnread uint8 = 1 << iota // its record could not be read: no hash
	entryAlias                    // another entry of its ID comes first
)

// Flags of a prior read's entry.
const (
	entryAgain   uint8 = 1 << iota // the read returned its ID again
	entrySkipped                   // the read returned it unchanged, and did not compare it
)

var errDigestCollision = errors.New("two IDs of the read have the same key")

// load reads a digest back. An ID's records that could not be read are
// aliases of its first record; two readable records of one key cannot be
// told apart, and make the digest unusable.
func (rd *readDigest) load() (*priorRead, error) {
	p := &priorRead{rd: rd, entries: make([]digestEntry, 0, rd.n), kind: make([]uint8, 0, rd.n), flags: make([]uint8, rd.n)}
	err := rd.each(func(key, hash uint64, unread bool, _ []byte) {
		p.entries = append(p.entries, digestEntry{key, hash})
		p.kind = append(p.kind, flag(unread)*entryUnread)
	})
	if err != nil {
		return nil, err
	}
	// Keys are hashes already: their low bits place them. At most half
	// the slots are taken, so that probes stay short.
	p.byKey = make([]uint32, max(16, 2<<bits.Len(uint(len(p.entries)))))
	mask := uint64(len(p.byKey) - 1)
	for i, e := range p.entries {
		at := e.key & mask
	probe:
		for ; p.byKey[at] != 0; at = (at + 1) & mask {
			j := int(p.byKey[at] - 1)
			if p.entries[j].key != e.key {
				continue
			}
			// The first record of the key stands for it, unless it could
			// not be read and this one could.
			switch {
			case p.kind[i]&entryUnread != 0:
				p.kind[i] |= entryAlias
			case p.kind[j]&entryUnread != 0:
				p.kind[j] |= entryAlias
				p.byKey[at] = uint32(i + 1)
			default:
				return nil, errDigestCollision
			}
			break probe
		}
		if p.byKey[at] == 0 {
			p.byKey[at] = uint32(i + 1)
		}
	}
	return p, nil
}

// each reads the digest's records in the order they were written.
func (rd *readDigest) each(fn func(key, hash uint64, unread bool, id []byte)) error {
	r := bufio.NewReaderSize(io.NewSectionReader(rd.f, 0, 1<<62), 64<<10)
	var id []byte
	for range rd.n {
		// Records are looked at in the reader's buffer, not copied out.
		b, err := r.Peek(17 + binary.MaxVarintLen64)
		if len(b) < 18 {
			return fmt.Errorf("read digest: %w", cmp.Or(err, io.ErrUnexpectedEOF))
		}
		n, k := binary.Uvarint(b[17:])
		if k <= 0 || n > 1<<30 {
			return errors.New("read digest: a damaged record")
		}
		key, hash, unread := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:16]), b[16] != 0
		size := 17 + k + int(n)
		if size <= r.Size() {
			if b, err = r.Peek(size); err != nil {
				return fmt.Errorf("read digest: %w", err)
			}
			fn(key, hash, unread, b[17+k:])
			r.Discard(size)
			continue
		}
		// An ID longer than the buffer.
		r.Discard(17 + k)
		id = slices.Grow(id[:0], int(n))[:n]
		if _, err := io.ReadFull(r, id); err != nil {
			return fmt.Errorf("read digest: %w", err)
		}
		fn(key, hash, unread, id)
	}
	return nil
}

// same reports whether the prior read had a readable record of this key
// with this hash, and notes that the ID was returned again.
func (p *priorRead) same(key, hash uint64) bool {
	i, ok := p.lookup(key, &p.next)
	if !ok {
		return false
	}
	p.flags[i] |= entryAgain
	if !p.holds(i, hash) {
		return false
	}
	p.flags[i] |= entrySkipped
	return true
}

// lookup finds the first entry of this key, trying *at first, and moves
// *at after it: exports keep their order from one read to the next. It
// reads only what load wrote.
func (p *priorRead) lookup(key uint64, at *int) (int, bool) {
	i, ok := *at, *at < len(p.entries) && p.entries[*at].key == key && p.kind[*at]&entryAlias == 0
	if !ok {
		i, ok = p.find(key)
	}
	if ok {
		*at = i + 1
	}
	return i, ok
}

// holds reports whether entry i is a readable record with this hash.
func (p *priorRead) holds(i int, hash uint64) bool {
	return p.kind[i]&entryUnread == 0 && p.entries[i].hash == hash
}

// skipped reports whether the read returned the ID of this key unchanged.
func (p *priorRead) skipped(key uint64) bool {
	i, ok := p.find(key)
	return ok && p.flags[i]&entrySkipped != 0
}

// seen notes that the read returned the ID of this key again, in a record
// that could not be read or as a tombstone: it is not absent.
func (p *priorRead) seen(key uint64) {
	if i, ok := p.find(key); ok {
		p.flags[i] |= entryAgain
	}
}

// returned reports whether the prior read had the ID of this key and the
// read returned it again.
func (p *priorRead) returned(key uint64) bool {
	i, ok := p.find(key)
	return ok && p.flags[i]&entryAgain != 0
}

// find returns the index of the first entry of this key.
func (p *priorRead) find(key uint64) (int, bool) {
	mask := uint64(len(p.byKey) - 1)
	for at := key & mask; p.byKey[at] != 0; at = (at + 1) & mask {
		if i := int(p.byKey[at] - 1); p.entries[i].key == key {
			return i, true
		}
	}
	return 0, false
}

// unreturned forgets which IDs the read returned, for a read started again.
func (p *priorRead) unreturned() {
	for i := range p.flags {
		p.flags[i] &^= entryAgain | entrySkipped
	}
	p.next = 0
}

// absent returns, sorted, the IDs of the prior read that were not
// returned again.
func (p *priorRead) absent() ([]string, error) {
	var ids []string
	i := 0
	err := p.rd.each(func(_, _ uint64, _ bool, id []byte) {
		if p.flags[i]&entryAgain == 0 && p.kind[i]&entryAlias == 0 {
			ids = append(ids, string(id))
		}
		i++
	})
	slices.Sort(ids)
	return ids, err
}

// digestHash hashes what the fetch compares of an object: its content
// and whether it is assigned (sourceHash). Attributes are hashed one by
// one and summed, so that their order does not count.
func (d *ReadDigests) digestHash(o connectors.Object, assigned bool, buf []byte) (uint64, []byte) {
	var sum uint64
	for k, v := range o.Attributes {
		buf = append(append(buf[:0], k...), 0)
		// Text, nearly every value, is hashed as it is; other values as
		// their JSON, which no text's tag byte can be mistaken for.
		switch v := v.(type) {
		case string:
			buf = append(append(buf, 's'), v...)
		case nil:
			buf = append(buf, 'n')
		default:
			buf = append(buf, 'j')
			if enc, err := store.AppendJSON(buf, v); err == nil {
				buf = enc
			} else {
				buf = fmt.Appendf(buf, "%T %#v", v, v)
			}
		}
		sum += maphash.Bytes(d.seed, buf)
	}
	buf = binary.LittleEndian.AppendUint64(buf[:0], sum)
	buf = append(buf, flag(o.Disabled), flag(o.Deleted), flag(assigned), flag(o.Members != nil))
	for _, m := range o.Members {
		buf = binary.AppendUvarint(buf, uint64(len(m)))
		buf = append(buf, m...)
	}
	return maphash.Bytes(d.seed, buf), buf
}

// recordHash is the hash of an object whose source hashed its record
// (connectors.Object.RecordHash), with whether it is assigned. It is
// tagged apart from digestHash's input.
func (d *ReadDigests) recordHash(h uint64, assigned bool) uint64 {
	var b [10]byte
	b[0] = 'r'
	binary.LittleEndian.PutUint64(b[1:], h)
	b[9] = flag(assigned)
	return maphash.Bytes(d.seed, b[:])
}

func (d *ReadDigests) idKey(id string) uint64 { return maphash.String(d.seed, id) }

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// Digest has the read record its digest, and compare with the digest of
// the settled cycle's read of the type when this worker holds it
// (Skipping then reports true), unless the cycle is an initial one. It is
// for a read from its first page: a read resumed part way through records
// none; a read started again calls it again. Only snapshot reads of a
// job's objects keep digests, not a dry run's nor a group read's. The
// source is asked how it detects changes with the first page staged, not
// before its first read: that question may cost a request.
func (s *Stager) Digest() {
	if s.next != nil {
		s.next.discard()
		s.next = nil
	}
	if s.prior != nil {
		s.prior.unreturned()
	}
	s.digestDue, s.digested = true, false
}

// startDigest begins the digest Digest asked for.
func (s *Stager) startDigest(ctx context.Context) error {
	s.digestDue = false
	e := s.e
	d := e.digests
	if d == nil || e.job.Options.DryRun || s.step.Object < 0 || s.step.Type == connectors.Group ||
		e.source.ChangeDetection() != connectors.Snapshot {
		return nil
	}
	next, err := d.create(s.cycle.ID)
	if err != nil {
		d.warn("the read keeps no digest: the next cycle compares every object", err)
		s.Close()
		return nil
	}
	s.next = next
	if s.prior != nil || s.initial {
		return nil
	}
	settled, err := e.store.SettledCycle(ctx, e.job.Name)
	if err != nil {
		return err
	}
	rd := d.take(digestKey{e.job.Name, s.step.Type}, settled)
	if rd == nil {
		return nil
	}
	if s.prior, err = rd.load(); err != nil {
		rd.drop()
		d.warn("the last read's digest is not used: every object is compared", err)
		return nil
	}
	s.held.Store(s.prior)
	return nil
}

// Skipping reports whether the read compares with a prior read's digest:
// unchanged objects are then neither compared nor marked seen, and Gone,
// not Absent, finds the absent ones.
func (s *Stager) Skipping() bool { return s.prior != nil }

// Gone stages deletions, numbered from seq+1, for the known objects this
// read did not return, marks them seen, and counts those that remove a
// linked target object: the objects of the prior read it did not return,
// and escrowed objects it did not return either (those the prior read had
// not, an escrowed deletion among them, are tried again as a read that
// compares every object tries them). The marks keep the due escrows of the
// read (DueEscrows, next) from staging them a second time.
func (s *Stager) Gone(ctx context.Context, seq int) (staged, removals int, err error) {
	ids, err := s.prior.absent()
	if err != nil {
		return 0, 0, err
	}
	d := s.e.digests
	err = s.e.store.UnseenDueEscrows(ctx, s.cycle, s.step.Type, time.Unix(1<<40, 0), func(o store.ObjectState) error {
		if !s.prior.returned(d.idKey(o.SourceID)) {
			ids = append(ids, o.SourceID)
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, 0, err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	states, err := s.e.store.Objects(ctx, s.e.job.Name, s.step.Type, ids)
	if err != nil {
		return 0, 0, err
	}
	staged, removals, err = s.stageAbsent(ctx, seq, func(fn func(store.ObjectState) error) error {
		for _, id := range ids {
			if o, ok := states[id]; ok {
				if err := fn(o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return staged, removals, s.e.store.MarkSeen(ctx, s.cycle, s.step.Type, ids)
}

// Keep makes the read's digest the one the next cycle compares with, once
// the read is complete. A read that found the snapshot unchanged
// (connectors.Page.Unchanged) read no object: the prior read's digest,
// if any, stands for it.
func (s *Stager) Keep(unchanged bool) {
	if s.next == nil {
		return
	}
	k := digestKey{s.e.job.Name, s.step.Type}
	if unchanged {
		if s.prior != nil {
			s.prior.rd.cycle = s.cycle.ID
			s.e.digests.keep(k, s.prior.rd)
			s.prior = nil
			s.held.Store(nil)
		}
		s.Close()
		return
	}
	rd, err := s.next.finish()
	s.next = nil
	if err != nil {
		s.e.digests.warn("the read keeps no digest: the next cycle compares every object", err)
	} else {
		s.e.digests.keep(k, rd)
	}
	s.Close()
}

// Close drops what the stager holds of digests and did not keep.
func (s *Stager) Close() {
	if s.next != nil {
		s.next.discard()
		s.next = nil
	}
	if s.prior != nil {
		s.prior.rd.drop()
		s.prior = nil
		s.held.Store(nil)
	}
}
