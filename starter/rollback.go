package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
)

// rollbackChunk is how many objects one rollback update restores, so each
// update's plan and entries stay small in the job's history.
const rollbackChunk = 500

func rollbackCmd(g *globals) *cobra.Command {
	var (
		cycle  string
		apply  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "rollback JOB --cycle N",
		Short: "Restore the target objects a job changed from cycle N on (a dry run unless --apply)",
		Long: `Compute, from the job's provisioning log, each target object's last known
state before cycle N started, and print what restoring it does: properties
set back, accounts re-enabled, accounts created since disabled. Deleted
objects, values hidden by Redact() and group memberships cannot be restored
from the log and are listed as such. With --apply the job restores them; it
must be stopped first (starter stop JOB), so that no cycle runs meanwhile.
Restored objects stay so until their source records change: fix the source
before resuming the job. JOB is a job name or its configuration file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cycle == "" {
				return invalidError{errors.New("--cycle: name the first cycle to roll back")}
			}
			return g.withJob(args[0], func(name string, c client.Client) error {
				plan, err := planRollback(cmd.Context(), c, g.namespace, name, cycle)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if !apply {
					if asJSON {
						return printJSON(out, plan)
					}
					printPlan(out, name, cycle, plan)
					return nil
				}
				entries, err := applyRollback(cmd.Context(), c, name, plan)
				if asJSON {
					if jerr := writeJSON(out, entries); jerr != nil {
						return jerr
					}
				} else {
					printRestored(out, name, entries)
				}
				if err != nil {
					return err
				}
				for _, e := range entries {
					if e.Status == audit.Failure {
						return fmt.Errorf("some objects were not restored")
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&cycle, "cycle", "", "the first cycle to roll back: its number or ID")
	cmd.Flags().BoolVar(&apply, "apply", false, "restore the objects (without it, only print the plan)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan, or the log entries of the restores, as JSON")
	return cmd
}

// planRollback reads the job's log and plans the return to before cycle.
func planRollback(ctx context.Context, c client.Client, namespace, job, cycle string) (audit.RollbackPlan, error) {
	var entries []audit.Entry
	var since time.Time
	f := audit.Filter{CycleID: cycle}
	err := history.Read(ctx, c, namespace, job, func(e audit.Entry) error {
		entries = append(entries, e)
		if f.Match(e) && (since.IsZero() || e.Time.Before(since)) {
			since = e.Time
		}
		return nil
	})
	if err != nil {
		return audit.RollbackPlan{}, err
	}
	if since.IsZero() {
		return audit.RollbackPlan{}, invalidError{fmt.Errorf("--cycle %s: job %s has no log entry of that cycle", cycle, job)}
	}
	return audit.PlanRollback(entries, since), nil
}

// applyRollback sends the plan to the job in chunks and returns the
// entries of the restores done.
func applyRollback(ctx context.Context, c client.Client, job string, plan audit.RollbackPlan) ([]audit.Entry, error) {
	if len(plan.Restores) == 0 {
		return nil, nil
	}
	var entries []audit.Entry
	for start := 0; start < len(plan.Restores); {
		end := min(start+rollbackChunk, len(plan.Restores))
		chunk := audit.RollbackPlan{Since: plan.Since, Restores: plan.Restores[start:end]}
		var res api.RollbackResult
		if err := askJob(ctx, c, job, api.UpdateRollback, chunk, &res, time.Hour, "the rollback"); err != nil {
			return entries, err
		}
		entries = append(entries, res.Entries...)
		// A chunk whose entries filled the result was done up to Next.
		if res.Next > 0 {
			end = start + res.Next
		}
		start = end
	}
	return entries, nil
}

func printPlan(w io.Writer, job, cycle string, plan audit.RollbackPlan) {
	fmt.Fprintf(w, "job %s: rolling back to before cycle %s (started %s) restores %d objects (dry run: nothing was changed; add --apply)\n",
		job, cycle, plan.Since.Local().Format(time.RFC3339), len(plan.Restores))
	if len(plan.Restores) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tOBJECT\tTARGET ID\tDETAILS")
	for _, r := range plan.Restores {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Action, objectName(r.ObjectType, r.SourceID, r.DisplayName), r.TargetID, oneLine(r.Describe()))
	}
	tw.Flush()
}

func printRestored(w io.Writer, job string, entries []audit.Entry) {
	counts := map[audit.Status]int{}
	for _, e := range entries {
		counts[e.Status]++
	}
	fmt.Fprintf(w, "job %s: %d restored, %d failed, %d skipped\n", job, counts[audit.Success], counts[audit.Failure], counts[audit.Skipped])
	for _, e := range entries {
		if e.Status != audit.Success {
			fmt.Fprintf(w, "  %s %s: %s %s\n", e.Status, objectName(e.ObjectType, e.SourceID, e.DisplayName), e.ErrorCode, e.Reason)
		}
	}
}

func objectName(typ, id, display string) string {
	if display == "" {
		return typ + " " + id
	}
	return fmt.Sprintf("%s %s (%s)", typ, id, display)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
