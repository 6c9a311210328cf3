package activities

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// FetchInput asks for the changed objects of a cycle to be staged.
type FetchInput struct {
	Job   config.Job  `json:"job"`
	Cycle store.Cycle `json:"cycle"`
	// Initial stages every source object, changed or not.
	Initial bool `json:"initial"`
	// PageSize is how many objects are read per source call.
	PageSize int `json:"pageSize,omitempty"`
}

// FetchResult says what was staged.
type FetchResult struct {
	// Staged is how many items the cycle must provision, numbered 1..Staged.
	Staged int `json:"staged"`
	// Read is how many source objects were read.
	Read int `json:"read"`
	// Deleted is how many staged items are deletions found by absence.
	Deleted int `json:"deleted"`
	// Unlinked is how many staged source objects, neither disabled nor
	// deleted, have no target object linked yet: those in scope are
	// matched or created.
	Unlinked int `json:"unlinked,omitempty"`
	// Leaving is how many staged objects with a target object linked are
	// now disabled, out of scope or unassigned: their accounts are disabled
	// (unless the job skips out-of-scope deletions). The deletion guard
	// counts them with Deleted.
	Leaving int `json:"leaving,omitempty"`
	// Watermarks are saved when the cycle completes, per source object type.
	Watermarks map[connectors.ObjectType]string `json:"watermarks,omitempty"`
	// Hold is the accidental-deletion guard's verdict: why the cycle's
	// deletions and disables wait for approval; empty when they may go ahead.
	// It is decided here, with the defaults in force when the cycle read
	// its source, so a replay decides as the cycle did.
	Hold string `json:"hold,omitempty"`
	// Removals counts the staged items that delete or disable a linked
	// target object.
	Removals int `json:"removals,omitempty"`
}

// FetchProgress is the heartbeat checkpoint: a retried fetch resumes from
// the last page it fully staged.
type FetchProgress struct {
	Object int    `json:"object"`
	Cursor string `json:"cursor"`
	// ObjectStart, ObjectStartRead, ObjectStartUnlinked and
	// ObjectStartLeaving are Seq, Read, Unlinked and Leaving when the
	// current object type's read began.
	ObjectStart         int `json:"objectStart"`
	ObjectStartRead     int `json:"objectStartRead"`
	ObjectStartUnlinked int `json:"objectStartUnlinked,omitempty"`
	ObjectStartLeaving  int `json:"objectStartLeaving,omitempty"`
	// Paged is true once every page of the current object type is staged.
	Paged      bool                             `json:"paged,omitempty"`
	Seq        int                              `json:"seq"`
	Read       int                              `json:"read"`
	Deleted    int                              `json:"deleted"`
	Unlinked   int                              `json:"unlinked,omitempty"`
	Leaving    int                              `json:"leaving,omitempty"`
	Watermarks map[connectors.ObjectType]string `json:"watermarks,omitempty"`
	// Removed counts staged removals; ObjectStartRemoved is Removed when
	// the current object type's read began.
	Removed            int `json:"removed,omitempty"`
	ObjectStartRemoved int `json:"objectStartRemoved,omitempty"`
	// AssignedBefore are the assigned groups as the group read began, and
	// Reassigned is set when the read changed who is assigned: a delta
	// source's users are then read in full, as their records did not change.
	AssignedBefore []string `json:"assignedBefore,omitempty"`
	Reassigned     bool     `json:"reassigned,omitempty"`
	// Removals is what the deletion guard weighs, per object type read.
	Removals []config.Removals `json:"removals,omitempty"`
	// Unchanged is set when the current object type's snapshot is the one
	// the last cycle read (connectors.Page.Unchanged): nothing was read, so
	// nothing is absent.
	Unchanged bool `json:"unchanged,omitempty"`
}

const defaultPageSize = 1000

