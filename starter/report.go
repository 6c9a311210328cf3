package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
)

func reportCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report JOB",
		Short: "Provisioning summary: counts per action and error code, and duration, per cycle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withJob(args[0], func(name string, c client.Client) error {
				var entries []audit.Entry
				err := history.Read(cmd.Context(), c, g.namespace, name, func(e audit.Entry) error {
					entries = append(entries, e)
					return nil
				})
				if err != nil {
					return err
				}
				cycles := audit.Report(entries)
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(cycles)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "CYCLE\tSTARTED\tDURATION\tOBJECTS\tACTIONS\tERRORS")
				for _, r := range cycles {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.CycleID, r.Started.Local().Format(time.RFC3339),
						r.Finished.Sub(r.Started).Round(time.Millisecond), r.Counts.Total(), formatCounts(r.Counts), formatCounts(r.Errors))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
