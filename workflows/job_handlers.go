package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
)

// register sets the job's query and update handlers.
func (j *jobImpl) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, api.QueryStatus, func() (api.Status, error) { return j.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryConfiguration, func() (config.Job, error) { return j.cfg, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateConfiguration, j.updateConfiguration, workflow.UpdateHandlerOptions{
		Validator: j.validateConfiguration,
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateProvisionOnDemand, j.provisionOnDemand, workflow.UpdateHandlerOptions{
		Validator: j.validateOnDemand,
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateRollback, j.rollback, workflow.UpdateHandlerOptions{
		Validator: j.validateRollback,
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateConnections, j.connections, workflow.UpdateHandlerOptions{
		Validator: j.validateConnections,
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateEscrows, j.escrows, workflow.UpdateHandlerOptions{
		Validator: j.validateEscrows,
	}); err != nil {
		return err
	}
	return nil
}

func (j *jobImpl) status() api.Status {
	if !j.validated() {
		return api.Status{Job: j.cfg.Name, Application: j.cfg.Target.Application, State: api.Validating, Totals: audit.Counts{}, DryRun: j.cfg.Options.DryRun}
	}
	st := api.Status{
		Job: j.cfg.Name, Application: j.cfg.Target.Application, State: j.st.State, Current: j.st.Current,
		LastCycle: j.st.LastCycle, CycleNumber: j.st.CycleNumber, NextKind: j.st.NextKind, NextRun: j.st.NextRun, Schedule: j.cfg.Schedule.String(),
		Totals: j.st.Totals, LastError: j.st.LastError, Quarantine: j.st.Quarantine, SteadyState: j.st.SteadyState,
		MappingVersion: j.st.MappingVersion, DryRun: j.cfg.Options.DryRun, HeldDeletes: j.st.HeldDeletes,
	}
	if j.st.Escrows != nil {
		st.Escrows = j.st.Escrows.Count
	}
	if j.st.HeldDeletes > 0 && j.st.PausedCycle != nil {
		st.HeldCycle = j.st.PausedCycle.Cycle.ID
	}
	return st
}

// validateConfiguration refuses, before anything is written to history, a
// configuration for another job.
func (j *jobImpl) validateConfiguration(cfg config.Job) error {
	if cfg.Name != j.cfg.Name {
		return temporal.NewApplicationError(fmt.Sprintf("the configuration is for job %q, not %q", cfg.Name, j.cfg.Name), api.ErrRequestRefused)
	}
	return nil
}

// updateConfiguration validates a new configuration where the job runs and
// applies it from the next cycle; the cycle in flight keeps the old one.
// One sent while a new job validates its first configuration applies after.
func (j *jobImpl) updateConfiguration(ctx workflow.Context, cfg config.Job) (api.Status, error) {
	if err := workflow.Await(ctx, j.validated); err != nil {
		return j.status(), err
	}
	vctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "validate new configuration",
	})
	var v activities.ValidatedJob
	if err := workflow.ExecuteActivity(vctx, a.ValidateJob, cfg).Get(ctx, &v); err != nil {
		return j.status(), err
	}
	rescheduled := j.cfg.Schedule.String() != cfg.Schedule.String()
	j.cfg = cfg
	if err := j.resolve(ctx); err != nil {
		return j.status(), err
	}
	if rescheduled {
		j.st.NextRun = j.firstOnSchedule(ctx, j.st.NextRun)
	}
	if v.MappingVersion != j.st.MappingVersion {
		j.st.MappingVersion = v.MappingVersion
		j.initialNow(ctx, workflow.Now(ctx))
	} else if j.st.PausedCycle != nil {
		j.st.PausedCycle.Job = j.resolved
	}
	j.wake.SendAsync(true)
	j.log.Info("configuration updated", "mappingVersion", v.MappingVersion)
	j.publish(ctx)
	return j.status(), nil
}

// initialNow schedules an initial cycle at once, or when the job's
// schedule next allows, for new mappings. A stopped cycle ran the old
// mappings; the initial cycle redoes it.
func (j *jobImpl) initialNow(ctx workflow.Context, now time.Time) {
	j.st.NextKind, j.st.NextRun = api.Initial, j.firstOnSchedule(ctx, now)
	j.st.PausedCycle = nil
}

// validateOnDemand refuses, before anything is written to history, a
// request the job cannot serve.
func (j *jobImpl) validateOnDemand(r api.OnDemandRequest) error {
	if r.ID == "" {
		return temporal.NewApplicationError("name the source object's ID", api.ErrRequestRefused)
	}
	if _, ok := j.cfg.ObjectIndex(r.Type); !ok {
		return temporal.NewApplicationError(fmt.Sprintf("job %s does not provision %s objects", j.cfg.Name, r.Type), api.ErrRequestRefused)
	}
	return nil
}

// provisionOnDemand provisions one object now, whatever the job's state,
// beside the cycle in flight, and returns its steps; the outcome is in
// the job's history like a cycle's. A new job validates its configuration
// first.
func (j *jobImpl) provisionOnDemand(ctx workflow.Context, r api.OnDemandRequest) (api.OnDemandResult, error) {
	if err := workflow.Await(ctx, j.validated); err != nil {
		return api.OnDemandResult{}, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             fmt.Sprintf("provision %s %s on demand", r.Type, r.ID),
	})
	in := activities.OnDemandInput{Job: j.cfg, Type: r.Type, SourceID: r.ID, RequestID: workflow.GetCurrentUpdateInfo(ctx).ID}
	var res api.OnDemandResult
	err := workflow.ExecuteActivity(actx, a.ProvisionOnDemand, in).Get(ctx, &res)
	if err == nil {
		j.log.Info("provisioned on demand", "type", r.Type, "id", r.ID, "action", res.Object().Action, "status", res.Object().Status)
		j.exportUpdateLog(ctx, res.Entries, fmt.Sprintf("%s %s on demand", r.Type, r.ID))
	}
	return res, err
}

// validateRollback refuses a rollback while cycles may run: a cycle would
// push over the restored values, or the rollback over the cycle's.
func (j *jobImpl) validateRollback(plan audit.RollbackPlan) error {
	if len(plan.Restores) == 0 {
		return temporal.NewApplicationError("the rollback plan restores nothing", api.ErrRequestRefused)
	}
	if st := j.status().State; st != api.Paused {
		return temporal.NewApplicationError(fmt.Sprintf("job %s is %s: stop it first, so no cycle runs during the rollback", j.cfg.Name, st), api.ErrRequestRefused)
	}
	return nil
}

// rollback restores target objects as the plan says; the entries are in
// the job's history like a cycle's.
func (j *jobImpl) rollback(ctx workflow.Context, plan audit.RollbackPlan) (api.RollbackResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             fmt.Sprintf("roll back %d objects", len(plan.Restores)),
	})
	in := activities.RollbackInput{Job: j.cfg, Plan: plan, RequestID: workflow.GetCurrentUpdateInfo(ctx).ID}
	var res api.RollbackResult
	err := workflow.ExecuteActivity(actx, a.RollBack, in).Get(ctx, &res)
	if err == nil {
		j.log.Info("rolled back", "objects", len(res.Entries), "since", plan.Since)
		j.exportUpdateLog(ctx, res.Entries, "a rollback")
	}
	// A large rollback comes in many updates: the loop looks at the
	// history's size after each, and continues as new when it grew.
	j.wake.SendAsync(true)
	return res, err
}

