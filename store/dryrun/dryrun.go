// Package dryrun gives a dry-run cycle a state of its own: a store.Store
// that reads through to the job's state and keeps every write in an
// overlay private to the cycle. The dry run sees what it wrote — the
// source groups its read recorded decide assignment in its batches — and
// the job's next real cycle finds the state as the dry run found it.
//
// The overlay lives in the same store as the job's state, under names no
// job can have, so that every worker that runs one of the cycle's
// activities sees it; the cycle's EndCycle drops it. Writes scoped to the
// cycle (staging, seen marks, the target index) belong to the dry run
// alone already and go to the store as they are.
package dryrun

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// Store is the state of one dry-run cycle over the job's state.
type Store struct {
	live  store.Store
	cycle string
}

var _ store.Store = (*Store)(nil)

// New returns the state a dry-run cycle works on: live, the job's state,
// read through, and an overlay of the cycle's writes. Wrappers made with
// the same cycle ID share the overlay, so each activity of the cycle can
// make its own.
func New(live store.Store, cycleID string) *Store {
	return &Store{live: live, cycle: cycleID}
}

// Job names cannot hold a slash, so these names never meet a job's.

// shadow is the job name the overlay's writes are kept under.
func (s *Store) shadow(job string) string { return job + "/dry-run/" + s.cycle }

// forgottenGroups names the source groups the dry run deleted, which the
// job's mirror still has.
func (s *Store) forgottenGroups(job string) string { return job + "/dry-run-forgotten/" + s.cycle }

// maskJob holds which parts of the job's state the dry run hid whole.
func (s *Store) maskJob(job string) string { return job + "/dry-run-masks/" + s.cycle }

func (s *Store) shadowCycle(c store.Cycle) store.Cycle {
	return store.Cycle{Job: s.shadow(c.Job), ID: c.ID}
}

// forgotten is the SourceHash of an object state the dry run forgot: it
// hides the job's state of the object. Real hashes are hexadecimal.
const forgotten = "forgotten by the dry run"

func isForgotten(o store.ObjectState) bool { return o.SourceHash == forgotten }

// mask is a part of the job's state the dry run hid as a whole: after a
// reset, or, for source groups, once a complete read recorded every group
// the source has.
type mask string

const (
	maskObjects    mask = "objects"
	maskEscrows    mask = "escrows"
	maskGroups     mask = "groups"
	maskPending    mask = "pending"
	maskWatermarks mask = "watermarks"
)

// masksKey is the watermark, under maskJob, that lists the masks.
const masksKey connectors.ObjectType = "masks"

type masks []string

func (m masks) has(k mask) bool { return slices.Contains(m, string(k)) }

func (s *Store) masks(ctx context.Context, job string) (masks, error) {
	v, err := s.live.Watermark(ctx, s.maskJob(job), masksKey)
	if err != nil || v == "" {
		return nil, err
	}
	return strings.Split(v, ","), nil
}

func (s *Store) addMasks(ctx context.Context, job string, add ...mask) error {
	m, err := s.masks(ctx, job)
	if err != nil {
		return err
	}
	for _, k := range add {
		if !m.has(k) {
			m = append(m, string(k))
		}
	}
	return s.live.SetWatermark(ctx, s.maskJob(job), masksKey, strings.Join(m, ","))
}

// liveHidden reports whether the job's object states are hidden whole.
func (m masks) liveHidden() bool { return m.has(maskObjects) }

// fromLive prepares a state read from the job's: escrows the dry run
// reset are not there.
func (m masks) fromLive(o store.ObjectState) store.ObjectState {
	if m.has(maskEscrows) {
		o.Escrow = nil
	}
	return o
}

// Objects returns the overlay's states of the objects, and the job's of
// the others.
func (s *Store) Objects(ctx context.Context, job string, t connectors.ObjectType, sourceIDs []string) (map[string]store.ObjectState, error) {
	m, err := s.masks(ctx, job)
	if err != nil {
		return nil, err
	}
	read := func(j string, ids []string) (map[string]store.ObjectState, error) {
		return s.live.Objects(ctx, j, t, ids)
	}
	return overlaid(s, job, sourceIDs, m, read, isForgotten, m.fromLive)
}

// Fingerprints returns what fetch compares, as Objects does.
func (s *Store) Fingerprints(ctx context.Context, job string, t connectors.ObjectType, sourceIDs []string) (map[string]store.Fingerprint, error) {
	m, err := s.masks(ctx, job)
	if err != nil {
		return nil, err
	}
	read := func(j string, ids []string) (map[string]store.Fingerprint, error) {
		return s.live.Fingerprints(ctx, j, t, ids)
	}
	forgot := func(f store.Fingerprint) bool { return f.SourceHash == forgotten }
	fromLive := func(f store.Fingerprint) store.Fingerprint {
		if m.has(maskEscrows) {
			f.Escrow = nil
		}
		return f
	}
	return overlaid(s, job, sourceIDs, m, read, forgot, fromLive)
}

