package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// ReadStep reads one object type: the source object of Objects[Object],
// or, when Object is -1, groups read only to know who is assigned.
type ReadStep struct {
	Type   connectors.ObjectType
	Object int
}

// ReadSteps orders the reads of a cycle: groups first, so the memberships that
// decide assignment are current when users are read, then the other
// object types in the order of the job's objects.
func ReadSteps(job *config.Job) []ReadStep {
	var steps []ReadStep
	if i, ok := job.ObjectIndex(connectors.Group); ok {
		steps = append(steps, ReadStep{Type: connectors.Group, Object: i})
	} else if job.ReadsGroups() {
		steps = append(steps, ReadStep{Type: connectors.Group, Object: -1})
	}
	for i, o := range job.Objects {
		if t := connectors.ObjectType(o.SourceObject); t != connectors.Group {
			steps = append(steps, ReadStep{Type: t, Object: i})
		}
	}
	return steps
}

// Stager stages the changed objects of one object type of a cycle, as
// the source's pages come in.
type Stager struct {
	e       *Engine
	cycle   store.Cycle
	initial bool
	step    ReadStep
	as      *assignment
	// next records the read's digest, and prior is the digest it compares
	// with (see ReadDigests); nil when the read records or uses none.
	next  *digestWriter
	prior *priorRead
	// held is prior, for the source's goroutine to ask (Unchanged).
	held      atomic.Pointer[priorRead]
	digestDue bool // Digest was called and no page staged since
	digested  bool // objects were compared with the prior read's digest
	buf       []byte
}

// Stager returns the stager of one read step; initial stages every
// object, changed or not.
func (e *Engine) Stager(ctx context.Context, c store.Cycle, initial bool, step ReadStep) (*Stager, error) {
	as, err := e.assignment(ctx)
	if err != nil {
		return nil, err
	}
	return &Stager{e: e, cycle: c, initial: initial, step: step, as: as}, nil
}

// PageCounts is what staging one page counted.
type PageCounts struct {
	Staged   int
	Unlinked int // not linked yet: matched or created
	Leaving  int // linked, and now disabled, out of scope or unassigned
	Removals int // staged to delete or disable a linked target object
}

// Page stages the objects of one page that need provisioning, numbered
// from seq+1, and counts them; a read only for assignment stages nothing.
// Only what comparing needs of the known objects is read.
func (s *Stager) Page(ctx context.Context, objs []connectors.Object, seq int) (PageCounts, error) {
	e, t := s.e, s.step.Type
	ids := pageIDs(objs)
	// Malformed records are marked seen too: a row that cannot be read must
	// not look like a deleted person.
	if s.step.Object < 0 {
		return PageCounts{}, e.store.MarkSeen(ctx, s.cycle, t, ids)
	}
	if err := s.as.load(ctx, t, ids); err != nil {
		return PageCounts{}, err
	}
	if s.digestDue {
		if err := s.startDigest(ctx); err != nil {
			return PageCounts{}, err
		}
	}
	if s.next != nil {
		if objs = s.digest(objs); s.prior != nil {
			ids = pageIDs(objs)
		}
	}
	n, err := s.compare(ctx, objs, ids, seq)
	if err != nil {
		return PageCounts{}, err
	}
	// The seen marks are written once the page is compared, not while: a
	// SQLite store's reads then never keep its log from being checkpointed
	// as it is written.
	return n, e.store.MarkSeen(ctx, s.cycle, t, ids)
}

