package workflows

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

// runCycle runs (or resumes) one cycle as a child workflow and waits for it,
// handling signals meanwhile.
func (j *jobImpl) runCycle(ctx workflow.Context) error {
	// The cycle runs the job's mappings as they are now: a stopped cycle
	// of older mappings was dropped when they changed.
	mappings := j.st.MappingVersion
	in := j.st.PausedCycle
	if in == nil {
		j.st.CycleNumber++
		info := workflow.GetInfo(ctx)
		in = &CycleInput{
			Job:    j.resolved,
			Cycle:  store.Cycle{Job: j.cfg.Name, ID: cycleID(j.st.CycleNumber, info.FirstRunID)},
			Number: j.st.CycleNumber,
			Kind:   j.st.NextKind,
			Parent: info.WorkflowExecution.ID,
		}
	}
	j.st.PausedCycle, j.st.SyncNow = nil, false
	j.cycleID = fmt.Sprintf("%s/cycle-%d", in.Parent, in.Number)
	// The cycle answers the progress query: signalling progress here would
	// grow the job's run with the cycle's length.
	j.st.Current = &api.CycleProgress{Number: in.Number, Kind: in.Kind, Phase: api.PhaseRunning, Started: workflow.Now(ctx), Counts: audit.Counts{}, Workflow: j.cycleID}
	j.publish(ctx)

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            j.cycleID,
		StaticSummary:         fmt.Sprintf("%s cycle %d of %s", in.Kind, in.Number, j.cfg.Name),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_TERMINATE,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(api.AttrJob.ValueSet(j.cfg.Name), api.AttrApplication.ValueSet(j.cfg.Target.Application), api.AttrCycleKind.ValueSet(string(in.Kind))),
	})
	fut := workflow.ExecuteChildWorkflow(cctx, ProvisioningCycle, *in)
	var (
		res  CycleResult
		err  error
		done bool
	)
	sel := workflow.NewSelector(ctx)
	j.addSignals(ctx, sel)
	sel.AddFuture(fut, func(f workflow.Future) {
		err = f.Get(ctx, &res)
		done = true
	})
	for !done {
		sel.Select(ctx)
	}
	j.cycleID = ""
	j.cycleEnded(ctx, in.Kind, res, err)
	j.exportCycleLog(ctx, fut, in)
	j.st.Current = nil
	now := workflow.Now(ctx)
	// New mappings that arrived while the cycle ran asked for an initial
	// cycle, which the cycle's end must not replace.
	remapped := j.st.MappingVersion != mappings && workflow.GetVersion(ctx, keepInitialChange, workflow.DefaultVersion, 1) == 1
	switch {
	case err != nil:
		j.st.LastError = fmt.Sprintf("cycle %d: %v", in.Number, err)
		j.log.Error("cycle failed", "cycle", in.Number, "error", err)
		j.scheduleNext(ctx, now, in.Kind)
	case res.Paused:
		j.st.PausedCycle = &res.Resume
		j.st.Totals.Merge(countsSince(res.Summary.Counts, in.State.Counts))
	case res.HeldDeletes > 0 && remapped:
		// The deletions were counted with the old mappings; the initial
		// cycle counts them again with the new ones, and holds them if
		// they still pass the threshold.
		j.log.Info("held deletions dropped: the mappings changed during the cycle", "cycle", in.Number, "held", res.HeldDeletes)
	case res.HeldDeletes > 0:
		j.st.PausedCycle, j.st.HeldDeletes, j.st.State = &res.Resume, res.HeldDeletes, api.Paused
		why := res.HeldReason
		if why == "" {
			why = fmt.Sprintf("the cycle would delete or disable %d accounts, over the deletion threshold", res.HeldDeletes)
		}
		j.st.LastError = fmt.Sprintf("TooManyDeletes: cycle %d holds %d deletes and disables (objects missing, deleted, disabled, out of scope or unassigned in the source): %s. Nothing was pushed; the held operations are the cycle's StagedDelete log entries. Restart with ForceDeletes to apply them, or fix the source or the scoping and restart", in.Number, res.HeldDeletes, why)
	case res.QuarantineReason != "":
		j.st.LastCycle = &res.Summary
		j.st.LastError = res.QuarantineReason
		j.quarantine(ctx, now, res.QuarantineReason)
		j.st.NextKind = in.Kind
	default:
		j.st.LastCycle = &res.Summary
		j.st.Totals.Merge(countsSince(res.Summary.Counts, in.State.Counts))
		j.st.LastError = ""
		if j.st.State == api.Quarantined {
			// Any success lifts quarantine.
			j.st.State, j.st.Quarantine = api.Running, nil
		}
		if res.Summary.Staged == 0 {
			if j.st.SteadyState.FirstAchieved.IsZero() {
				j.st.SteadyState.FirstAchieved = now
			}
			j.st.SteadyState.LastAchieved = now
		}
		j.scheduleNext(ctx, now, api.Incremental)
	}
	if remapped {
		j.initialNow(ctx, now)
	}
	return nil
}

// cycleID names a cycle's staging area: the number, and the job's first run,
// so a job started afresh never meets a former job's leftovers.
func cycleID(n int, firstRunID string) string {
	return fmt.Sprintf("%d-%s", n, firstRunID[:min(8, len(firstRunID))])
}

func (j *jobImpl) scheduleNext(ctx workflow.Context, now time.Time, kind api.CycleKind) {
	j.st.NextKind = kind
	if j.st.State == api.Quarantined {
		j.st.NextRun = j.firstOnSchedule(ctx, now.Add(quarantineInterval))
		return
	}
	interval := time.Duration(j.resolved.Interval)
	j.st.NextRun = j.onSchedule(ctx, now.Add(interval), func(s *config.Schedule) time.Time { return s.After(now, interval) })
}

// countsSince returns what a cycle counted after it was resumed from base.
// Each key is computed independently, so iteration order does not matter.
//
//workflowcheck:ignore
func countsSince(total, base audit.Counts) audit.Counts {
	out := audit.Counts{}
	for k, v := range total {
		out[k] = v - base[k]
	}
	return out
}
