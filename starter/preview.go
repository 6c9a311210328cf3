package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

func previewCmd(g *globals) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "preview CONFIG",
		Short: "Dry run: show what a full cycle would change, pushing nothing",
		Long: `Run one full (initial) cycle of a job as a dry run and print every planned
operation with its before and after values, then a summary by action. The
cycle runs on the workers like any other, reads the source and the target,
and writes nothing to the target or to the job's state. Objects that need
nothing are left out unless --all is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withConfig(args[0], func(job *config.Job, c client.Client) error {
				res, entries, err := preview(cmd.Context(), c, *job)
				if err != nil {
					return err
				}
				var shown []audit.Entry
				for _, e := range entries {
					if all || planned(e) {
						shown = append(shown, e)
					}
				}
				out := cmd.OutOrStdout()
				if asJSON {
					err = writeJSON(out, shown)
				} else {
					err = printPreview(out, job.Name, res, shown, entries)
				}
				if err != nil {
					return err
				}
				return checkPreview(res, entries)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as a JSON array")
	cmd.Flags().BoolVar(&all, "all", false, "also list objects that need nothing")
	return cmd
}

// preview runs a dry-run initial cycle of the job as a workflow of its own,
// outside the job, and returns its result and log entries sorted by object.
// The cycle has no parent: its progress signals go nowhere, and without the
// job's search attribute it stays out of the job's provisioning log.
func preview(ctx context.Context, c client.Client, job config.Job) (api.CycleOutcome, []audit.Entry, error) {
	job.Options.DryRun = true
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	id := "provisioning-preview:" + job.Name + ":" + stamp
	var res api.CycleOutcome
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     api.TaskQueue,
		StaticSummary: fmt.Sprintf("Preview (dry run) of job %s → %s", job.Name, job.Target.Application),
	}, api.CycleWorkflow, api.CycleStart{
		Job:   job,
		Cycle: store.Cycle{Job: job.Name, ID: "preview-" + stamp},
		Kind:  api.Initial,
	})
	if err != nil {
		return res, nil, fmt.Errorf("start preview of job %s: %w", job.Name, err)
	}
	if err := run.Get(ctx, &res); err != nil {
		if ctx.Err() != nil {
			// Nobody waits for the result any more: stop the cycle's work.
			tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.TerminateWorkflow(tctx, id, run.GetRunID(), "preview interrupted")
			return res, nil, fmt.Errorf("preview of job %s interrupted", job.Name)
		}
		return res, nil, fmt.Errorf("preview of job %s (workflow %s): %w", job.Name, id, err)
	}
	var entries []audit.Entry
	err = history.ReadRun(ctx, c, id, run.GetRunID(), func(e audit.Entry) error {
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return res, nil, err
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.ObjectType != b.ObjectType {
			return a.ObjectType < b.ObjectType
		}
		return a.SourceID < b.SourceID
	})
	return res, entries, nil
}

// planned reports whether an entry is an operation on the target, or a
// failure the operator must see; the rest needed nothing.
func planned(e audit.Entry) bool {
	return e.Action != audit.Other || e.Status == audit.Failure
}

func printPreview(w io.Writer, job string, res api.CycleOutcome, shown, entries []audit.Entry) error {
	fmt.Fprintf(w, "Preview of job %s (dry run, nothing was pushed): %d source objects read, %d entries.\n\n", job, res.Summary.Read, len(entries))
	if len(shown) == 0 {
		fmt.Fprintln(w, "Nothing to change: the target matches the source.")
	} else {
		t := newEntryTable(w, false)
		for _, e := range shown {
			t.write(e)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	sum := actionSummary{}
	for _, e := range entries {
		sum.add(e)
	}
	fmt.Fprintln(w, "\nSummary by action:")
	return sum.print(w)
}

// checkPreview fails a preview that did not run to its end, or whose
// entries were not made as a dry run: a worker that does not know dry runs
// would have pushed them, and the operator must know at once.
func checkPreview(res api.CycleOutcome, entries []audit.Entry) error {
	for _, e := range entries {
		if !e.DryRun {
			return fmt.Errorf("entry %s was not a dry run: a worker pushed changes; check the workers' version", e.ChangeID)
		}
	}
	if res.QuarantineReason != "" {
		return fmt.Errorf("preview incomplete: the target refused the calls (%s)", res.QuarantineReason)
	}
	return nil
}
