package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

// jobSignals are the signals a job handles, in the order it handles them.
var jobSignals = []string{api.SignalStop, api.SignalStart, api.SignalRestart, api.SignalSyncNow, api.SignalQuarantine, api.SignalRelease, signalCycleProgress}

// ProvisioningJob is one provisioning job: an initial cycle, then
// incremental cycles at the job's interval, each run as a child workflow.
// Signals stop, start, restart, sync-now, quarantine and release it; the
// status query reports where it is. Between cycles, once its history has
// grown, it drains its signals and continues as new with its state.
func ProvisioningJob(ctx workflow.Context, in JobInput) error {
	j := &jobImpl{cfg: in.Config, st: in.State}
	if err := j.setup(ctx); err != nil {
		return err
	}
	return j.run(ctx)
}

type jobImpl struct {
	cfg     config.Job
	st      *JobState
	log     log.Logger
	signals map[string]workflow.ReceiveChannel
	// restart is a restart waiting for the running cycle to stop.
	restart *api.RestartRequest
	// cycleID is the running cycle's workflow ID.
	cycleID string
	// wake ends a wait when an update changed the schedule.
	wake  workflow.Channel
	state api.State // last upserted, to upsert only on change

	// resolved is cfg with the defaults the workflows branch on filled in,
	// as recorded in the run's history.
	resolved config.Job
	// notifying counts the notices being sent.
	notifying int
}

func (j *jobImpl) setup(ctx workflow.Context) error {
	j.log = log.With(workflow.GetLogger(ctx), "job", j.cfg.Name)
	j.wake = workflow.NewBufferedChannel(ctx, 1)
	j.signals = map[string]workflow.ReceiveChannel{}
	for _, name := range jobSignals {
		j.signals[name] = workflow.GetSignalChannel(ctx, name)
	}
	if j.st == nil && workflow.GetVersion(ctx, handlersFirstChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		if err := j.validate(ctx); err != nil {
			return err
		}
	}
	if err := j.register(ctx); err != nil {
		return err
	}
	j.publish(ctx)
	if j.st == nil {
		// The handlers answer while the configuration is validated.
		if err := j.validate(ctx); err != nil {
			return err
		}
		j.publish(ctx)
	}
	return j.resolve(ctx)
}

// recordedDefaults is what a job records of its configuration with the
// defaults resolved.
type recordedDefaults struct {
	Options  config.Options  `json:"options"`
	Interval config.Duration `json:"interval"`
}

// resolve fills in the configuration's defaults, recording them in history
// so that replays read them whatever the defaults compiled in.
func (j *jobImpl) resolve(ctx workflow.Context) error {
	cfg := j.cfg
	if workflow.GetVersion(ctx, resolvedDefaultsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Runs recorded before read the defaults compiled in, as they did.
		j.resolved = resolveDefaults(cfg)
		return nil
	}
	var d recordedDefaults
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		r := resolveDefaults(cfg)
		return recordedDefaults{Options: r.Options, Interval: r.Interval}
	}).Get(&d)
	if err != nil {
		return fmt.Errorf("read the recorded defaults of job %s: %w", cfg.Name, err)
	}
	cfg.Options, cfg.Interval = d.Options, d.Interval
	j.resolved = cfg
	return nil
}

// validate checks the configuration where the job runs before the first
// cycle: nothing is pushed for a configuration the worker cannot use.
func (j *jobImpl) validate(ctx workflow.Context) error {
	vctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "validate configuration",
	})
	var v activities.ValidatedJob
	if err := workflow.ExecuteActivity(vctx, a.ValidateJob, j.cfg).Get(ctx, &v); err != nil {
		return err
	}
	j.st = &JobState{State: api.Running, NextKind: api.Initial, NextRun: workflow.Now(ctx), MappingVersion: v.MappingVersion, Totals: audit.Counts{}}
	return nil
}

// validated reports whether the job has its state: a new job has none
// while its configuration is validated.
func (j *jobImpl) validated() bool { return j.st != nil }

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
	return nil
}

