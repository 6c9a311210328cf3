package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/internal/temporalx"

	"github.com/spf13/cobra"
)

// dial connects with the payload codec, compressing and, when its keys are
// named, encrypting; the client carries its data converter for the
// provisioning log's reader.
func (g *globals) dial() (client.Client, error) {
	opts, err := temporalx.Connection{Address: g.address, Namespace: g.namespace, Logger: quietLogger{}}.ClientOptions()
	if err != nil {
		return nil, err
	}
	keys, err := g.codec.Keys()
	if err != nil {
		return nil, invalidError{err}
	}
	codec.Codec{Keys: keys}.ClientOptions(&opts)
	g.address, g.namespace = opts.HostPort, opts.Namespace
	c, err := temporalx.Dial(opts)
	if err != nil {
		return nil, err
	}
	return history.WithConverter(c, opts.DataConverter), nil
}

// withConfig loads and validates a configuration file, connects to
// Temporal and calls fn; nothing is sent for an invalid configuration.
func (g *globals) withConfig(path string, fn func(job *config.Job, c client.Client) error) error {
	job, err := loadValid(path)
	if err != nil {
		return err
	}
	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(job, c)
}

// withJob resolves a job name (or the name in a configuration file),
// connects to Temporal and calls fn.
func (g *globals) withJob(arg string, fn func(name string, c client.Client) error) error {
	name, err := jobName(arg)
	if err != nil {
		return err
	}
	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(name, c)
}

func startCmd(g *globals) *cobra.Command {
	var untested bool
	cmd := &cobra.Command{
		Use:   "start CONFIG",
		Short: "Start a job from its configuration file, or resume it if it runs",
		Long: `Start a job from its configuration file, or resume it if it runs. A new job's
connections are tested first (as test-connection does): when a step fails,
nothing is started.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withConfig(args[0], func(job *config.Job, c client.Client) error {
				if !untested {
					if err := testNewJob(cmd.Context(), cmd.OutOrStdout(), c, job); err != nil {
						return err
					}
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				defer cancel()
				if err := temporalx.RegisterSearchAttributes(ctx, c, g.namespace); err != nil {
					return err
				}
				id := api.JobWorkflowID(job.Name)
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID:                       id,
					TaskQueue:                api.TaskQueue,
					WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
					WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
					StaticSummary:            fmt.Sprintf("Provisioning job %s → %s", job.Name, job.Target.Application),
					StaticDetails:            job.Description,
					TypedSearchAttributes: temporal.NewSearchAttributes(
						api.AttrJob.ValueSet(job.Name),
						api.AttrApplication.ValueSet(job.Target.Application),
						api.AttrState.ValueSet(string(api.Running)),
					),
				}, api.JobWorkflow, api.JobStart{Config: *job})
				if err != nil {
					return fmt.Errorf("start job %s: %w", job.Name, err)
				}
				out := cmd.OutOrStdout()
				if run.GetRunID() != "" {
					fmt.Fprintf(out, "job %s: workflow %s (run %s)\n", job.Name, id, run.GetRunID())
				}
				// Starting a running job is idempotent; it also resumes a paused one.
				if err := c.SignalWorkflow(ctx, id, "", api.SignalStart, nil); err != nil {
					return fmt.Errorf("resume job %s: %w", job.Name, err)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&untested, "no-test-connection", false, "start a new job without testing its connections first")
	return cmd
}

// testNewJob tests the connections of a job that does not run yet, and
// fails, printing the steps, when one fails. A running job is resumed
// as it is.
func testNewJob(ctx context.Context, w io.Writer, c client.Client, job *config.Job) error {
	d, err := c.DescribeWorkflow(ctx, api.JobWorkflowID(job.Name), "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return fmt.Errorf("job %s: %w", job.Name, err)
	case d.RawResponse.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return nil
	}
	res, err := testConnection(ctx, c, job)
	if err != nil {
		return err
	}
	if err := connectionTestError(res); err != nil {
		printConnectionTest(w, res)
		return fmt.Errorf("%w; nothing was started (see starter test-connection)", err)
	}
	return nil
}

type signalCommand struct {
	name, short string
}

var signalCommands = []signalCommand{
	{api.SignalStop, "Pause a job after the pages in flight"},
	{"resume", "Resume a paused job (the start signal)"},
	{api.SignalRestart, "Clear state by reset scope and run a new initial cycle"},
	{api.SignalSyncNow, "Run an incremental cycle now"},
	{api.SignalQuarantine, "Put a job in quarantine"},
	{api.SignalRelease, "Release a job from quarantine"},
}

func signalCmd(g *globals, s signalCommand) *cobra.Command {
	var scopes []string
	cmd := &cobra.Command{
		Use:   s.name + " JOB",
		Short: s.short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withJob(args[0], func(name string, c client.Client) error {
				signal := s.name
				var arg any
				switch signal {
				case "resume":
					signal = api.SignalStart
				case api.SignalRestart:
					arg = api.RestartRequest{Scopes: scopes}
				}
				if err := c.SignalWorkflow(cmd.Context(), api.JobWorkflowID(name), "", signal, arg); err != nil {
					return fmt.Errorf("%s job %s: %w", s.name, name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "job %s: %s sent\n", name, signal)
				return nil
			})
		},
	}
	if s.name == api.SignalRestart {
		cmd.Flags().StringSliceVar(&scopes, "scope", nil, "reset scopes: Watermark, Escrows, QuarantineState, ConnectorDataStore, Full, ForceDeletes")
	}
	return cmd
}

// quietLogger keeps the SDK's connection chatter out of command output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// askJob sends a job an update and waits for its result into result. An
// update the job refuses (its validator, or a request it cannot serve)
// exits as invalid usage; what names the request in messages.
func askJob(ctx context.Context, c client.Client, job, update string, arg, result any, timeout time.Duration, what string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   api.JobWorkflowID(job),
		UpdateName:   update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == api.ErrRequestRefused {
			return invalidError{fmt.Errorf("job %s refused %s: %s", job, what, ae.Message())}
		}
		return fmt.Errorf("%s in job %s: %w", what, job, err)
	}
	return nil
}
