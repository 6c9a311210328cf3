package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
)

// connectionTestTimeout bounds a connection test: the worker's steps take
// at most half a minute each, and a job without a worker is reported.
const connectionTestTimeout = 3 * time.Minute

func testConnectionCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test-connection CONFIG",
		Short: "Test a job's source and target connections where the worker runs",
		Long: `Test a job's connections on a worker, with the secrets only the worker reads:
open the source and read one page, open the target and query it for a random
GUID expecting nothing, and make the connector's own checks (a SCIM service's
/ServiceProviderConfig and /Schemas). Each step is printed with its timing and,
when it fails, why: DNS, connection refused, TLS, 401 with the scheme asked
for, 403, an answer that is not SCIM, a time-out. Nothing is written.
Exit codes: 0 every step passed, 1 one failed, 2 invalid configuration.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withConfig(args[0], func(job *config.Job, c client.Client) error {
				res, err := testConnection(cmd.Context(), c, job)
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(cmd.OutOrStdout(), res); err != nil {
						return err
					}
				} else {
					printConnectionTest(cmd.OutOrStdout(), res)
				}
				return connectionTestError(res)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// testConnection runs the connection test workflow and waits for its
// result; a configuration the worker refuses exits as invalid.
func testConnection(ctx context.Context, c client.Client, job *config.Job) (api.ConnectionTest, error) {
	ctx, cancel := context.WithTimeout(ctx, connectionTestTimeout)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       api.TestConnectionWorkflowID(job.Name, uuid.NewString()),
		TaskQueue:                api.TaskQueue,
		WorkflowExecutionTimeout: connectionTestTimeout,
		StaticSummary:            "Test connection of " + job.Name,
	}, api.TestConnectionWorkflow, *job)
	var res api.ConnectionTest
	if err == nil {
		err = run.Get(ctx, &res)
	}
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == api.ErrInvalidConfiguration {
			return res, invalidError{fmt.Errorf("the worker refused job %s's configuration: %s", job.Name, ae.Message())}
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("test connection of job %s: no answer within %s: is a worker polling task queue %s?", job.Name, connectionTestTimeout, api.TaskQueue)
		}
		return res, fmt.Errorf("test connection of job %s: %w", job.Name, err)
	}
	return res, nil
}

// connectionTestError names the first failed step, or is nil.
func connectionTestError(res api.ConnectionTest) error {
	for _, s := range res.Steps {
		if s.Failure != "" {
			return fmt.Errorf("job %s: the connection test failed at %q: %s", res.Job, s.Name, s.Failure)
		}
	}
	return nil
}

func printConnectionTest(w io.Writer, res api.ConnectionTest) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range res.Steps {
		outcome, detail := "ok", s.Note
		if s.Failure != "" {
			outcome, detail = "FAILED", fmt.Sprintf("%s: %s", s.Failure, oneLine(s.Error))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d ms\t%s\n", outcome, s.Name, s.Duration.Milliseconds(), detail)
	}
	tw.Flush()
}
