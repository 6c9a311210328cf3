// Package workflows holds the provisioning job workflow — one durable
// workflow per job that runs an initial cycle, then incremental cycles at the
// job's interval, steered by signals — and the cycle workflow it runs as a
// child for every cycle, so each run's history stays small at any job size.
// What clients send and read is in package api.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
)

// Messages between a job and its cycle workflow. Cycles recorded before
// progressQueryChange signal their progress; the job still reads it.
const (
	signalCycleProgress = "cycle-progress"
	signalCycleStop     = "cycle-stop"
)

// Register registers the provisioning workflows with a worker, under the
// workflow types clients start them by.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ProvisioningJob, workflow.RegisterOptions{Name: api.JobWorkflow})
	r.RegisterWorkflowWithOptions(ProvisioningCycle, workflow.RegisterOptions{Name: api.CycleWorkflow})
	r.RegisterWorkflowWithOptions(TestConnection, workflow.RegisterOptions{Name: api.TestConnectionWorkflow})
}