// FetchChanges reads the source page by page and stages every object that
// changed since the last cycle (every object in an initial cycle). Snapshot
// sources are compared with the stored fingerprints; objects the job knows
// but the source no longer has are staged as deletions. A failed read fails
// the activity before deletions are computed, so a source outage never
// deprovisions anybody.
func (a *Activities) FetchChanges(ctx context.Context, in FetchInput) (_ FetchResult, err error) {
	defer classify(&err)
	a = a.forCycle(in.Job.Options.DryRun, in.Cycle)
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return FetchResult{}, err
	}
	defer func() { a.forgetRefusedSource(&in.Job, src, err) }()
	pageSize := in.PageSize
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	var p FetchProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	} else if !in.Job.Options.DryRun {
		a.countEscrows(ctx, in.Job.Name)
	}
	if err := a.Store.TruncateStage(ctx, in.Cycle, p.Seq); err != nil {
		return FetchResult{}, err
	}
	if p.Watermarks == nil {
		p.Watermarks = map[connectors.ObjectType]string{}
	}
	log := a.logger(in.Job.Name).WithField("cycle", in.Cycle.ID)
	steps := fetchSteps(&in.Job)
	for p.Object < len(steps) {
		step := steps[p.Object]
		t := step.Type
		var attrs []string
		if step.Object >= 0 {
			prog, err := a.program(&in.Job, step.Object)
			if err != nil {
				return FetchResult{}, err
			}
			attrs = prog.SourceAttributes()
		}
		since := ""
		if !in.Initial {
			if since, err = a.Store.Watermark(ctx, in.Job.Name, t); err != nil {
				return FetchResult{}, err
			}
		}
		if p.Reassigned && t != connectors.Group {
			since = ""
		}
		staged := map[string]bool{}
		if !p.Paged && p.Cursor == "" {
			p.ObjectStart, p.ObjectStartRead, p.ObjectStartUnlinked, p.ObjectStartLeaving = p.Seq, p.Read, p.Unlinked, p.Leaving
			p.ObjectStartRemoved = p.Removed
			if t == connectors.Group && len(in.Job.Options.AssignedGroups) > 0 {
				if p.AssignedBefore, err = a.Store.FindSourceGroups(ctx, in.Job.Name, in.Job.Options.AssignedGroups); err != nil {
					return FetchResult{}, err
				}
			}
		}
		as, err := a.assignment(ctx, &in.Job)
		if err != nil {
			return FetchResult{}, err
		}
		restarts := 0
		for !p.Paged {
			// A source may take longer than the heartbeat timeout over one
			// page (a report downloaded before its first page).
			at := p
			stop := heartbeating(ctx, func() any { return at })
			page, err := src.Read(ctx, connectors.ReadRequest{Type: t, Since: since, Cursor: p.Cursor, PageSize: pageSize, Attributes: attrs})
			stop()
			if errors.Is(err, connectors.ErrSnapshotChanged) && restarts < maxSnapshotRestarts {
				// The snapshot (an export) was replaced mid-read: read the new one from the start.
				restarts++
				log.WithField("objectType", t).Warn("the source changed during the read; reading it again from the start")
				if p, err = a.restartObject(ctx, in, p); err != nil {
					return FetchResult{}, err
				}
				continue
			}
			if err != nil {
				return FetchResult{}, err
			}
			if t == connectors.Group {
				changed, err := a.recordGroups(ctx, in.Job.Name, page.Objects)
				if err != nil {
					return FetchResult{}, err
				}
				if !p.Reassigned {
					if p.Reassigned, err = a.reassigns(ctx, &in.Job, p.AssignedBefore, changed); err != nil {
						return FetchResult{}, err
					}
				}
			}
			n, err := a.stagePage(ctx, in, step, page.Objects, p.Seq, staged, as)
			if err != nil {
				return FetchResult{}, err
			}
			p.Seq += n.staged
			p.Unlinked += n.unlinked
			p.Leaving += n.leaving
			p.Removed += n.removals
			p.Read += len(page.Objects)
			p.Cursor = page.Cursor
			if page.Cursor == "" {
				p.Paged = true
				p.Watermarks[t] = page.Watermark
				p.Unchanged = page.Unchanged && src.ChangeDetection() == connectors.Snapshot
			}
			activity.RecordHeartbeat(ctx, p)
		}
		complete, err := a.markLive(ctx, in, src, t)
		if err != nil {
			return FetchResult{}, err
		}
		// An unchanged snapshot marked nothing seen: absence means nothing.
		complete = complete && !p.Unchanged
		if complete && t == connectors.Group {
			gone, err := a.Store.ForgetUnseenGroups(ctx, in.Cycle)
			if err != nil {
				return FetchResult{}, err
			}
			if !p.Reassigned {
				if p.Reassigned, err = a.reassigns(ctx, &in.Job, p.AssignedBefore, gone); err != nil {
					return FetchResult{}, err
				}
			}
		}
		if step.Object >= 0 {
			deleted, removed := 0, 0
			if complete {
				if deleted, removed, err = a.stageAbsent(ctx, in, src, step, p.Seq); err != nil {
					return FetchResult{}, err
				}
			}
			p.Seq += deleted
			p.Deleted += deleted
			if err := a.weighRemovals(ctx, in, src, &p, t, removed); err != nil {
				return FetchResult{}, err
			}
			if src.ChangeDetection() == connectors.Delta || p.Unchanged {
				n, err := a.stageDueEscrows(ctx, in, t, p.Seq, staged)
				if err != nil {
					return FetchResult{}, err
				}
				p.Seq += n
			}
		}
		log.WithFields(map[string]any{"objectType": t, "read": p.Read, "staged": p.Seq, "deleted": p.Deleted}).Info("fetched source changes")
		p.Object, p.Cursor, p.Paged, p.Unchanged = p.Object+1, "", false, false
		activity.RecordHeartbeat(ctx, p)
	}
	res := FetchResult{Staged: p.Seq, Read: p.Read, Deleted: p.Deleted, Unlinked: p.Unlinked, Leaving: p.Leaving, Watermarks: p.Watermarks}
	for _, r := range p.Removals {
		res.Removals += r.Removals
	}
	res.Hold = in.Job.Options.DeletionThreshold.Hold(p.Removals)
	if res.Hold != "" {
		log.WithField("removals", res.Removals).Warn("deletions held by the accidental-deletion guard: " + res.Hold)
	}
	return res, nil
}

