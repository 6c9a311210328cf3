package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
)

func updateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "update CONFIG",
		Short: "Change a running job's configuration (new mappings or scoping start an initial cycle)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withConfig(args[0], func(job *config.Job, c client.Client) error {
				ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
				defer cancel()
				h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
					WorkflowID:   api.JobWorkflowID(job.Name),
					UpdateName:   api.UpdateConfiguration,
					Args:         []any{*job},
					WaitForStage: client.WorkflowUpdateStageCompleted,
				})
				if err != nil {
					return fmt.Errorf("update job %s: %w", job.Name, err)
				}
				var st api.Status
				if err := h.Get(ctx, &st); err != nil {
					return invalidError{fmt.Errorf("job %s refused the configuration: %w", job.Name, err)}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "job %s: configuration updated (mapping version %s, next %s cycle at %s)\n",
					job.Name, st.MappingVersion, st.NextKind, st.NextRun.Local().Format(time.RFC3339))
				return nil
			})
		},
	}
}
