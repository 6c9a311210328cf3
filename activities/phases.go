package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

// PhaseInput asks for one page of a phase that runs after a cycle's object
// batches: memberships, then references. The phase's to-do list is in the
// state store (store.PendingWork); the cursor says where the page starts.
type PhaseInput struct {
	Job    config.Job  `json:"job"`
	Cycle  store.Cycle `json:"cycle"`
	Cursor PhaseCursor `json:"cursor"`
}

// PhaseCursor is where a phase resumes: the object type (an index into the
// types the phase handles) and the last source ID handled.
type PhaseCursor struct {
	Type  int    `json:"type,omitempty"`
	After string `json:"after,omitempty"`
}

// PhaseResult holds one page's provisioning log entries, kept in workflow
// history like a batch's, and where the next page starts.
type PhaseResult struct {
	Entries []audit.Entry `json:"entries"`
	Next    PhaseCursor   `json:"next"`
	Done    bool          `json:"done,omitempty"`
}

// phasePage is how many objects one phase call handles: a group can take
// many requests, so pages are those of the push steps.
func phasePage(job *config.Job) int { return job.Options.WithDefaults().BatchSize }

// heartbeatQuiet is how long a page or batch runs before it heartbeats:
// each heartbeat is a write on the Temporal server, and a call that ends
// well within its heartbeat timeout needs none.
const heartbeatQuiet = 10 * time.Second

// heartbeat is the engine's heartbeat in an activity: Temporal's.
type heartbeat struct{}

func (heartbeat) Beat(ctx context.Context, details ...any) { activity.RecordHeartbeat(ctx, details...) }

func (heartbeat) While(ctx context.Context, progress func() any) (stop func()) {
	return heartbeating(ctx, progress)
}

// heartbeating heartbeats progress() on a clock until the returned stop is
// called, not only when work finishes: calls slower than the heartbeat
// timeout must not time the activity out, or Temporal starts it again
// while this attempt still pushes. It does nothing in an activity without
// a heartbeat timeout.
func heartbeating(ctx context.Context, progress func() any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	timeout := activity.GetInfo(ctx).HeartbeatTimeout
	if timeout <= 0 {
		return func() {}
	}
	quit := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(min(heartbeatQuiet, timeout/2))
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				activity.RecordHeartbeat(ctx, progress())
			case <-quit:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(quit); <-stopped }
}