// weighRemovals records, once an object type is read, what the deletion
// guard weighs of it: its staged removals against the objects the job
// has linked, and whether a snapshot source read none of them.
func (a *Activities) weighRemovals(ctx context.Context, in FetchInput, src connectors.Source, p *FetchProgress, t connectors.ObjectType, absent int) error {
	linked, err := a.Store.CountLinked(ctx, in.Job.Name, t)
	if err != nil {
		return err
	}
	p.Removals = append(p.Removals, config.Removals{
		Type:      string(t),
		Removals:  p.Removed - p.ObjectStartRemoved + absent,
		Linked:    linked,
		ReadEmpty: src.ChangeDetection() == connectors.Snapshot && p.Read == p.ObjectStartRead && !p.Unchanged,
	})
	p.Removed += absent
	return nil
}

// fetchStep reads one object type: the source object of Objects[Object],
// or, when Object is -1, groups read only to know who is assigned.
type fetchStep struct {
	Type   connectors.ObjectType
	Object int
}

// fetchSteps orders the reads: groups first, so the memberships that
// decide assignment are current when users are read, then the other
// object types in the order of the job's objects.
func fetchSteps(job *config.Job) []fetchStep {
	var steps []fetchStep
	if i, ok := job.ObjectIndex(connectors.Group); ok {
		steps = append(steps, fetchStep{Type: connectors.Group, Object: i})
	} else if job.ReadsGroups() {
		steps = append(steps, fetchStep{Type: connectors.Group, Object: -1})
	}
	for i, o := range job.Objects {
		if t := connectors.ObjectType(o.SourceObject); t != connectors.Group {
			steps = append(steps, fetchStep{Type: t, Object: i})
		}
	}
	return steps
}

