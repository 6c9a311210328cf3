package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/internal/temporalx"
	"github.com/openprovisioning/provisioner/workflows"

	"github.com/spf13/cobra"
)

func (g *globals) dial() (client.Client, error) {
	return temporalx.Dial(g.address, g.namespace, quietLogger{})
}

func startCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start CONFIG",
		Short: "Start a job from its configuration file, or resume it if it runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			job, err := loadValid(args[0])
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			if err := temporalx.RegisterSearchAttributes(ctx, c, g.namespace); err != nil {
				return err
			}
			id := workflows.JobWorkflowID(job.Name)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                workflows.TaskQueue,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
				WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				StaticSummary:            fmt.Sprintf("Provisioning job %s → %s", job.Name, job.Target.Application),
				StaticDetails:            job.Description,
				TypedSearchAttributes: temporal.NewSearchAttributes(
					workflows.AttrJob.ValueSet(job.Name),
					workflows.AttrApplication.ValueSet(job.Target.Application),
					workflows.AttrState.ValueSet(string(workflows.Running)),
				),
			}, workflows.ProvisioningJob, workflows.JobInput{Config: *job})
			if err != nil {
				return fmt.Errorf("start job %s: %w", job.Name, err)
			}
			out := cmd.OutOrStdout()
			if run.GetRunID() != "" {
				fmt.Fprintf(out, "job %s: workflow %s (run %s)\n", job.Name, id, run.GetRunID())
			}
			// Starting a running job is idempotent; it also resumes a paused one.
			if err := c.SignalWorkflow(ctx, id, "", workflows.SignalStart, nil); err != nil {
				return fmt.Errorf("resume job %s: %w", job.Name, err)
			}
			return nil
		},
	}
}

type signalCommand struct {
	name, short string
}

var signalCommands = []signalCommand{
	{workflows.SignalStop, "Pause a job after the pages in flight"},
	{"resume", "Resume a paused job (the start signal)"},
	{workflows.SignalRestart, "Clear state by reset scope and run a new initial cycle"},
	{workflows.SignalSyncNow, "Run an incremental cycle now"},
	{workflows.SignalQuarantine, "Put a job in quarantine"},
	{workflows.SignalRelease, "Release a job from quarantine"},
}

func signalCmd(g *globals, s signalCommand) *cobra.Command {
	var scopes []string
	cmd := &cobra.Command{
		Use:   s.name + " JOB",
		Short: s.short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := jobName(args[0])
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			signal := s.name
			var arg any
			switch signal {
			case "resume":
				signal = workflows.SignalStart
			case workflows.SignalRestart:
				arg = workflows.RestartRequest{Scopes: scopes}
			}
			if err := c.SignalWorkflow(cmd.Context(), workflows.JobWorkflowID(name), "", signal, arg); err != nil {
				return fmt.Errorf("%s job %s: %w", s.name, name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s: %s sent\n", name, signal)
			return nil
		},
	}
	if s.name == workflows.SignalRestart {
		cmd.Flags().StringSliceVar(&scopes, "scope", nil, "reset scopes: Watermark, Escrows, QuarantineState, ConnectorDataStore, Full, ForceDeletes")
	}
	return cmd
}

func statusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show a job's state, current cycle and last cycle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := jobName(args[0])
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.QueryWorkflow(cmd.Context(), workflows.JobWorkflowID(name), "", workflows.QueryStatus)
			if err != nil {
				return fmt.Errorf("status of job %s: %w", name, err)
			}
			var st workflows.Status
			if err := resp.Get(&st); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func printStatus(w io.Writer, st workflows.Status) {
	fmt.Fprintf(w, "job:          %s → %s\n", st.Job, st.Application)
	fmt.Fprintf(w, "state:        %s\n", st.State)
	if c := st.Current; c != nil {
		fmt.Fprintf(w, "cycle:        %s cycle %d, %s: %d of %d objects\n", c.Kind, c.Number, c.Phase, c.Processed, c.Total)
	} else if !st.NextRun.IsZero() {
		fmt.Fprintf(w, "next cycle:   %s at %s\n", st.NextKind, st.NextRun.Local().Format(time.RFC3339))
	}
	if l := st.LastCycle; l != nil {
		fmt.Fprintf(w, "last cycle:   %s cycle %d: %d read, %d changed, %s (%s)\n", l.Kind, l.Number, l.Read, l.Staged, formatCounts(l.Counts), l.Finished.Sub(l.Started).Round(time.Millisecond))
	}
	if q := st.Quarantine; q != nil {
		fmt.Fprintf(w, "quarantine:   %s since %s, next attempt %s\n", q.Reason, q.Since.Local().Format(time.RFC3339), q.NextAttempt.Local().Format(time.RFC3339))
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "last error:   %s\n", st.LastError)
	}
	if !st.SteadyState.LastAchieved.IsZero() {
		fmt.Fprintf(w, "steady state: last %s\n", st.SteadyState.LastAchieved.Local().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "totals:       %s\n", formatCounts(st.Totals))
}

func formatCounts(c map[string]int) string {
	if len(c) == 0 {
		return "nothing"
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	return strings.Join(parts, ", ")
}

// quietLogger keeps the SDK's connection chatter out of command output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
