package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
)

// phase is a step that follows a cycle's object batches, done page by
// page by one activity. Azure's order is kept: users and groups, then
// memberships, then references.
type phase struct {
	name     string
	state    *PhaseState
	activity func(ctx workflow.Context, in activities.PhaseInput) workflow.Future
}

// phases lists the phases the job needs, in order; a job without groups
// or reference mappings has none.
func (c *cycleImpl) phases() []phase {
	var out []phase
	if c.in.Job.ManagesGroups() {
		out = append(out, phase{name: "Memberships", state: &c.in.State.Memberships, activity: func(ctx workflow.Context, in activities.PhaseInput) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.SyncMemberships, in)
		}})
	}
	if len(c.in.Job.ReferenceTypes()) > 0 {
		out = append(out, phase{name: "References", state: &c.in.State.References, activity: func(ctx workflow.Context, in activities.PhaseInput) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.ResolveReferences, in)
		}})
	}
	return out
}

// runPhase runs a phase's pages one after another until it is done, a stop
// arrives, the target consistently refuses calls, or the history is big
// enough to continue as new; the phase's state says where it stands.
func (c *cycleImpl) runPhase(ctx workflow.Context, ph phase) (quarantine string, err error) {
	st := &c.in.State
	c.progress(ctx, ph.name, true)
	for !ph.state.Done {
		for c.stop.ReceiveAsync(nil) {
			c.stopping = true
		}
		if c.stopping || c.historyFull(ctx) {
			return "", nil
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Minute,
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
			Summary:             fmt.Sprintf("%s after %q", ph.name, ph.state.Cursor.After),
		})
		var res activities.PhaseResult
		if err := ph.activity(actx, activities.PhaseInput{Job: c.in.Job, Cycle: c.in.Cycle, Cursor: ph.state.Cursor}).Get(ctx, &res); err != nil {
			return "", fmt.Errorf("%s: %w", ph.name, err)
		}
		for _, e := range res.Entries {
			st.Counts.Add(e)
			if e.Status == audit.Failure {
				st.ReferenceFailed++
			}
		}
		ph.state.Cursor, ph.state.Done = res.Next, res.Done
		if reason := refusedByTarget(res.Entries); reason != "" {
			return reason, nil
		}
		if reason := c.escrowThreshold(ctx); reason != "" {
			return reason, nil
		}
		c.progress(ctx, ph.name, false)
	}
	return "", nil
}