func (j *jobImpl) run(ctx workflow.Context) error {
	for {
		// A cancelled job (Cancel in the Web UI) ends; its cycle is cancelled with it.
		if ctx.Err() != nil {
			return temporal.NewCanceledError(j.st.State)
		}
		j.drain(ctx)
		if j.restart != nil {
			if err := j.applyRestart(ctx); err != nil {
				return err
			}
		}
		j.notify(ctx)
		if j.historyFull(ctx) && j.notifying == 0 {
			if err := j.quiesce(ctx); err != nil {
				return err
			}
			if j.restart == nil {
				return workflow.NewContinueAsNewError(ctx, ProvisioningJob, JobInput{Config: j.cfg, State: j.st})
			}
			// The restart is applied in this run: the next does not know it.
			continue
		}
		j.publish(ctx)
		if j.st.State == api.Paused || j.st.State == api.Disabled {
			j.wait(ctx, time.Time{})
			continue
		}
		if j.st.SyncNow || !workflow.Now(ctx).Before(j.st.NextRun) || j.st.PausedCycle != nil && j.st.State == api.Running {
			if err := j.runCycle(ctx); err != nil {
				return err
			}
			continue
		}
		j.wait(ctx, j.st.NextRun)
	}
}

func (j *jobImpl) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > jobMaxHistoryEvents
}

// quiesce readies the run to continue as new, which drops unread signals
// and running handlers: it handles every signal and waits for the
// handlers, until neither is left or a restart is to be applied first.
func (j *jobImpl) quiesce(ctx workflow.Context) error {
	j.drain(ctx)
	if j.restart != nil {
		return nil
	}
	if workflow.GetVersion(ctx, quiesceChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		if workflow.GetVersion(ctx, finishUpdatesChange, workflow.DefaultVersion, 1) == 1 {
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
		return nil
	}
	// A signal can arrive while a handler runs (a stop during an on-demand
	// update), and a handler can start while signals are handled.
	for j.restart == nil && !workflow.AllHandlersFinished(ctx) {
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || j.signalsPending() }); err != nil {
			return err
		}
		j.drain(ctx)
	}
	return nil
}

// signalsPending reports whether a signal waits to be handled.
func (j *jobImpl) signalsPending() bool {
	for _, name := range jobSignals {
		if j.signals[name].Len() > 0 {
			return true
		}
	}
	return false
}

// wait blocks until a signal arrives or, when until is set, until then.
func (j *jobImpl) wait(ctx workflow.Context, until time.Time) {
	sel := workflow.NewSelector(ctx)
	j.addSignals(ctx, sel)
	sel.AddReceive(j.wake, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	if !until.IsZero() {
		d := until.Sub(workflow.Now(ctx))
		if d <= 0 {
			return
		}
		timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: "next " + strings.ToLower(string(j.st.NextKind)) + " cycle"})
		sel.AddFuture(timer, func(workflow.Future) {})
	}
	sel.Select(ctx)
}

func (j *jobImpl) addSignals(ctx workflow.Context, sel workflow.Selector) {
	for _, name := range jobSignals {
		sel.AddReceive(j.signals[name], func(ch workflow.ReceiveChannel, _ bool) { j.receive(ctx, name, ch) })
	}
}

// drain handles every signal already received.
func (j *jobImpl) drain(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	j.addSignals(ctx, sel)
	for sel.HasPending() {
		sel.Select(ctx)
	}
}

// receive applies one signal to the job's state.
func (j *jobImpl) receive(ctx workflow.Context, name string, ch workflow.ReceiveChannel) {
	now := workflow.Now(ctx)
	switch name {
	case signalCycleProgress:
		var p api.CycleProgress
		ch.Receive(ctx, &p)
		if j.st.Current != nil && p.Number == j.st.Current.Number {
			p.Workflow = j.st.Current.Workflow
			j.st.Current = &p
			j.publish(ctx)
		}
		return
	case api.SignalRestart:
		var r api.RestartRequest
		ch.Receive(ctx, &r)
		j.restart = &r
	default:
		ch.Receive(ctx, nil)
	}
	j.log.Info("signal received", "signal", name)
	switch name {
	case api.SignalStop:
		j.st.State = api.Paused
	case api.SignalStart:
		j.st.State, j.st.Quarantine = api.Running, nil
	case api.SignalSyncNow:
		j.st.SyncNow = true
	case api.SignalQuarantine:
		j.quarantine(now, "QuarantinedOnDemand")
	case api.SignalRelease:
		if j.st.State == api.Quarantined || j.st.State == api.Disabled {
			j.st.State, j.st.Quarantine, j.st.SyncNow = api.Running, nil, true
		}
	}
	if j.cycleID != "" && (j.st.State != api.Running || j.restart != nil) {
		workflow.SignalExternalWorkflow(ctx, j.cycleID, "", signalCycleStop, nil)
	}
}