func pageIDs(objs []connectors.Object) []string {
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if o.ID != "" {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// digest records the page's objects in the read's digest and returns
// those to compare: all of them, or, against a prior read, those it did
// not have as they are. Malformed records and tombstones are always
// compared, as a read without a digest compares them; their IDs are
// recorded and are not absent: a row that cannot be read must not look
// like a person gone, in this cycle or the next.
func (s *Stager) digest(objs []connectors.Object) []connectors.Object {
	d, t := s.e.digests, s.step.Type
	kept := objs
	if s.prior != nil {
		kept = make([]connectors.Object, 0, len(objs))
	}
	s.digested = s.digested || s.prior != nil && len(objs) > 0
	for _, o := range objs {
		switch {
		case o.ID == "":
		case o.Invalid != "" || o.Deleted:
			key := d.idKey(o.ID)
			s.next.add(key, 0, true, o.ID)
			if s.prior != nil {
				s.prior.seen(key)
			}
		default:
			key := d.idKey(o.ID)
			var h uint64
			if o.RecordHash != 0 {
				h = d.recordHash(o.RecordHash, s.as.assigned(t, o))
			} else {
				h, s.buf = d.digestHash(o, s.as.assigned(t, o), s.buf)
			}
			s.next.add(key, h, false, o.ID)
			if s.prior != nil && s.prior.same(key, h) {
				continue
			}
		}
		if s.prior != nil {
			kept = append(kept, o)
		}
	}
	return kept
}

// errUnbuilt is the error of an object the source did not build, saying
// it was unchanged, that the read must compare after all: one the digest
// did not skip. Unchanged only answers yes for what the prior read holds,
// so this is a fault of the worker's, which fails the page rather than
// stage an empty object.
func errUnbuilt(o connectors.Object) error {
	return fmt.Errorf("%w: %q", errUnbuiltObject, o.ID)
}

var errUnbuiltObject = errors.New("the source returned an object it did not build, as unchanged, that the read does not hold")

// Unchanged is the read's connectors.ReadRequest.Unchanged: whether the
// prior read's digest holds the record of id with this hash. A source
// that hashes its records then builds only those that changed. It is nil
// where objects are hashed with more than their record (a job that syncs
// only assigned objects: assignment comes from groups), and says no
// until the digest is loaded, with the read's first page.
func (s *Stager) Unchanged() func(id string, hash uint64) bool {
	d := s.e.digests
	if d == nil || s.as != nil || s.step.Object < 0 || s.step.Type == connectors.Group {
		return nil
	}
	at := 0
	return func(id string, hash uint64) bool {
		p := s.held.Load()
		if p == nil {
			return false
		}
		i, ok := p.lookup(d.idKey(id), &at)
		return ok && p.holds(i, d.recordHash(hash, false))
	}
}

// compare stages the objects of a page that changed, numbered from seq+1.
func (s *Stager) compare(ctx context.Context, objs []connectors.Object, ids []string, seq int) (PageCounts, error) {
	e, in, step, as := s.e, s.e.job, s.step, s.as
	t := step.Type
	if len(objs) == 0 {
		return PageCounts{}, nil
	}
	for _, o := range objs {
		if o.Unchanged {
			return PageCounts{}, errUnbuilt(o)
		}
	}
	// The stored fingerprints are read while the page's are computed.
	type read struct {
		known map[string]store.Fingerprint
		err   error
	}
	reading := make(chan read, 1)
	go func() {
		known, err := e.store.Fingerprints(ctx, in.Name, t, ids)
		reading <- read{known, err}
	}()
	var hashes []string
	if !s.initial {
		hashes = make([]string, len(objs))
		for i, o := range objs {
			if o.Invalid == "" && !o.Deleted {
				hashes[i] = sourceHash(o, as.assigned(t, o))
			}
		}
	}
	r := <-reading
	if r.err != nil {
		return PageCounts{}, r.err
	}
	known := r.known
	// Objects of a mapping that does not compile fail in their batch; they
	// are not counted here.
	now := time.Now()
	items := make([]store.StagedItem, 0, len(objs))
	var n PageCounts
	count := s.counter()
	for i, o := range objs {
		f, ok := known[o.ID]
		if !s.initial && ok && o.Invalid == "" && !o.Deleted {
			assigned, h := as.assigned(t, o), hashes[i]
			if f.SourceHash == h && f.Escrow == nil {
				continue
			}
			// An escrowed object waits for its retry time unless its data changed.
			if f.Escrow != nil && now.Before(f.Escrow.RetryAfter) && sourceHash(f.Escrow.Object, assigned) == h {
				continue
			}
		}
		seq++
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: o})
		count(&n, o, f)
	}
	// Most pages of an incremental cycle stage nothing: no transaction then.
	if len(items) > 0 {
		if err := e.store.Stage(ctx, s.cycle, items); err != nil {
			return PageCounts{}, err
		}
	}
	n.Staged = len(items)
	return n, nil
}

// counter returns what counts a staged object and its stored fingerprint
// in a page's counts. Objects of a mapping that does not compile fail in
// their batch; they are not counted here.
func (s *Stager) counter() func(n *PageCounts, o connectors.Object, f store.Fingerprint) {
	in, as, t := s.e.job, s.as, s.step.Type
	prog, perr := s.e.programs(s.step.Object)
	countLeaving := perr == nil && !in.Options.SkipOutOfScopeDeletions
	acts := in.Objects[s.step.Object].Actions
	return func(n *PageCounts, o connectors.Object, f store.Fingerprint) {
		// Whether the object leaves scope is asked at most once: both
		// counts below may need it.
		leaves := sync.OnceValue(func() bool { return as != nil && !as.assigned(t, o) || !prog.InScope(sourceAttributes(o)) })
		switch {
		case o.Invalid != "" || o.Deleted:
		case !f.Linked && !o.Disabled:
			n.Unlinked++
		case f.Linked && f.Active && countLeaving && (o.Disabled || leaves()):
			n.Leaving++
		}
		if perr == nil && removal(t, o, f, acts, in.Options, leaves) != "" {
			n.Removals++
		}
	}
}

