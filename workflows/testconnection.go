package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
)

// TestConnection tests a job's connections on a worker, which holds the
// job's secrets, before the job is started or changed: one activity, tried
// once, whose result names each step with its timing and failure.
func TestConnection(ctx workflow.Context, job config.Job) (api.ConnectionTest, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		// A failed step is the answer, not a reason to try again.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
		Summary:     "test connection of " + job.Name,
	})
	var res api.ConnectionTest
	err := workflow.ExecuteActivity(actx, a.TestConnection, job).Get(ctx, &res)
	return res, err
}