func (j *jobImpl) quarantine(now time.Time, reason string) {
	j.st.State = api.Quarantined
	if j.st.Quarantine == nil {
		j.st.Quarantine = &api.Quarantine{Since: now}
	}
	j.st.Quarantine.Reason = reason
	j.st.Quarantine.NextAttempt = now.Add(quarantineInterval)
	j.st.NextRun = j.st.Quarantine.NextAttempt
	if limit := time.Duration(j.resolved.Options.DisableAfterQuarantine); now.Sub(j.st.Quarantine.Since) >= limit {
		j.st.State = api.Disabled
		j.st.LastError = fmt.Sprintf("disabled after %s in quarantine: %s", limit, reason)
	}
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
	j.cfg = cfg
	if err := j.resolve(ctx); err != nil {
		return j.status(), err
	}
	if v.MappingVersion != j.st.MappingVersion {
		j.st.MappingVersion = v.MappingVersion
		j.initialNow(workflow.Now(ctx))
	} else if j.st.PausedCycle != nil {
		j.st.PausedCycle.Job = j.resolved
	}
	j.wake.SendAsync(true)
	j.log.Info("configuration updated", "mappingVersion", v.MappingVersion)
	j.publish(ctx)
	return j.status(), nil
}

// initialNow schedules an initial cycle at once, for new mappings. A
// stopped cycle ran the old mappings; the initial cycle redoes it.
func (j *jobImpl) initialNow(now time.Time) {
	j.st.NextKind, j.st.NextRun = api.Initial, now
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

// applyRestart clears state by reset scope and schedules an initial cycle.
func (j *jobImpl) applyRestart(ctx workflow.Context) error {
	r := j.restart
	scope, clearQuarantine, force, err := parseScopes(r.Scopes)
	if err != nil {
		j.st.LastError = err.Error()
		j.restart = nil
		return nil
	}
	// Approving held deletions resumes the held cycle; any other restart
	// discards a stopped cycle and starts afresh.
	approve := force && j.st.HeldDeletes > 0 && j.st.PausedCycle != nil
	var abandon *store.Cycle
	if j.st.PausedCycle != nil && !approve {
		abandon = &j.st.PausedCycle.Cycle
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
		Summary:             "reset " + strings.Join(r.Scopes, ","),
	})
	if err := workflow.ExecuteActivity(actx, a.ResetJob, activities.ResetInput{Job: j.cfg.Name, Scope: scope, Abandon: abandon}).Get(ctx, nil); err != nil {
		return err
	}
	if approve {
		j.st.PausedCycle.ForceDeletes = true
	} else {
		j.st.PausedCycle = nil
		j.st.NextKind = api.Initial
	}
	j.st.HeldDeletes = 0
	j.st.NextRun, j.st.LastError = workflow.Now(ctx), ""
	if clearQuarantine || j.st.State == api.Paused || j.st.State == api.Disabled {
		j.st.State, j.st.Quarantine = api.Running, nil
	}
	j.restart = nil
	return nil
}