// validateConnections refuses requests for types the job does not
// provision, and deleting a connection while cycles may run, as Azure does.
func (j *jobImpl) validateConnections(r api.ConnectionsRequest) error {
	if _, ok := j.cfg.ObjectIndex(r.Type); !ok {
		return temporal.NewApplicationError(fmt.Sprintf("job %s does not provision %s objects", j.cfg.Name, r.Type), api.ErrRequestRefused)
	}
	if r.Delete && r.ID == "" {
		return temporal.NewApplicationError("name the object whose connection to delete", api.ErrRequestRefused)
	}
	if st := j.status().State; r.Delete && st != api.Paused && st != api.Disabled {
		return temporal.NewApplicationError(fmt.Sprintf("job %s is %s: stop it before deleting a connection", j.cfg.Name, st), api.ErrRequestRefused)
	}
	return nil
}

// connections reads the job's object connections, or deletes one.
func (j *jobImpl) connections(ctx workflow.Context, r api.ConnectionsRequest) (api.ConnectionsResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "object connections",
	})
	in := activities.ConnectionsInput{Job: j.cfg.Name, Type: r.Type, ID: r.ID, After: r.After, Limit: r.Limit, Delete: r.Delete}
	var res api.ConnectionsResult
	err := workflow.ExecuteActivity(actx, a.ObjectConnections, in).Get(ctx, &res)
	if err == nil && res.Deleted {
		j.log.Info("object connection deleted", "type", r.Type, "id", r.ID)
	}
	return res, err
}

// validateEscrows refuses requests for types the job does not provision.
func (j *jobImpl) validateEscrows(r api.EscrowsRequest) error {
	if _, ok := j.cfg.ObjectIndex(r.Type); !ok {
		return temporal.NewApplicationError(fmt.Sprintf("job %s does not provision %s objects", j.cfg.Name, r.Type), api.ErrRequestRefused)
	}
	return nil
}

// escrows lists a page of the objects awaiting retry.
func (j *jobImpl) escrows(ctx workflow.Context, r api.EscrowsRequest) (api.EscrowsResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "escrows",
	})
	in := activities.EscrowsInput{Job: j.cfg.Name, Type: r.Type, After: r.After, Limit: r.Limit}
	var res api.EscrowsResult
	err := workflow.ExecuteActivity(actx, a.ListEscrows, in).Get(ctx, &res)
	return res, err
}
