// Package api is the contract between a provisioning job workflow and its
// clients — the starter, services, the Web UI: the task queue and workflow
// types, the signal, query and update names, their arguments and results,
// and the errors an update refuses a request with. Every name here is in
// the README's "Client contract" table, for services in other languages.
package api

import "go.temporal.io/sdk/temporal"

// TaskQueue is where workers poll for provisioning work.
const TaskQueue = "provisioning"

// Workflow types.
const (
	// JobWorkflow is a provisioning job, started with a JobStart under
	// JobWorkflowID(name).
	JobWorkflow = "ProvisioningJob"
	// CycleWorkflow is one cycle of a job, which the job runs as a child;
	// a client starts one alone (CycleStart) only for a dry-run preview.
	CycleWorkflow = "ProvisioningCycle"
)

// JobWorkflowID is the deterministic workflow ID of a job: starting a job
// that already runs finds the running workflow instead of a second one.
func JobWorkflowID(job string) string { return "provisioning-job:" + job }

// Signals operators and services send to a job workflow.
const (
	// SignalStop pauses the job after the pages in flight; it resumes where it left off.
	SignalStop = "stop"
	// SignalStart resumes a paused job and lifts quarantine.
	SignalStart = "start"
	// SignalRestart clears state by reset scope (RestartRequest) and starts
	// a new initial cycle.
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
	// QueryStatus answers with the job's Status.
	QueryStatus = "status"
	// QueryConfiguration answers with the job's configuration (config.Job).
	QueryConfiguration = "configuration"
)

// QueryProgress is the query a running cycle workflow answers with its
// CycleProgress; the job's status names the cycle's workflow.
const QueryProgress = "progress"

// Updates a job workflow accepts.
const (
	// UpdateConfiguration replaces the job's configuration (config.Job)
	// after the worker validated it and answers with the job's Status; a
	// change to mappings, scoping or target actions starts a new initial
	// cycle, as in Azure.
	UpdateConfiguration = "update-configuration"
	// UpdateProvisionOnDemand provisions one source object now
	// (OnDemandRequest) and returns the steps it went through
	// (OnDemandResult).
	UpdateProvisionOnDemand = "provision-on-demand"
	// UpdateRollback restores target objects as an audit.RollbackPlan says
	// (RollbackResult); the job must be stopped first.
	UpdateRollback = "rollback"
	// UpdateConnections reads a job's object connections, or deletes one
	// while the job is stopped (ConnectionsRequest, ConnectionsResult).
	UpdateConnections = "connections"
)

// Search attributes shown as columns and filters in the Web UI; a client
// that starts a job sets the first three.
var (
	AttrJob         = temporal.NewSearchAttributeKeyKeyword("ProvisioningJob")
	AttrApplication = temporal.NewSearchAttributeKeyKeyword("TargetApplication")
	AttrState       = temporal.NewSearchAttributeKeyKeyword("ProvisioningState")
	AttrCycleKind   = temporal.NewSearchAttributeKeyKeyword("CycleKind")
)

// SearchAttributeKeys lists the search attributes the workflows use, for
// registering them with a Temporal namespace.
func SearchAttributeKeys() []temporal.SearchAttributeKeyKeyword {
	return []temporal.SearchAttributeKeyKeyword{AttrJob, AttrApplication, AttrState, AttrCycleKind}
}