// reassigns reports whether changed groups change who is assigned: one of
// them is (or was) assigned, or, with nested groups flattened, is inside
// an assigned group. An assigned group no longer found (deleted, renamed)
// reassigns too: a dry run's state does not list among the groups it
// forgets those only the job's state has.
func (a *Activities) reassigns(ctx context.Context, job *config.Job, before, changed []string) (bool, error) {
	if len(job.Options.AssignedGroups) == 0 || len(changed) == 0 && len(before) == 0 {
		return false, nil
	}
	after, err := a.Store.FindSourceGroups(ctx, job.Name, job.Options.AssignedGroups)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(before, func(id string) bool { return !slices.Contains(after, id) }) {
		return true, nil
	}
	assigned := map[string]bool{}
	for _, id := range append(slices.Clone(before), after...) {
		assigned[id] = true
	}
	g := newGroupGraph(a.Store, job)
	if err := g.load(ctx, changed); err != nil {
		return false, err
	}
	for _, id := range changed {
		if assigned[id] {
			return true, nil
		}
		if job.Options.FlattenNestedGroups && slices.ContainsFunc(g.groups(id), func(p string) bool { return assigned[p] }) {
			return true, nil
		}
	}
	return false, nil
}

// maxSnapshotRestarts bounds how often a read starts again because the
// source file was replaced while it was read.
const maxSnapshotRestarts = 3

// restartObject drops what was staged for the current object type so its
// read can begin again.
func (a *Activities) restartObject(ctx context.Context, in FetchInput, p FetchProgress) (FetchProgress, error) {
	p.Seq, p.Read, p.Unlinked, p.Leaving, p.Removed, p.Cursor = p.ObjectStart, p.ObjectStartRead, p.ObjectStartUnlinked, p.ObjectStartLeaving, p.ObjectStartRemoved, ""
	return p, a.Store.TruncateStage(ctx, in.Cycle, p.Seq)
}

// pageCounts is what staging one page counted.
type pageCounts struct {
	staged   int
	unlinked int // not linked yet: matched or created
	leaving  int // linked, and now disabled, out of scope or unassigned
	removals int // staged to delete or disable a linked target object
}

// stagePage stages the objects of one page that need provisioning and
// counts them; a read only for assignment stages nothing. Only what
// comparing needs of the known objects is read.
func (a *Activities) stagePage(ctx context.Context, in FetchInput, step fetchStep, objs []connectors.Object, seq int, staged map[string]bool, as *assignment) (pageCounts, error) {
	t := step.Type
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if o.ID != "" {
			ids = append(ids, o.ID)
		}
	}
	// Malformed records are marked seen too: a row that cannot be read must
	// not look like a deleted person.
	if step.Object < 0 {
		return pageCounts{}, a.Store.MarkSeen(ctx, in.Cycle, t, ids)
	}
	known, err := a.Store.Fingerprints(ctx, in.Job.Name, t, ids)
	if err != nil {
		return pageCounts{}, err
	}
	if err := as.load(ctx, t, ids); err != nil {
		return pageCounts{}, err
	}
	// Objects of a mapping that does not compile fail in their batch; they
	// are not counted here.
	prog, perr := a.program(&in.Job, step.Object)
	countLeaving := perr == nil && !in.Job.Options.SkipOutOfScopeDeletions
	acts := in.Job.Objects[step.Object].Actions
	now := time.Now()
	items := make([]store.StagedItem, 0, len(objs))
	var n pageCounts
	for _, o := range objs {
		f, ok := known[o.ID]
		if !in.Initial && ok && o.Invalid == "" && !o.Deleted {
			assigned := as.assigned(t, o)
			h := sourceHash(o, assigned)
			if f.SourceHash == h && f.Escrow == nil {
				continue
			}
			// An escrowed object waits for its retry time unless its data changed.
			if f.Escrow != nil && now.Before(f.Escrow.RetryAfter) && sourceHash(f.Escrow.Object, assigned) == h {
				continue
			}
		}
		seq++
		staged[o.ID] = true
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: o})
		// Whether the object leaves scope is asked at most once: both
		// counts below may need it.
		leaves := sync.OnceValue(func() bool { return as != nil && !as.assigned(t, o) || !prog.InScope(sourceAttributes(o)) })
		switch {
		case o.Invalid != "" || o.Deleted:
		case !f.Linked && !o.Disabled:
			n.unlinked++
		case f.Linked && f.Active && countLeaving && (o.Disabled || leaves()):
			n.leaving++
		}
		if perr == nil && removal(t, o, f, acts, in.Job.Options, leaves) != "" {
			n.removals++
		}
	}
	if err := a.Store.Stage(ctx, in.Cycle, items); err != nil {
		return pageCounts{}, err
	}
	if err := a.Store.MarkSeen(ctx, in.Cycle, t, ids); err != nil {
		return pageCounts{}, err
	}
	n.staged = len(items)
	return n, nil
}