// MarkLive marks every object the source still has as seen, and reports
// whether the marks are complete: snapshot reads marked every object as
// they read it; delta sources that can list their IDs are listed now.
// Only then does absence mean deletion.
func (s *Stager) MarkLive(ctx context.Context) (bool, error) {
	src, t := s.e.source, s.step.Type
	if src.ChangeDetection() == connectors.Snapshot {
		return true, nil
	}
	lister, ok := src.(connectors.DeletionDetector)
	if !ok {
		return false, nil
	}
	var batch []string
	flush := func() error {
		err := s.e.store.MarkSeen(ctx, s.cycle, t, batch)
		batch = batch[:0]
		return err
	}
	err := lister.ListIDs(ctx, t, func(id string) error {
		batch = append(batch, id)
		if len(batch) >= 1000 {
			s.e.beat.Beat(ctx)
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return err == nil, err
}

// Absent stages deletions, numbered from seq+1, for objects the job
// knows that the source no longer returns, once MarkLive has marked every
// live object seen, and counts those that remove a linked target object.
func (s *Stager) Absent(ctx context.Context, seq int) (staged, removals int, err error) {
	return s.stageAbsent(ctx, seq, func(fn func(store.ObjectState) error) error {
		return s.e.store.Unseen(ctx, s.cycle, s.step.Type, fn)
	})
}

// stageAbsent stages deletions, numbered from seq+1, for the known objects
// each lists as absent from the source, in source ID order.
func (s *Stager) stageAbsent(ctx context.Context, seq int, each func(func(store.ObjectState) error) error) (staged, removals int, err error) {
	src, in := s.e.source, s.e.job
	t, acts := s.step.Type, in.Objects[s.step.Object].Actions
	// Objects missing from a snapshot are disabled unless the job deletes
	// them; delta sources listed every live ID, so missing ones are deleted.
	absent := connectors.Object{Deleted: true}
	if src.ChangeDetection() == connectors.Snapshot && !in.Options.DeleteAbsent {
		absent = connectors.Object{Disabled: true, Locator: "absent from the source"}
	}
	var items []store.StagedItem
	err = each(func(o store.ObjectState) error {
		tomb := absent
		tomb.ID = o.SourceID
		if o.SourceHash == sourceHash(tomb, false) && o.Escrow == nil {
			return nil // already handled in an earlier cycle
		}
		seq++
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: tomb})
		if removal(t, tomb, store.Fingerprint{Linked: o.Linked(), Active: o.Active}, acts, in.Options, nil) != "" {
			removals++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return len(items), removals, s.e.store.Stage(ctx, s.cycle, items)
}

// DueEscrows stages, numbered from seq+1, escrowed objects whose retry
// time has come and that the delta read did not return again. It runs
// before MarkLive: the cycle's seen marks are then those of the objects
// the read returned, which were staged already if due. The store answers
// which were returned, so the worker holds none of the read's IDs.
func (s *Stager) DueEscrows(ctx context.Context, seq int) (PageCounts, error) {
	t := s.step.Type
	var due []store.ObjectState
	keep := func(o store.ObjectState) error {
		due = append(due, o)
		return nil
	}
	var err error
	if s.prior != nil && s.digested {
		// Compared with a digest: those of the read's unchanged objects,
		// which were not compared. A record of the ID that could not be
		// read marked it seen, but does not stand for it.
		d := s.e.digests
		err = s.e.store.DueEscrows(ctx, s.e.job.Name, t, time.Now(), func(o store.ObjectState) error {
			if s.prior.skipped(d.idKey(o.SourceID)) {
				return keep(o)
			}
			return nil
		})
	} else {
		err = s.e.store.UnseenDueEscrows(ctx, s.cycle, t, time.Now(), keep)
	}
	if err != nil || len(due) == 0 {
		return PageCounts{}, err
	}
	ids := make([]string, len(due))
	for i, o := range due {
		ids[i] = o.SourceID
	}
	if err := s.as.load(ctx, t, ids); err != nil {
		return PageCounts{}, err
	}
	// Counted as a read that returned them would count them.
	var n PageCounts
	count := s.counter()
	items := make([]store.StagedItem, len(due))
	for i, o := range due {
		seq++
		items[i] = store.StagedItem{Seq: seq, Type: t, Object: o.Escrow.Object}
		count(&n, o.Escrow.Object, store.Fingerprint{SourceHash: o.SourceHash, Linked: o.Linked(), Active: o.Active, Escrow: o.Escrow})
	}
	n.Staged = len(items)
	return n, s.e.store.Stage(ctx, s.cycle, items)
}
