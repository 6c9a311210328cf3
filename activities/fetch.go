package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
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
	// Skipping is set while the current object type's read compares with
	// the digest of the last cycle's read (engine.Stager.Skipping), which
	// a retried fetch cannot pick up part way: it reads the type again.
	Skipping bool `json:"skipping,omitempty"`
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
	f, err := a.newFetcher(ctx, in, src)
	if err != nil {
		return FetchResult{}, err
	}
	return f.run(ctx)
}

// fetcher is one FetchChanges call: it reads the job's object types in
// turn, page by page, has the engine stage what changed, and heartbeats
// its progress, from which a retried call resumes.
type fetcher struct {
	a        *Activities
	in       FetchInput
	src      connectors.Source
	engine   *engine.Engine
	pageSize int
	log      *logrus.Entry
	p        FetchProgress
}

// newFetcher starts a fetch, or resumes the one an earlier attempt
// heartbeat, dropping what that attempt staged after its last heartbeat.
func (a *Activities) newFetcher(ctx context.Context, in FetchInput, src connectors.Source) (*fetcher, error) {
	f := &fetcher{a: a, in: in, src: src, engine: a.engine(&in.Job, src, nil), pageSize: in.PageSize,
		log: a.logger(in.Job.Name).WithField("cycle", in.Cycle.ID)}
	if f.pageSize <= 0 {
		f.pageSize = defaultPageSize
	}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &f.p)
	} else if !in.Job.Options.DryRun {
		a.countEscrows(ctx, in.Job.Name)
	}
	if err := a.Store.TruncateStage(ctx, in.Cycle, f.p.Seq); err != nil {
		return nil, err
	}
	if f.p.Watermarks == nil {
		f.p.Watermarks = map[connectors.ObjectType]string{}
	}
	return f, nil
}

// run reads every object type not read yet and says what was staged.
func (f *fetcher) run(ctx context.Context) (FetchResult, error) {
	steps := engine.ReadSteps(&f.in.Job)
	for f.p.Object < len(steps) {
		if err := f.read(ctx, steps[f.p.Object]); err != nil {
			return FetchResult{}, err
		}
		f.p.Object, f.p.Cursor, f.p.Paged, f.p.Unchanged, f.p.Skipping = f.p.Object+1, "", false, false, false
		activity.RecordHeartbeat(ctx, f.p)
	}
	return f.result(), nil
}

// read reads and stages one object type.
func (f *fetcher) read(ctx context.Context, step engine.ReadStep) error {
	attrs, err := f.attributes(step)
	if err != nil {
		return err
	}
	since, err := f.since(ctx, step.Type)
	if err != nil {
		return err
	}
	if f.p.Skipping {
		if err := f.restart(ctx); err != nil {
			return err
		}
	}
	fresh := !f.p.Paged && f.p.Cursor == ""
	if fresh {
		if err := f.begin(ctx, step.Type); err != nil {
			return err
		}
	}
	stager, err := f.engine.Stager(ctx, f.in.Cycle, f.in.Initial, step)
	if err != nil {
		return err
	}
	defer stager.Close()
	if fresh {
		stager.Digest()
	}
	req := connectors.ReadRequest{Type: step.Type, Since: since, PageSize: f.pageSize, Attributes: attrs, Unchanged: stager.Unchanged()}
	if err := f.pages(ctx, stager, req); err != nil {
		return err
	}
	if err := f.end(ctx, stager, step); err != nil {
		return err
	}
	f.log.WithFields(map[string]any{"objectType": step.Type, "read": f.p.Read, "staged": f.p.Seq, "deleted": f.p.Deleted}).Info("fetched source changes")
	return nil
}

// attributes are the source attributes the step's mapping reads; all for
// a read of groups only for assignment.
func (f *fetcher) attributes(step engine.ReadStep) ([]string, error) {
	if step.Object < 0 {
		return nil, nil
	}
	prog, err := f.a.program(&f.in.Job, step.Object)
	if err != nil {
		return nil, err
	}
	return prog.SourceAttributes(), nil
}

// since is the watermark the read of an object type starts from: none in
// an initial cycle, nor for users when a change of assignment has them
// read in full.
func (f *fetcher) since(ctx context.Context, t connectors.ObjectType) (string, error) {
	if f.in.Initial {
		return "", nil
	}
	since, err := f.a.Store.Watermark(ctx, f.in.Job.Name, t)
	if err != nil || f.p.Reassigned && t != connectors.Group {
		return "", err
	}
	return since, nil
}

