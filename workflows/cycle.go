package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
)

// a is used to name activity methods; the worker registers a real instance.
var a *activities.Activities

// ProvisioningCycle runs one cycle of a job: it stages the source changes,
// then provisions them in batches, several at once, then brings group
// memberships and reference attributes in step, and continues as new
// whenever its history grows large. A stop signal ends it after the
// batches (or the page) in flight, returning a resume point.
func ProvisioningCycle(ctx workflow.Context, in CycleInput) (CycleResult, error) {
	c := &cycleImpl{in: in}
	c.setup(ctx)
	return c.run(ctx)
}

type cycleImpl struct {
	in           CycleInput
	stop         workflow.ReceiveChannel
	stopping     bool
	phase        string
	lastProgress time.Time
}

func (c *cycleImpl) setup(ctx workflow.Context) {
	c.stop = workflow.GetSignalChannel(ctx, signalCycleStop)
	c.phase = "Starting"
	// Queries add nothing to history: the handler is set in every run.
	if err := workflow.SetQueryHandler(ctx, api.QueryProgress, func() (api.CycleProgress, error) { return c.current(), nil }); err != nil {
		workflow.GetLogger(ctx).Warn("the progress query cannot be answered", "error", err)
	}
	if c.in.State.Counts == nil {
		c.in.State.Counts = audit.Counts{}
	}
	if c.in.State.Started.IsZero() {
		c.in.State.Started = workflow.Now(ctx)
	}
	if c.in.State.NextSeq == 0 {
		c.in.State.NextSeq = 1
	}
}

func (c *cycleImpl) run(ctx workflow.Context) (CycleResult, error) {
	st := &c.in.State
	if !st.Fetched {
		c.progress(ctx, "Fetching", true)
		fctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 4 * time.Hour,
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 6},
			Summary:             fmt.Sprintf("fetch %s changes", c.in.Kind),
		})
		err := workflow.ExecuteActivity(fctx, a.FetchChanges, activities.FetchInput{Job: c.in.Job, Cycle: c.in.Cycle, Initial: c.in.Kind == api.Initial}).Get(ctx, &st.Fetch)
		if err != nil {
			// A source that refuses the job's credentials or rights will
			// refuse the next read too: the job quarantines with the reason.
			// Only such a failure adds the version marker, so histories
			// recorded before it replay unchanged.
			if reason := activities.Refused(err); reason != "" && workflow.GetVersion(ctx, sourceRefusalChange, workflow.DefaultVersion, 1) == 1 {
				return CycleResult{QuarantineReason: "EncounteredQuarantineException: the source refused the job: " + reason, Summary: c.summary(ctx)}, nil
			}
			return CycleResult{}, fmt.Errorf("fetch from source: %w", err)
		}
		st.Fetched = true
	}
	if !c.in.ForceDeletes && st.NextSeq == 1 && !c.in.Job.Options.DryRun {
		removals, reason, err := c.heldRemovals(ctx)
		if err != nil {
			return CycleResult{}, err
		}
		if removals > 0 {
			return CycleResult{HeldDeletes: removals, HeldReason: reason, Resume: c.in, Summary: c.summary(ctx)}, nil
		}
	}
	if !st.Indexed {
		if c.needsIndex() && workflow.GetVersion(ctx, targetIndexChange, workflow.DefaultVersion, 1) == 1 {
			c.indexTarget(ctx)
		}
		st.Indexed = true
	}
	c.progress(ctx, "Provisioning", true)

	quarantine, err := c.provision(ctx)
	if err != nil {
		return CycleResult{}, err
	}
	switch {
	case quarantine != "":
		return CycleResult{QuarantineReason: quarantine, Summary: c.summary(ctx)}, nil
	case c.stopping:
		return CycleResult{Paused: true, Resume: c.in, Summary: c.summary(ctx)}, nil
	case c.itemsLeft():
		return CycleResult{}, workflow.NewContinueAsNewError(ctx, ProvisioningCycle, c.in)
	}
	for _, ph := range c.phases() {
		quarantine, err := c.runPhase(ctx, ph)
		switch {
		case err != nil:
			return CycleResult{}, err
		case quarantine != "":
			return CycleResult{QuarantineReason: quarantine, Summary: c.summary(ctx)}, nil
		case c.stopping:
			return CycleResult{Paused: true, Resume: c.in, Summary: c.summary(ctx)}, nil
		case !ph.state.Done:
			return CycleResult{}, workflow.NewContinueAsNewError(ctx, ProvisioningCycle, c.in)
		}
	}

	fin := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
		Summary:             "save watermark",
	})
	err = workflow.ExecuteActivity(fin, a.FinishCycle, activities.FinishInput{
		Job: c.in.Job.Name, Cycle: c.in.Cycle, Watermarks: st.Fetch.Watermarks, DryRun: c.in.Job.Options.DryRun,
	}).Get(ctx, nil)
	if err != nil {
		return CycleResult{}, err
	}
	return CycleResult{Summary: c.summary(ctx)}, nil
}

