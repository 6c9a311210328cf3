package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
)

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
	j.st = &JobState{State: api.Running, NextKind: api.Initial, NextRun: j.firstOnSchedule(ctx, workflow.Now(ctx)), MappingVersion: v.MappingVersion, Totals: audit.Counts{}}
	return nil
}

// validated reports whether the job has its state: a new job has none
// while its configuration is validated.
func (j *jobImpl) validated() bool { return j.st != nil }

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
