package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/examples/hrexport"
)

// onDemandHires is how many new hires are provisioned on demand, one
// request each, to time the requests.
const onDemandHires = 10

// onDemand is the timing of provisioning on demand: the whole request, as
// an operator's command waits for it.
type onDemand struct {
	median, max time.Duration
	created     int
}

// measureOnDemand adds new hires at the end of the export (the slowest to
// find in a file) and provisions each on demand.
func measureOnDemand(ctx context.Context, c client.Client, hrPath string, staff []hrexport.Employee) (onDemand, error) {
	var (
		hires   []string
		newRows []hrexport.Employee
	)
	for i := range onDemandHires {
		e := staff[i]
		e.ID = fmt.Sprintf("N%06d", i+1)
		e.UserName, e.Email = fmt.Sprintf("new.hire%d@example.com", i+1), fmt.Sprintf("new.hire%d@example.com", i+1)
		e.EmployeeType, e.Status = "Employee", "Active"
		newRows = append(newRows, e)
		hires = append(hires, e.ID)
	}
	if err := writeHR(hrPath, staff, newRows...); err != nil {
		return onDemand{}, err
	}
	var times []time.Duration
	var r onDemand
	for _, id := range hires {
		start := time.Now()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   api.JobWorkflowID(jobName),
			UpdateName:   api.UpdateProvisionOnDemand,
			Args:         []any{api.OnDemandRequest{Type: connectors.User, ID: id}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return r, fmt.Errorf("provision %s on demand: %w", id, err)
		}
		var res api.OnDemandResult
		if err := h.Get(ctx, &res); err != nil {
			return r, fmt.Errorf("provision %s on demand: %w", id, err)
		}
		times = append(times, time.Since(start))
		if e := res.Object(); e.Action == audit.Create && e.Status == audit.Success {
			r.created++
		}
	}
	slices.Sort(times)
	r.median, r.max = times[len(times)/2], times[len(times)-1]
	return r, nil
}
