// Package workflows holds the provisioning job workflow — one durable
// workflow per job that runs an initial cycle, then incremental cycles at the
// job's interval, steered by signals — and the cycle workflow it runs as a
// child for every cycle, so each run's history stays small at any job size.
package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

// TaskQueue is where workers poll for provisioning work.
const TaskQueue = "provisioning"

// Signals operators and services send to a job workflow.
const (
	// SignalStop pauses the job after the pages in flight; it resumes where it left off.
	SignalStop = "stop"
	// SignalStart resumes a paused job and lifts quarantine.
	SignalStart = "start"
	// SignalRestart clears state by reset scope and starts a new initial cycle.
	SignalRestart = "restart"
	// SignalSyncNow runs an incremental cycle now.
	SignalSyncNow = "sync-now"
	// SignalQuarantine puts the job in quarantine: cycles once a day.
	SignalQuarantine = "quarantine"
	// SignalRelease lifts quarantine and runs a cycle now.
	SignalRelease = "release"
)

// Queries a job workflow answers.
const (
	QueryStatus        = "status"
	QueryConfiguration = "configuration"
)

// QueryProgress is the query a running cycle workflow answers with its
// CycleProgress; the job's status names the cycle's workflow.
const QueryProgress = "progress"

// Updates a job workflow accepts.
const (
	// UpdateConfiguration replaces the job's configuration after the worker
	// validated it; a change to mappings, scoping or target actions starts a
	// new initial cycle, as in Azure.
	UpdateConfiguration = "update-configuration"
	// UpdateProvisionOnDemand provisions one source object now and returns
	// the steps it went through (activities.OnDemandResult).
	UpdateProvisionOnDemand = "provision-on-demand"
	// UpdateRollback restores target objects as an audit.RollbackPlan says
	// (activities.RollbackResult); the job must be stopped first.
	UpdateRollback = "rollback"
	// UpdateConnections reads a job's object connections, or deletes one
	// while the job is stopped (activities.ConnectionsResult).
	UpdateConnections = "connections"
)

// Messages between a job and its cycle workflow. Cycles recorded before
// progressQueryChange signal their progress; the job still reads it.
const (
	signalCycleProgress = "cycle-progress"
	signalCycleStop     = "cycle-stop"
)

// JobWorkflowID is the deterministic workflow ID of a job: starting a job
// that already runs finds the running workflow instead of a second one.
func JobWorkflowID(job string) string { return "provisioning-job:" + job }

// Search attributes shown as columns and filters in the Web UI.
var (
	AttrJob         = temporal.NewSearchAttributeKeyKeyword("ProvisioningJob")
	AttrApplication = temporal.NewSearchAttributeKeyKeyword("TargetApplication")
	AttrState       = temporal.NewSearchAttributeKeyKeyword("ProvisioningState")
	AttrCycleKind   = temporal.NewSearchAttributeKeyKeyword("CycleKind")
)

// Keys lists the search attributes the workflows use, for registering them
// with a Temporal namespace.
func Keys() []temporal.SearchAttributeKeyKeyword {
	return []temporal.SearchAttributeKeyKeyword{AttrJob, AttrApplication, AttrState, AttrCycleKind}
}

// Register registers the provisioning workflows with a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(ProvisioningJob)
	r.RegisterWorkflow(ProvisioningCycle)
}