// begin notes where an object type's read begins, so that a read started
// again can drop what it staged, and, before groups are read, who is
// assigned.
func (f *fetcher) begin(ctx context.Context, t connectors.ObjectType) error {
	p := &f.p
	p.ObjectStart, p.ObjectStartRead, p.ObjectStartUnlinked, p.ObjectStartLeaving = p.Seq, p.Read, p.Unlinked, p.Leaving
	p.ObjectStartRemoved = p.Removed
	if t != connectors.Group || len(f.in.Job.Options.AssignedGroups) == 0 {
		return nil
	}
	var err error
	p.AssignedBefore, err = f.a.Store.FindSourceGroups(ctx, f.in.Job.Name, f.in.Job.Options.AssignedGroups)
	return err
}

// pages reads an object type page by page from where the progress says,
// staging each page and heartbeating after it. The next page is read while
// the last one is staged, so that parsing the source and comparing with
// the store use two cores; only one read is in flight at a time, as a
// source expects.
func (f *fetcher) pages(ctx context.Context, stager *engine.Stager, req connectors.ReadRequest) error {
	rctx, cancel := context.WithCancel(ctx)
	var next <-chan pageRead // the read in flight, of the page at f.p.Cursor
	defer func() {
		cancel()
		if next != nil {
			<-next
		}
	}()
	restarts := 0
	for !f.p.Paged {
		if next == nil {
			next = f.readAhead(rctx, req, f.p.Cursor)
		}
		// A source may take longer than the heartbeat timeout over one
		// page (a report downloaded before its first page).
		at := f.p
		stop := heartbeating(ctx, func() any { return at })
		r := <-next
		next = nil
		stop()
		if errors.Is(r.err, connectors.ErrSnapshotChanged) && restarts < maxSnapshotRestarts {
			// The snapshot (an export) was replaced mid-read: read the new one from the start.
			restarts++
			f.log.WithField("objectType", req.Type).Warn("the source changed during the read; reading it again from the start")
			if err := f.restart(ctx); err != nil {
				return err
			}
			stager.Digest()
			continue
		}
		if r.err != nil {
			return r.err
		}
		if r.page.Cursor != "" {
			next = f.readAhead(rctx, req, r.page.Cursor)
		}
		if err := f.stage(ctx, stager, req.Type, r.page); err != nil {
			return err
		}
		activity.RecordHeartbeat(ctx, f.p)
	}
	return nil
}

// pageRead is the outcome of one source read.
type pageRead struct {
	page connectors.Page
	err  error
}

// readAhead reads the page at cursor in the background.
func (f *fetcher) readAhead(ctx context.Context, req connectors.ReadRequest, cursor string) <-chan pageRead {
	out := make(chan pageRead, 1)
	req.Cursor = cursor
	go func() {
		page, err := f.src.Read(ctx, req)
		out <- pageRead{page, err}
	}()
	return out
}

// stage records a page's groups, stages its objects and counts them.
func (f *fetcher) stage(ctx context.Context, stager *engine.Stager, t connectors.ObjectType, page connectors.Page) error {
	if t == connectors.Group {
		changed, err := f.engine.RecordGroups(ctx, page.Objects)
		if err != nil {
			return err
		}
		if err := f.reassigned(ctx, changed); err != nil {
			return err
		}
	}
	n, err := stager.Page(ctx, page.Objects, f.p.Seq)
	if err != nil {
		return err
	}
	f.count(n)
	p := &f.p
	p.Skipping = stager.Skipping()
	p.Read += len(page.Objects)
	p.Cursor = page.Cursor
	if page.Cursor == "" {
		p.Paged = true
		p.Watermarks[t] = page.Watermark
		p.Unchanged = page.Unchanged && f.src.ChangeDetection() == connectors.Snapshot
	}
	return nil
}

// count adds what the engine staged to the progress.
func (f *fetcher) count(n engine.PageCounts) {
	p := &f.p
	p.Seq += n.Staged
	p.Unlinked += n.Unlinked
	p.Leaving += n.Leaving
	p.Removed += n.Removals
}

// reassigned notes whether changed groups change who is assigned; once
// they do, the read's users are read in full.
func (f *fetcher) reassigned(ctx context.Context, changed []string) error {
	if f.p.Reassigned {
		return nil
	}
	var err error
	f.p.Reassigned, err = f.engine.Reassigns(ctx, f.p.AssignedBefore, changed)
	return err
}

