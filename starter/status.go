package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
)

func statusCmd(g *globals) *cobra.Command {
	var asJSON, watch bool
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show a job's state, current cycle and last cycle",
		Long: `Show a job's state, current cycle and last cycle. JOB is a job name or its
configuration file. With --watch the status is refreshed every second until
interrupted: a live progress bar on a terminal, otherwise a line whenever the
status changes (a JSON object per line with --json).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withJob(args[0], func(name string, c client.Client) error {
				if watch {
					return watchStatus(cmd.Context(), c, name, newView(cmd.OutOrStdout(), asJSON))
				}
				st, err := queryStatus(cmd.Context(), c, name)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				printStatus(cmd.OutOrStdout(), st)
				if st.HeldCycle != "" {
					return printHeld(cmd.Context(), cmd.OutOrStdout(), c, g.namespace, st)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "refresh every second until interrupted")
	return cmd
}

// queryTimeout bounds one status query, so a job without a worker to
// answer is reported rather than waited for.
const queryTimeout = 10 * time.Second

// queryStatus asks the job for its status and a running cycle for its
// progress.
func queryStatus(ctx context.Context, c client.Client, name string) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	return api.JobStatus(ctx, c, name)
}

func printStatus(w io.Writer, st api.Status) {
	fmt.Fprintf(w, "job:          %s → %s\n", st.Job, st.Application)
	fmt.Fprintf(w, "state:        %s\n", st.State)
	if c := st.Current; c != nil {
		fmt.Fprintf(w, "cycle:        %s\n", cycleLine(*c))
	} else if !st.NextRun.IsZero() {
		fmt.Fprintf(w, "next cycle:   %s at %s\n", st.NextKind, st.NextRun.Local().Format(time.RFC3339))
	}
	if st.Schedule != "" {
		fmt.Fprintf(w, "schedule:     %s\n", st.Schedule)
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
	if st.Escrows > 0 {
		fmt.Fprintf(w, "escrows:      %d objects await retry after a failed attempt: starter escrows %s\n", st.Escrows, st.Job)
	}
	if st.HeldDeletes > 0 {
		fmt.Fprintf(w, "held:         %d deletes and disables, waiting for approval: starter restart %s --scope ForceDeletes\n", st.HeldDeletes, st.Job)
	}
	fmt.Fprintf(w, "totals:       %s\n", formatCounts(st.Totals))
}

// heldShown is how many held operations status lists; logs lists them all.
const heldShown = 20

// printHeld lists the first held operations from the held cycle's
// StagedDelete log entries.
func printHeld(ctx context.Context, w io.Writer, c client.Client, namespace string, st api.Status) error {
	held, _, err := heldOperations(ctx, c, namespace, st, "", heldShown)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nHeld operations (%d of %d; all: starter escrows %s --held):\n", len(held), st.HeldDeletes, st.Job)
	t := newEntryTable(w, true)
	for _, e := range held {
		t.write(e)
	}
	return t.flush()
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