// heldRemovals returns how many deletes and disables the accidental-deletion
// guard holds, and why; none when the cycle may go ahead. Held ones are
// first written to the log as StagedDelete entries, page by page, so the
// trail shows what an approval would do.
func (c *cycleImpl) heldRemovals(ctx workflow.Context) (int, string, error) {
	st := &c.in.State
	f := st.Fetch
	if workflow.GetVersion(ctx, deletionGuardChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Cycles recorded before the default guard weighed removals
		// against what they read, and only with a configured threshold.
		if removals := f.Deleted + f.Leaving; c.in.Job.Options.DeletionThreshold.LegacyExceeded(removals, f.Read+f.Deleted) {
			return removals, "", nil
		}
		return 0, "", nil
	}
	if f.Hold == "" {
		return 0, "", nil
	}
	c.progress(ctx, "Holding deletions", true)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary:             "list held deletions",
	})
	for st.HeldNext = max(st.HeldNext, 1); st.HeldNext <= f.Staged; {
		if c.historyFull(ctx) {
			return 0, "", workflow.NewContinueAsNewError(ctx, ProvisioningCycle, c.in)
		}
		var res heldOutcome
		in := activities.HeldInput{Job: c.in.Job, Cycle: c.in.Cycle, From: st.HeldNext, To: f.Staged, Reason: f.Hold}
		if err := workflow.ExecuteActivity(actx, a.ListHeldRemovals, in).Get(ctx, &res); err != nil {
			return 0, "", fmt.Errorf("list held deletions: %w", err)
		}
		st.HeldNext = res.Next
	}
	return f.Removals, f.Hold, nil
}

// heldOutcome is what the cycle reads of a ListHeldRemovals result: the
// entries stay in history, where the log is read from.
type heldOutcome struct {
	Next int `json:"next"`
}

// needsIndex reports whether enough staged objects need matching for the
// target index to pay off.
func (c *cycleImpl) needsIndex() bool {
	n := c.in.State.Fetch.Unlinked
	return n > 0 && (c.in.Kind == api.Initial || n >= indexFromUnlinked)
}

// indexTarget has the target's objects indexed for the batches to match
// against. The index only saves queries: when it cannot be built, the
// batches query the target for each object instead.
func (c *cycleImpl) indexTarget(ctx workflow.Context) {
	c.progress(ctx, "Indexing", true)
	ictx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 4 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Summary:             "index target objects",
	})
	if err := workflow.ExecuteActivity(ictx, a.IndexTarget, activities.IndexInput{Job: c.in.Job, Cycle: c.in.Cycle}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("the target could not be indexed; its objects are matched by query", "error", err)
	}
}

// provision runs the batches. It returns when every staged item is done, or
// after the batches in flight when a stop arrives, the target consistently
// refuses calls, or the history is big enough to continue as new. A batch
// whose result is full leaves the rest of its items to a later batch.
func (c *cycleImpl) provision(ctx workflow.Context) (quarantine string, err error) {
	st := &c.in.State
	opts := c.in.Job.Options.WithDefaults()
	// Cycles recorded before the budget had batches take every item; only
	// a run with batches to schedule records the version.
	budget := 0
	if c.itemsLeft() && workflow.GetVersion(ctx, batchBudgetChange, workflow.DefaultVersion, 1) == 1 {
		budget = activities.ResultBudget
	}
	inflight := 0
	var firstErr error
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(c.stop, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(ctx, nil)
		c.stopping = true
	})
	for {
		for inflight < opts.Batches && c.itemsLeft() && !c.stopping && quarantine == "" && firstErr == nil && !c.historyFull(ctx) {
			from, to := c.nextBatch(opts.BatchSize)
			actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
				StartToCloseTimeout: 30 * time.Minute,
				HeartbeatTimeout:    time.Minute,
				RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
				Summary:             fmt.Sprintf("provision items %d-%d", from, to),
			})
			f := workflow.ExecuteActivity(actx, a.ProvisionBatch, activities.BatchInput{Job: c.in.Job, Cycle: c.in.Cycle, From: from, To: to, Initial: c.in.Kind == api.Initial, Budget: budget})
			inflight++
			sel.AddFuture(f, func(f workflow.Future) {
				inflight--
				var raw converter.RawValue
				if err := f.Get(ctx, &raw); err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("provision items %d-%d: %w", from, to, err)
					}
					return
				}
				sum, next, err := readBatchResult(raw.Payload())
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("provision items %d-%d: %w", from, to, err)
					}
					return
				}
				st.Counts.Merge(sum.Counts)
				st.Failed += sum.Failed
				st.Processed += sum.Taken
				if next > from && next <= to {
					st.Left = append(st.Left, ItemRange{From: next, To: to})
				}
				if sum.Refused != "" && quarantine == "" {
					quarantine = "EncounteredQuarantineException: " + sum.Refused
				}
				if quarantine == "" {
					quarantine = c.escrowThreshold(ctx)
				}
				c.progress(ctx, "Provisioning", false)
			})
		}
		if inflight == 0 {
			break
		}
		sel.Select(ctx)
	}
	// A stop that arrived with the last batch is still honoured.
	for c.stop.ReceiveAsync(nil) {
		c.stopping = true
	}
	return quarantine, firstErr
}

