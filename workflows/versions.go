package workflows

import (
	"time"

	"github.com/openprovisioning/provisioner/config"
)

// What replays of workflow histories depend on, in one place.
//
// When a worker of a new release takes over a running job or cycle, it
// replays the workflow's history against the new code, which must decide
// as the old code did. So every change to the workflows' logic that a
// running workflow could observe has a change ID here, checked with
// workflow.GetVersion where the logic branches: histories recorded before
// the change take the old branch. The ladder lists the change IDs by the
// release that brought them, oldest first, each with what it adds;
// testdata holds histories of every release and kind of job, replayed by
// TestReplayRecordedHistories, and TestChangeIDsAreInVersions finds any
// change ID declared elsewhere.
//
// Configuration defaults and the bounds compiled into the workflows are
// the other things a replay reads: each is listed below with the branch
// that depends on it. The job records the defaults it resolves in its
// history and passes its cycles their configuration with them filled in,
// so replays read the recorded values whatever the defaults compiled in;
// a bound changes only with a change ID.

// Released in v2.
const (
	// targetIndexChange adds the target index step; cycles recorded before
	// it match every object by query.
	targetIndexChange = "target-index"
)

// Released in v3.
const (
	// finishUpdatesChange waits for the job's updates in flight before the
	// run continues as new; before, they were dropped with the run.
	finishUpdatesChange = "finish-updates-before-continue-as-new"
)

// Released in v4.
const (
	// escrowThresholdChange quarantines a job whose cycle's objects fail
	// past the escrow threshold; before, no cycle met the threshold.
	escrowThresholdChange = "escrow-threshold"
	// handlersFirstChange registers the job's query and update handlers
	// before a new job's configuration is validated, so status answers
	// meanwhile; before, they were registered after.
	handlersFirstChange = "handlers-before-validation"
	// quiesceChange continues as new only once no signal is unread and no
	// handler runs, handling signals that arrive while handlers finish;
	// before, signals were drained once, and one sent while an update
	// finished was lost with the run.
	quiesceChange = "drain-until-quiet-before-continue-as-new"
	// keepInitialChange keeps the initial cycle that new mappings ask for
	// when they arrive while a cycle runs; before, the cycle's end
	// scheduled an incremental cycle over it.
	keepInitialChange = "keep-initial-after-update"
	// sourceRefusalChange quarantines a job whose source refuses its
	// credentials or rights; before, the cycle failed.
	sourceRefusalChange = "source-refusal"
)

// Released in v5.
const (
	// deletionGuardChange holds removals by default: the fetch decides
	// whether they are held, over what the job has linked, and the cycle
	// lists held removals in the log before it ends. Before, removals were
	// held only with a configured threshold, over what the cycle read.
	deletionGuardChange = "deletion-guard-default"
	// progressQueryChange has a cycle answer the progress query, and no
	// longer signal its progress to the job every few seconds: each signal
	// added events to the job's run, which a cycle of days pushed past
	// Temporal's limits. Before it, cycles signalled their progress.
	progressQueryChange = "progress-by-query"
	// resolvedDefaultsChange records, when a job run starts and when its
	// configuration changes, the configuration defaults the job resolved
	// (see resolveDefaults); before, the job read the defaults compiled in.
	resolvedDefaultsChange = "resolved-defaults"
	// batchBudgetChange bounds a batch's result: the batch takes items
	// while their log entries fit activities.ResultBudget and says where
	// it stopped, and the cycle schedules the rest. Before, a batch took
	// every item, and a result over Temporal's payload limit was refused
	// after the pushes.
	batchBudgetChange = "batch-result-budget"
)

// Released in v6.
const (
	// auditExportChange has the job copy the log entries of every cycle,
	// on-demand request and rollback to the worker's audit sinks
	// (activities.ExportLog) once history holds them all; before, the log
	// stayed in history only.
	auditExportChange = "audit-export"
	// notifyChange has the job send a notice (activities.Notify) when it
	// enters quarantine, holds deletions, is disabled or recovers, and
	// continue as new only once its notices are sent; before, it sent none.
	notifyChange = "notify-state-changes"
)

// Released in v7.
const (
	// escrowsShownChange has the job count its escrows after every cycle
	// (activities.SummarizeEscrows) for its status and current details;
	// before, neither showed them.
	escrowsShownChange = "escrows-shown"
	// scheduleChange starts the cycles a job starts by itself only when
	// its schedule (config.Schedule) allows; before, they started at the
	// interval.
	scheduleChange = "cycle-schedule"
)

// v8 changes no branch: a batch's result is headed by its summary, which
// the cycle reads instead of decoding the entries (readBatchResult), and
// results recorded before it are summarized from their entries by the
// same function (activities.Summarize), so both give the cycle the same
// counts. Its recorded histories replay the summaries' side.

// Bounds compiled into the workflows.
const (
	// cycleMaxHistoryBytes and cycleMaxHistoryEvents are where a cycle run
	// continues as new. Batch results carry the provisioning log entries,
	// so the size bound is the one that matters; both stay far below
	// Temporal's 10,240-event / 10 MB warnings.
	cycleMaxHistoryBytes  = 4 << 20
	cycleMaxHistoryEvents = 4000
	// progressEvery is how often cycles recorded before
	// progressQueryChange signal their progress.
	progressEvery = 2 * time.Second
	// indexFromUnlinked is how many objects to match make a cycle index the
	// target (an initial cycle always does): below it, querying the target
	// per object costs less than reading all of it.
	indexFromUnlinked = 1000
	// jobMaxHistoryEvents is where a job run continues as new, at a cycle
	// boundary.
	jobMaxHistoryEvents = 2000
	// quarantineInterval is how often a quarantined job tries again.
	quarantineInterval = 24 * time.Hour
)

// resolveDefaults fills in the configuration defaults the workflows branch
// on:
//   - options.batchSize and options.batches: how a cycle cuts its staged
//     items into batches and how many it runs at once;
//   - options.escrowThreshold: when a cycle quarantines its job;
//   - interval: when the job runs its next cycle;
//   - options.disableAfterQuarantine: when a quarantined job is disabled.
//
// The deletion guard's defaults are not among them: the fetch activity
// weighs the removals, and its result in history carries the verdict.
// A variable, so that tests can record histories made with other
// defaults.
var resolveDefaults = func(cfg config.Job) config.Job {
	cfg.Options = cfg.Options.WithDefaults()
	cfg.Interval = config.Duration(cfg.IntervalOrDefault())
	return cfg
}