// overlaid reads objects by ID: the overlay's, unless it forgot them, and
// the job's of those the overlay does not hold.
func overlaid[V any](s *Store, job string, ids []string, m masks, read func(job string, ids []string) (map[string]V, error), forgot func(V) bool, fromLive func(V) V) (map[string]V, error) {
	over, err := read(s.shadow(job), ids)
	if err != nil {
		return nil, err
	}
	out := map[string]V{}
	if rest := missing(ids, over); len(rest) > 0 && !m.liveHidden() {
		lv, err := read(job, rest)
		if err != nil {
			return nil, err
		}
		for id, v := range lv {
			out[id] = fromLive(v)
		}
	}
	for id, v := range over {
		if !forgot(v) {
			out[id] = v
		}
	}
	return out, nil
}

// missing returns the IDs that are not keys of held.
func missing[V any](ids []string, held map[string]V) []string {
	var out []string
	for _, id := range ids {
		if _, ok := held[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// PutObject records an object's state in the overlay.
func (s *Store) PutObject(ctx context.Context, job string, o store.ObjectState) error {
	return s.live.PutObject(ctx, s.shadow(job), o)
}

// lister is one of the store's iterations over a job's objects.
type lister func(job string, fn func(store.ObjectState) error) error

// merged calls fn, in source ID order, for the states list returns of the
// overlay and those it returns of the job that the overlay does not hold.
// Both are read before fn is called, so fn may write to the store.
func (s *Store) merged(ctx context.Context, job string, t connectors.ObjectType, m masks, skipLive bool, list lister, fn func(store.ObjectState) error) error {
	var over, lv []store.ObjectState
	err := list(s.shadow(job), func(o store.ObjectState) error {
		if !isForgotten(o) {
			over = append(over, o)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !skipLive && !m.liveHidden() {
		if err := list(job, func(o store.ObjectState) error { lv = append(lv, m.fromLive(o)); return nil }); err != nil {
			return err
		}
		if lv, err = s.notHeld(ctx, job, t, lv); err != nil {
			return err
		}
	}
	for len(over) > 0 || len(lv) > 0 {
		var o store.ObjectState
		if len(lv) == 0 || len(over) > 0 && over[0].SourceID < lv[0].SourceID {
			o, over = over[0], over[1:]
		} else {
			o, lv = lv[0], lv[1:]
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// notHeld drops the job's states of objects the overlay holds or forgot.
func (s *Store) notHeld(ctx context.Context, job string, t connectors.ObjectType, states []store.ObjectState) ([]store.ObjectState, error) {
	if len(states) == 0 {
		return nil, nil
	}
	ids := make([]string, len(states))
	for i, o := range states {
		ids[i] = o.SourceID
	}
	held, err := s.live.Fingerprints(ctx, s.shadow(job), t, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(states, func(o store.ObjectState) bool {
		_, ok := held[o.SourceID]
		return ok
	}), nil
}

// Connections calls fn for every linked object of a type, the overlay's
// states first in their place.
func (s *Store) Connections(ctx context.Context, job string, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	m, err := s.masks(ctx, job)
	if err != nil {
		return err
	}
	return s.merged(ctx, job, t, m, false, func(j string, fn func(store.ObjectState) error) error {
		return s.live.Connections(ctx, j, t, fn)
	}, fn)
}

// allObjects is a cycle ID that nothing marks seen, so that Unseen lists
// every object of the overlay.
const allObjects = "dry run: every object"

// CountLinked counts the linked objects of a type as Connections lists them.
func (s *Store) CountLinked(ctx context.Context, job string, t connectors.ObjectType) (int, error) {
	m, err := s.masks(ctx, job)
	if err != nil {
		return 0, err
	}
	n, err := s.live.CountLinked(ctx, s.shadow(job), t)
	if err != nil || m.liveHidden() {
		return n, err
	}
	lv, err := s.live.CountLinked(ctx, job, t)
	if err != nil {
		return 0, err
	}
	// The job's linked objects the overlay holds are counted by the overlay.
	var held []string
	err = s.live.Unseen(ctx, store.Cycle{Job: s.shadow(job), ID: allObjects}, t, func(o store.ObjectState) error {
		held = append(held, o.SourceID)
		return nil
	})
	if err != nil {
		return 0, err
	}
	f, err := s.live.Fingerprints(ctx, job, t, held)
	if err != nil {
		return 0, err
	}
	for _, fp := range f {
		if fp.Linked {
			lv--
		}
	}
	return n + lv, nil
}

// LookupTarget returns the state of the object linked to a target ID.
func (s *Store) LookupTarget(ctx context.Context, job string, t connectors.ObjectType, targetID string) (store.ObjectState, bool, error) {
	o, ok, err := s.live.LookupTarget(ctx, s.shadow(job), t, targetID)
	if err != nil || ok && !isForgotten(o) {
		return o, ok, err
	}
	m, err := s.masks(ctx, job)
	if err != nil || m.liveHidden() {
		return store.ObjectState{}, false, err
	}
	o, ok, err = s.live.LookupTarget(ctx, job, t, targetID)
	if err != nil || !ok {
		return store.ObjectState{}, false, err
	}
	// The overlay's own state of the object, if any, is not linked to it.
	rest, err := s.notHeld(ctx, job, t, []store.ObjectState{o})
	if err != nil || len(rest) == 0 {
		return store.ObjectState{}, false, err
	}
	return m.fromLive(o), true, nil
}

// Stage writes to the dry run's own staging area.
func (s *Store) Stage(ctx context.Context, c store.Cycle, items []store.StagedItem) error {
	return s.live.Stage(ctx, c, items)
}

// TruncateStage drops staged items of the dry run.
func (s *Store) TruncateStage(ctx context.Context, c store.Cycle, after int) error {
	return s.live.TruncateStage(ctx, c, after)
}

// Staged returns staged items of the dry run.
func (s *Store) Staged(ctx context.Context, c store.Cycle, from, to int) ([]store.StagedItem, error) {
	return s.live.Staged(ctx, c, from, to)
}

// Record stores the outcomes in the dry run's staging area and the object
// states in the overlay; a forgotten object is hidden there.
func (s *Store) Record(ctx context.Context, c store.Cycle, records []store.Record) error {
	var states, outcomes []store.Record
	for _, r := range records {
		switch {
		case r.Forget:
			states = append(states, store.Record{State: &store.ObjectState{Type: r.Type, SourceID: r.SourceID, SourceHash: forgotten}})
		case r.State != nil:
			states = append(states, store.Record{State: r.State})
		}
		if r.Outcome != nil {
			outcomes = append(outcomes, store.Record{Seq: r.Seq, Outcome: r.Outcome})
		}
	}
	// States first: a batch retried after a failure in between redoes the
	// items without outcomes, and their states with them.
	if len(states) > 0 {
		if err := s.live.Record(ctx, s.shadowCycle(c), states); err != nil {
			return err
		}
	}
	return s.live.Record(ctx, c, outcomes)
}

// DueEscrows calls fn for every escrowed object due for a retry.
func (s *Store) DueEscrows(ctx context.Context, job string, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	m, err := s.masks(ctx, job)
	if err != nil {
		return err
	}
	return s.merged(ctx, job, t, m, m.has(maskEscrows), func(j string, fn func(store.ObjectState) error) error {
		return s.live.DueEscrows(ctx, j, t, now, fn)
	}, fn)
}

// UnseenDueEscrows calls fn for every escrowed object due for a retry
// that the dry run did not mark seen.
func (s *Store) UnseenDueEscrows(ctx context.Context, c store.Cycle, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	m, err := s.masks(ctx, c.Job)
	if err != nil {
		return err
	}
	return s.merged(ctx, c.Job, t, m, m.has(maskEscrows), func(j string, fn func(store.ObjectState) error) error {
		return s.live.UnseenDueEscrows(ctx, store.Cycle{Job: j, ID: c.ID}, t, now, fn)
	}, fn)
}

// MarkSeen marks source IDs seen in the dry run, for the job's objects
// and the overlay's alike.
func (s *Store) MarkSeen(ctx context.Context, c store.Cycle, t connectors.ObjectType, sourceIDs []string) error {
	if err := s.live.MarkSeen(ctx, c, t, sourceIDs); err != nil {
		return err
	}
	return s.live.MarkSeen(ctx, s.shadowCycle(c), t, sourceIDs)
}

// Unseen calls fn for every known object the dry run did not mark seen.
func (s *Store) Unseen(ctx context.Context, c store.Cycle, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	m, err := s.masks(ctx, c.Job)
	if err != nil {
		return err
	}
	return s.merged(ctx, c.Job, t, m, false, func(j string, fn func(store.ObjectState) error) error {
		return s.live.Unseen(ctx, store.Cycle{Job: j, ID: c.ID}, t, fn)
	}, fn)
}

// EndCycle drops a cycle's staging area and seen marks; the end of the dry
// run's own cycle drops its overlay too.
func (s *Store) EndCycle(ctx context.Context, c store.Cycle) error {
	if err := s.live.EndCycle(ctx, c); err != nil {
		return err
	}
	if err := s.live.EndCycle(ctx, s.shadowCycle(c)); err != nil {
		return err
	}
	if c.ID != s.cycle {
		return nil
	}
	all := store.ResetScope{Watermark: true, Escrows: true, ConnectorDataStore: true}
	for _, j := range []string{s.shadow(c.Job), s.forgottenGroups(c.Job), s.maskJob(c.Job)} {
		if err := s.live.Reset(ctx, j, all); err != nil {
			return err
		}
	}
	return nil
}

// Watermark returns the watermark the dry run set, or the job's.
func (s *Store) Watermark(ctx context.Context, job string, t connectors.ObjectType) (string, error) {
	v, err := s.live.Watermark(ctx, s.shadow(job), t)
	if err != nil || v != "" {
		// Set values are kept with a prefix, so that an empty one is told from none.
		return strings.TrimPrefix(v, "="), err
	}
	m, err := s.masks(ctx, job)
	if err != nil || m.has(maskWatermarks) {
		return "", err
	}
	return s.live.Watermark(ctx, job, t)
}

// SettleCycle settles the cycle in the overlay, which the dry run's own
// writes unsettle; the job's settled cycle is the job's.
func (s *Store) SettleCycle(ctx context.Context, c store.Cycle) error {
	return s.live.SettleCycle(ctx, store.Cycle{Job: s.shadow(c.Job), ID: c.ID})
}

// SettledCycle returns the cycle the dry run settled, if its states are
// still what that cycle left.
func (s *Store) SettledCycle(ctx context.Context, job string) (string, error) {
	return s.live.SettledCycle(ctx, s.shadow(job))
}

// SetWatermark keeps a watermark in the overlay.
func (s *Store) SetWatermark(ctx context.Context, job string, t connectors.ObjectType, watermark string) error {
	return s.live.SetWatermark(ctx, s.shadow(job), t, "="+watermark)
}

// Reset clears the selected state in the overlay and hides the job's.
func (s *Store) Reset(ctx context.Context, job string, scope store.ResetScope) error {
	if err := s.live.Reset(ctx, s.shadow(job), scope); err != nil {
		return err
	}
	var add []mask
	if scope.Watermark {
		add = append(add, maskWatermarks)
	}
	if scope.Escrows {
		add = append(add, maskEscrows)
	}
	if scope.ConnectorDataStore {
		if err := s.live.Reset(ctx, s.forgottenGroups(job), scope); err != nil {
			return err
		}
		add = append(add, maskObjects, maskGroups, maskPending)
	}
	if len(add) == 0 {
		return nil
	}
	return s.addMasks(ctx, job, add...)
}

// Close leaves the job's store open: its owner closes it.
func (s *Store) Close() error { return nil }

// Referrers returns the objects that refer to the given ones, by the
// overlay's states where it holds them.
func (s *Store) Referrers(ctx context.Context, job string, sourceIDs []string) (map[connectors.ObjectType][]string, error) {
	out, err := s.live.Referrers(ctx, s.shadow(job), sourceIDs)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[connectors.ObjectType][]string{}
	}
	m, err := s.masks(ctx, job)
	if err != nil || m.liveHidden() {
		return out, err
	}
	lv, err := s.live.Referrers(ctx, job, sourceIDs)
	if err != nil {
		return nil, err
	}
	for t, ids := range lv {
		held, err := s.live.Fingerprints(ctx, s.shadow(job), t, ids)
		if err != nil {
			return nil, err
		}
		ids = append(out[t], missing(ids, held)...)
		slices.Sort(ids)
		out[t] = slices.Compact(ids)
	}
	return out, nil
}

// ResetTargetIndex drops the dry run's target index of a type.
func (s *Store) ResetTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType) error {
	return s.live.ResetTargetIndex(ctx, c, t)
}

// AddToTargetIndex adds to the dry run's target index.
func (s *Store) AddToTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objs []store.IndexedObject) error {
	return s.live.AddToTargetIndex(ctx, c, t, objs)
}

// CompleteTargetIndex marks the dry run's target index of a type complete.
func (s *Store) CompleteTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objects int) error {
	return s.live.CompleteTargetIndex(ctx, c, t, objects)
}

// TargetIndexed reports on the dry run's target index of a type.
func (s *Store) TargetIndexed(ctx context.Context, c store.Cycle, t connectors.ObjectType) (int, bool, error) {
	return s.live.TargetIndexed(ctx, c, t)
}

// LookupTargetIndex looks keys up in the dry run's target index.
func (s *Store) LookupTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, keys []store.IndexKey) (map[store.IndexKey][]connectors.TargetObject, error) {
	return s.live.LookupTargetIndex(ctx, c, t, keys)
}