// parseScopes reads Azure's resetScope flags: what to clear, whether to lift
// quarantine, and whether held deletions are approved.
func parseScopes(scopes []string) (s store.ResetScope, quarantine, force bool, err error) {
	if len(scopes) == 0 {
		return store.ResetScope{Watermark: true, Escrows: true}, true, false, nil
	}
	for _, name := range scopes {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case strings.ToLower(api.ScopeWatermark):
			s.Watermark = true
		case strings.ToLower(api.ScopeEscrows):
			s.Escrows = true
		case strings.ToLower(api.ScopeQuarantineState):
			quarantine = true
		case strings.ToLower(api.ScopeConnectorDataStore):
			s.ConnectorDataStore = true
		case strings.ToLower(api.ScopeFull):
			s = store.ResetScope{Watermark: true, Escrows: true, ConnectorDataStore: true}
			quarantine = true
		case strings.ToLower(api.ScopeForceDeletes):
			force = true
		default:
			return s, false, false, fmt.Errorf("restart: unknown reset scope %q (use Watermark, Escrows, QuarantineState, ConnectorDataStore, Full or ForceDeletes)", name)
		}
	}
	return s, quarantine, force, nil
}

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
		j.scheduleNext(now, in.Kind)
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
		j.quarantine(now, res.QuarantineReason)
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
		j.scheduleNext(now, api.Incremental)
	}
	if remapped {
		j.initialNow(now)
	}
	return nil
}

// cycleID names a cycle's staging area: the number, and the job's first run,
// so a job started afresh never meets a former job's leftovers.
func cycleID(n int, firstRunID string) string {
	return fmt.Sprintf("%d-%s", n, firstRunID[:min(8, len(firstRunID))])
}

func (j *jobImpl) scheduleNext(now time.Time, kind api.CycleKind) {
	j.st.NextKind = kind
	if j.st.State == api.Quarantined {
		j.st.NextRun = now.Add(quarantineInterval)
		return
	}
	j.st.NextRun = now.Add(time.Duration(j.resolved.Interval))
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

func (j *jobImpl) status() api.Status {
	if !j.validated() {
		return api.Status{Job: j.cfg.Name, Application: j.cfg.Target.Application, State: api.Validating, Totals: audit.Counts{}, DryRun: j.cfg.Options.DryRun}
	}
	st := api.Status{
		Job: j.cfg.Name, Application: j.cfg.Target.Application, State: j.st.State, Current: j.st.Current,
		LastCycle: j.st.LastCycle, CycleNumber: j.st.CycleNumber, NextKind: j.st.NextKind, NextRun: j.st.NextRun,
		Totals: j.st.Totals, LastError: j.st.LastError, Quarantine: j.st.Quarantine, SteadyState: j.st.SteadyState,
		MappingVersion: j.st.MappingVersion, DryRun: j.cfg.Options.DryRun, HeldDeletes: j.st.HeldDeletes,
	}
	if j.st.HeldDeletes > 0 && j.st.PausedCycle != nil {
		st.HeldCycle = j.st.PausedCycle.Cycle.ID
	}
	return st
}

// publish shows the job's state in the Web UI: a search attribute (only
// when it changed, to keep history small) and the current details.
func (j *jobImpl) publish(ctx workflow.Context) {
	if !j.validated() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s\n\nValidating the configuration before the first cycle\n", api.Validating, j.cfg.Name))
		return
	}
	if j.st.State != j.state {
		j.state = j.st.State
		_ = workflow.UpsertTypedSearchAttributes(ctx, api.AttrState.ValueSet(string(j.st.State)))
	}
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** — %s\n\n", j.st.State, j.cfg.Name))
	if c := j.st.Current; c != nil && c.Phase == api.PhaseRunning {
		b.WriteString(fmt.Sprintf("%s cycle %d running: its progress is in workflow %s\n\n", c.Kind, c.Number, c.Workflow))
	} else if c != nil {
		b.WriteString(fmt.Sprintf("%s cycle %d: %s, %d of %d objects\n\n", c.Kind, c.Number, c.Phase, c.Processed, c.Total))
	} else if j.st.State != api.Paused {
		b.WriteString(fmt.Sprintf("Next %s cycle at %s\n\n", strings.ToLower(string(j.st.NextKind)), j.st.NextRun.UTC().Format(time.RFC3339)))
	}
	if l := j.st.LastCycle; l != nil {
		b.WriteString(fmt.Sprintf("Last cycle %d (%s): %d read, %d changed\n\n", l.Number, l.Kind, l.Read, l.Staged))
	}
	if j.st.LastError != "" {
		b.WriteString(fmt.Sprintf("Last error: %s\n", j.st.LastError))
	}
	workflow.SetCurrentDetails(ctx, b.String())
	j.observe(ctx)
}