// markLive marks every object the source still has as seen, and reports
// whether the marks are complete: snapshot reads marked every object as
// they read it; delta sources that can list their IDs are listed now.
// Only then does absence mean deletion.
func (a *Activities) markLive(ctx context.Context, in FetchInput, src connectors.Source, t connectors.ObjectType) (bool, error) {
	if src.ChangeDetection() == connectors.Snapshot {
		return true, nil
	}
	lister, ok := src.(connectors.DeletionDetector)
	if !ok {
		return false, nil
	}
	var batch []string
	flush := func() error {
		err := a.Store.MarkSeen(ctx, in.Cycle, t, batch)
		batch = batch[:0]
		return err
	}
	err := lister.ListIDs(ctx, t, func(id string) error {
		batch = append(batch, id)
		if len(batch) >= 1000 {
			activity.RecordHeartbeat(ctx)
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return err == nil, err
}

// stageAbsent stages deletions for objects the job knows that the source no
// longer returns, once markLive has marked every live object seen, and
// counts those that remove a linked target object.
func (a *Activities) stageAbsent(ctx context.Context, in FetchInput, src connectors.Source, step fetchStep, seq int) (staged, removals int, err error) {
	t, acts := step.Type, in.Job.Objects[step.Object].Actions
	// Objects missing from a snapshot are disabled unless the job deletes
	// them; delta sources listed every live ID, so missing ones are deleted.
	absent := connectors.Object{Deleted: true}
	if src.ChangeDetection() == connectors.Snapshot && !in.Job.Options.DeleteAbsent {
		absent = connectors.Object{Disabled: true, Locator: "absent from the source"}
	}
	var items []store.StagedItem
	err = a.Store.Unseen(ctx, in.Cycle, t, func(o store.ObjectState) error {
		tomb := absent
		tomb.ID = o.SourceID
		if o.SourceHash == objectHash(tomb) && o.Escrow == nil {
			return nil // already handled in an earlier cycle
		}
		seq++
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: tomb})
		if removal(t, tomb, store.Fingerprint{Linked: o.Linked(), Active: o.Active}, acts, in.Job.Options, nil) != "" {
			removals++
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return len(items), removals, a.Store.Stage(ctx, in.Cycle, items)
}

// stageDueEscrows stages escrowed objects whose retry time has come and that
// the delta read did not return again.
func (a *Activities) stageDueEscrows(ctx context.Context, in FetchInput, t connectors.ObjectType, seq int, staged map[string]bool) (int, error) {
	var items []store.StagedItem
	err := a.Store.DueEscrows(ctx, in.Job.Name, t, time.Now(), func(o store.ObjectState) error {
		if staged[o.SourceID] {
			return nil
		}
		seq++
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: o.Escrow.Object})
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(items), a.Store.Stage(ctx, in.Cycle, items)
}

// objectHash fingerprints a source record's content.
func objectHash(o connectors.Object) string {
	return fingerprint(o.Attributes, o.Disabled, o.Deleted, o.Members)
}
