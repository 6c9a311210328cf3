package workflows

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
)

// JobStatus answers a job's status query and, while a cycle runs, asks the
// cycle how far it is: the job knows only which cycle runs. When the cycle
// cannot answer (it just ended, or a worker of an earlier release runs
// it), the job's own account of the cycle stands.
func JobStatus(ctx context.Context, c client.Client, job string) (Status, error) {
	var st Status
	resp, err := c.QueryWorkflow(ctx, JobWorkflowID(job), "", QueryStatus)
	if err == nil {
		err = resp.Get(&st)
	}
	if err != nil {
		return st, fmt.Errorf("status of job %s: %w", job, err)
	}
	if cur := st.Current; cur != nil && cur.Workflow != "" {
		var p CycleProgress
		if resp, err := c.QueryWorkflow(ctx, cur.Workflow, "", QueryProgress); err == nil && resp.Get(&p) == nil && p.Number == cur.Number {
			p.Workflow = cur.Workflow
			st.Current = &p
		}
	}
	return st, nil
}