// end finishes an object type once every page is staged: escrows due that
// a delta read or an unchanged snapshot did not return (staged before the
// live IDs are marked seen, see engine.Stager.DueEscrows), deletions found
// by absence, and
// what the deletion guard weighs.
func (f *fetcher) end(ctx context.Context, stager *engine.Stager, step engine.ReadStep) error {
	// A snapshot found unchanged returned nothing, and nothing is absent.
	skipping, gone := stager.Skipping() && !f.p.Unchanged, 0
	if skipping {
		// Unchanged objects were not marked seen: the digest tells the absent.
		n, removed, err := stager.Gone(ctx, f.p.Seq)
		if err != nil {
			return err
		}
		f.p.Seq += n
		f.p.Deleted += n
		gone = removed
	}
	if step.Object >= 0 && (f.src.ChangeDetection() == connectors.Delta || f.p.Unchanged || skipping) {
		n, err := stager.DueEscrows(ctx, f.p.Seq)
		if err != nil {
			return err
		}
		f.count(n)
	}
	complete, err := stager.MarkLive(ctx)
	if err != nil {
		return err
	}
	// An unchanged snapshot marked nothing seen, and a skipping read only
	// the objects that changed: absence means nothing.
	complete = complete && !f.p.Unchanged && !skipping
	if complete && step.Type == connectors.Group {
		gone, err := f.a.Store.ForgetUnseenGroups(ctx, f.in.Cycle)
		if err != nil {
			return err
		}
		if err := f.reassigned(ctx, gone); err != nil {
			return err
		}
	}
	if step.Object < 0 {
		return nil
	}
	deleted, removed := 0, 0
	if complete {
		if deleted, removed, err = stager.Absent(ctx, f.p.Seq); err != nil {
			return err
		}
	}
	f.p.Seq += deleted
	f.p.Deleted += deleted
	if err := f.weighRemovals(ctx, step.Type, removed+gone); err != nil {
		return err
	}
	stager.Keep(f.p.Unchanged)
	return nil
}

// result is what the fetch staged, and the deletion guard's verdict.
func (f *fetcher) result() FetchResult {
	p := f.p
	res := FetchResult{Staged: p.Seq, Read: p.Read, Deleted: p.Deleted, Unlinked: p.Unlinked, Leaving: p.Leaving, Watermarks: p.Watermarks}
	for _, r := range p.Removals {
		res.Removals += r.Removals
	}
	res.Hold = f.in.Job.Options.DeletionThreshold.Hold(p.Removals)
	if res.Hold != "" {
		f.log.WithField("removals", res.Removals).Warn("deletions held by the accidental-deletion guard: " + res.Hold)
	}
	return res
}

// weighRemovals records, once an object type is read, what the deletion
// guard weighs of it: its staged removals against the objects the job
// has linked, and whether a snapshot source read none of them. The linked
// objects are counted only when there are removals to weigh: counting
// reads every object of the type, and the guard holds no cycle without
// removals whatever the count.
func (f *fetcher) weighRemovals(ctx context.Context, t connectors.ObjectType, absent int) error {
	p := &f.p
	removals, linked := p.Removed-p.ObjectStartRemoved+absent, 0
	if removals > 0 {
		var err error
		if linked, err = f.a.Store.CountLinked(ctx, f.in.Job.Name, t); err != nil {
			return err
		}
	}
	p.Removals = append(p.Removals, config.Removals{
		Type:      string(t),
		Removals:  removals,
		Linked:    linked,
		ReadEmpty: f.src.ChangeDetection() == connectors.Snapshot && p.Read == p.ObjectStartRead && !p.Unchanged,
	})
	p.Removed += absent
	return nil
}

// maxSnapshotRestarts bounds how often a read starts again because the
// source file was replaced while it was read.
const maxSnapshotRestarts = 3

// restart drops what was staged for the current object type so its read
// can begin again.
func (f *fetcher) restart(ctx context.Context) error {
	p := &f.p
	p.Seq, p.Read, p.Unlinked, p.Leaving, p.Removed, p.Cursor = p.ObjectStart, p.ObjectStartRead, p.ObjectStartUnlinked, p.ObjectStartLeaving, p.ObjectStartRemoved, ""
	p.Paged, p.Unchanged, p.Skipping = false, false, false
	return f.a.Store.TruncateStage(ctx, f.in.Cycle, p.Seq)
}