// itemsLeft reports whether staged items wait for a batch.
func (c *cycleImpl) itemsLeft() bool {
	st := &c.in.State
	return len(st.Left) > 0 || st.NextSeq <= st.Fetch.Staged
}

// nextBatch returns the items of the next batch: first those a full batch
// left, then the next staged ones.
func (c *cycleImpl) nextBatch(size int) (from, to int) {
	st := &c.in.State
	if len(st.Left) > 0 {
		r := st.Left[0]
		st.Left = st.Left[1:]
		return r.From, r.To
	}
	from, to = st.NextSeq, min(st.NextSeq+size-1, st.Fetch.Staged)
	st.NextSeq = to + 1
	return from, to
}

// ItemRange is a run of staged items, by Seq.
type ItemRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

func (c *cycleImpl) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistorySize() > cycleMaxHistoryBytes || info.GetCurrentHistoryLength() > cycleMaxHistoryEvents
}

// escrowThreshold returns a quarantine reason when the cycle's failures
// pass the job's escrow threshold.
func (c *cycleImpl) escrowThreshold(ctx workflow.Context) string {
	st := &c.in.State
	reason := c.in.Job.Options.EscrowThreshold.Exceeded(st.Failed, st.Processed, st.ReferenceFailed)
	if reason == "" || workflow.GetVersion(ctx, escrowThresholdChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ""
	}
	return reason
}

// refusedByTarget returns a quarantine reason when every call of a batch was
// refused for a reason retrying cannot fix: rejected credentials or a
// target that does not speak the protocol.
func refusedByTarget(entries []audit.Entry) string {
	if reason := activities.Summarize(entries).Refused; reason != "" {
		return "EncounteredQuarantineException: " + reason
	}
	return ""
}

// progress records the cycle's phase, which the progress query and the
// Web UI's current details show. Cycles recorded before
// progressQueryChange also signal it to the job, at most every few seconds.
func (c *cycleImpl) progress(ctx workflow.Context, phase string, force bool) {
	c.phase = phase
	p := c.current()
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s cycle %d of %s\n\n%d of %d objects\n", p.Phase, p.Kind, p.Number, c.in.Job.Name, p.Processed, p.Total))
	if workflow.GetVersion(ctx, progressQueryChange, workflow.DefaultVersion, 1) == 1 {
		return
	}
	now := workflow.Now(ctx)
	if !force && now.Sub(c.lastProgress) < progressEvery {
		return
	}
	c.lastProgress = now
	// Progress is informative: the cycle neither waits for nor fails on it.
	workflow.SignalExternalWorkflow(ctx, c.in.Parent, "", signalCycleProgress, p)
}

// current is how far the cycle is.
func (c *cycleImpl) current() api.CycleProgress {
	st := c.in.State
	return api.CycleProgress{Number: c.in.Number, Kind: c.in.Kind, Phase: c.phase, Started: st.Started, Total: st.Fetch.Staged, Processed: st.Processed, Counts: st.Counts}
}

func (c *cycleImpl) summary(ctx workflow.Context) api.CycleSummary {
	st := c.in.State
	return api.CycleSummary{
		Number: c.in.Number, ID: c.in.Cycle.ID, Kind: c.in.Kind, Started: st.Started, Finished: workflow.Now(ctx),
		Read: st.Fetch.Read, Staged: st.Fetch.Staged, Counts: st.Counts,
	}
}
