package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
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
	// Watermarks are saved when the cycle completes, per source object type.
	Watermarks map[connectors.ObjectType]string `json:"watermarks,omitempty"`
}

// FetchProgress is the heartbeat checkpoint: a retried fetch resumes from
// the last page it fully staged.
type FetchProgress struct {
	Object int    `json:"object"`
	Cursor string `json:"cursor"`
	// ObjectStart and ObjectStartRead are Seq and Read when the current
	// object type's read began.
	ObjectStart     int `json:"objectStart"`
	ObjectStartRead int `json:"objectStartRead"`
	// Paged is true once every page of the current object type is staged.
	Paged      bool                             `json:"paged,omitempty"`
	Seq        int                              `json:"seq"`
	Read       int                              `json:"read"`
	Deleted    int                              `json:"deleted"`
	Watermarks map[connectors.ObjectType]string `json:"watermarks,omitempty"`
}

const defaultPageSize = 1000

// FetchChanges reads the source page by page and stages every object that
// changed since the last cycle (every object in an initial cycle). Snapshot
// sources are compared with the stored fingerprints; objects the job knows
// but the source no longer has are staged as deletions. A failed read fails
// the activity before deletions are computed, so a source outage never
// deprovisions anybody.
func (a *Activities) FetchChanges(ctx context.Context, in FetchInput) (FetchResult, error) {
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return FetchResult{}, err
	}
	pageSize := in.PageSize
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	var p FetchProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	if err := a.Store.TruncateStage(ctx, in.Cycle, p.Seq); err != nil {
		return FetchResult{}, err
	}
	if p.Watermarks == nil {
		p.Watermarks = map[connectors.ObjectType]string{}
	}
	log := a.logger(in.Job.Name).WithField("cycle", in.Cycle.ID)
	for p.Object < len(in.Job.Objects) {
		obj := in.Job.Objects[p.Object]
		t := connectors.ObjectType(obj.SourceObject)
		prog, err := a.program(&in.Job, p.Object)
		if err != nil {
			return FetchResult{}, err
		}
		since := ""
		if !in.Initial {
			if since, err = a.Store.Watermark(ctx, in.Job.Name, t); err != nil {
				return FetchResult{}, err
			}
		}
		staged := map[string]bool{}
		if !p.Paged && p.Cursor == "" {
			p.ObjectStart, p.ObjectStartRead = p.Seq, p.Read
		}
		restarts := 0
		for !p.Paged {
			page, err := src.Read(ctx, connectors.ReadRequest{Type: t, Since: since, Cursor: p.Cursor, PageSize: pageSize, Attributes: prog.SourceAttributes()})
			if file.Changed(err) && restarts < maxSnapshotRestarts {
				// The export was replaced mid-read: read the new one from the start.
				restarts++
				log.WithField("objectType", t).Warn("the source file changed during the read; reading it again")
				if p, err = a.restartObject(ctx, in, p); err != nil {
					return FetchResult{}, err
				}
				continue
			}
			if err != nil {
				return FetchResult{}, err
			}
			n, err := a.stagePage(ctx, in, t, page.Objects, p.Seq, staged)
			if err != nil {
				return FetchResult{}, err
			}
			p.Seq += n
			p.Read += len(page.Objects)
			p.Cursor = page.Cursor
			if page.Cursor == "" {
				p.Paged = true
				p.Watermarks[t] = page.Watermark
			}
			activity.RecordHeartbeat(ctx, p)
		}
		deleted, err := a.stageAbsent(ctx, in, src, t, p.Seq)
		if err != nil {
			return FetchResult{}, err
		}
		p.Seq += deleted
		p.Deleted += deleted
		if src.ChangeDetection() == connectors.Delta {
			n, err := a.stageDueEscrows(ctx, in, t, p.Seq, staged)
			if err != nil {
				return FetchResult{}, err
			}
			p.Seq += n
		}
		log.WithFields(map[string]any{"objectType": t, "read": p.Read, "staged": p.Seq, "deleted": p.Deleted}).Info("fetched source changes")
		p.Object, p.Cursor, p.Paged = p.Object+1, "", false
		activity.RecordHeartbeat(ctx, p)
	}
	return FetchResult{Staged: p.Seq, Read: p.Read, Deleted: p.Deleted, Watermarks: p.Watermarks}, nil
}

// maxSnapshotRestarts bounds how often a read starts again because the
// source file was replaced while it was read.
const maxSnapshotRestarts = 3

// restartObject drops what was staged for the current object type so its
// read can begin again.
func (a *Activities) restartObject(ctx context.Context, in FetchInput, p FetchProgress) (FetchProgress, error) {
	p.Seq, p.Read, p.Cursor = p.ObjectStart, p.ObjectStartRead, ""
	return p, a.Store.TruncateStage(ctx, in.Cycle, p.Seq)
}

// stagePage stages the objects of one page that need provisioning.
func (a *Activities) stagePage(ctx context.Context, in FetchInput, t connectors.ObjectType, objs []connectors.Object, seq int, staged map[string]bool) (int, error) {
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if o.ID != "" {
			ids = append(ids, o.ID)
		}
	}
	known, err := a.Store.Objects(ctx, in.Job.Name, t, ids)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var items []store.StagedItem
	for _, o := range objs {
		st, ok := known[o.ID]
		if !in.Initial && ok && o.Invalid == "" && !o.Deleted {
			h := objectHash(o)
			if st.SourceHash == h && st.Escrow == nil {
				continue
			}
			// An escrowed object waits for its retry time unless its data changed.
			if st.Escrow != nil && now.Before(st.Escrow.RetryAfter) && objectHash(st.Escrow.Object) == h {
				continue
			}
		}
		seq++
		staged[o.ID] = true
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: o})
	}
	if err := a.Store.Stage(ctx, in.Cycle, items); err != nil {
		return 0, err
	}
	// Malformed records are marked seen too: a row that cannot be read must
	// not look like a deleted person.
	if err := a.Store.MarkSeen(ctx, in.Cycle, t, ids); err != nil {
		return 0, err
	}
	return len(items), nil
}

// stageAbsent stages deletions for objects the job knows that the source no
// longer returns: all snapshot sources, and delta sources that can list IDs.
func (a *Activities) stageAbsent(ctx context.Context, in FetchInput, src connectors.Source, t connectors.ObjectType, seq int) (int, error) {
	if src.ChangeDetection() == connectors.Delta {
		lister, ok := src.(connectors.DeletionDetector)
		if !ok {
			return 0, nil
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
		if err != nil {
			return 0, err
		}
	}
	// Objects missing from a snapshot are disabled unless the job deletes
	// them; delta sources listed every live ID, so missing ones are deleted.
	absent := connectors.Object{Deleted: true}
	if src.ChangeDetection() == connectors.Snapshot && !in.Job.Options.DeleteAbsent {
		absent = connectors.Object{Disabled: true, Locator: "absent from the source"}
	}
	var items []store.StagedItem
	err := a.Store.Unseen(ctx, in.Cycle, t, func(o store.ObjectState) error {
		tomb := absent
		tomb.ID = o.SourceID
		if o.SourceHash == objectHash(tomb) && o.Escrow == nil {
			return nil // already handled in an earlier cycle
		}
		seq++
		items = append(items, store.StagedItem{Seq: seq, Type: t, Object: tomb})
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(items), a.Store.Stage(ctx, in.Cycle, items)
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
