package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/audit/htmlreport"
)

// reportErrors is how many error codes the HTML report lists.
const reportErrors = 10

func reportCmd(g *globals) *cobra.Command {
	var asJSON bool
	var htmlPath string
	cmd := &cobra.Command{
		Use:   "report JOB",
		Short: "Provisioning summary: counts per action and error code, and duration, per cycle",
		Long: `Provisioning summary of a job, read from its audit trail: per cycle, the
counts per action and status, the failures per error code, the duration and
the objects in scope. With --html FILE it is written as one self-contained
HTML page with charts of the latest cycles, a table of the last ones and the
most frequent errors with their reasons; the page loads nothing and runs no
script.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && htmlPath != "" {
				return invalidError{fmt.Errorf("--json and --html cannot be used together")}
			}
			return g.withJob(args[0], func(name string, c client.Client) error {
				r := audit.NewReporter()
				err := history.Read(cmd.Context(), c, g.namespace, name, func(e audit.Entry) error {
					r.Add(e)
					return nil
				})
				if err != nil {
					return err
				}
				runs, err := history.ReadCycleRuns(cmd.Context(), c, g.namespace, name)
				if err != nil {
					return err
				}
				r.AddCycles(runs)
				cycles := r.Cycles()
				switch {
				case htmlPath != "":
					return writeHTMLReport(cmd, c, name, htmlPath, htmlreport.Page{Job: name, Generated: time.Now(), Cycles: cycles, Errors: r.TopErrors(reportErrors)})
				case asJSON:
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
	cmd.Flags().StringVar(&htmlPath, "html", "", "write the report as a self-contained HTML page with charts to this `file`")
	return cmd
}

// writeHTMLReport completes the page with what the job says of itself now
// (its application, state and running cycle, whose partial counts the
// charts leave out) and writes it. A job that does not answer, stopped
// for good or without a worker, is reported from its log alone.
func writeHTMLReport(cmd *cobra.Command, c client.Client, name, path string, p htmlreport.Page) error {
	if st, err := queryStatus(cmd.Context(), c, name); err == nil {
		p.Application, p.State = st.Application, string(st.State)
		if st.Current != nil {
			p.Running = st.Current.Number
		}
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "the job's status is left out: %v\n", err)
	}
	// Written beside the file and renamed, so a reader never opens half a
	// page; readable by its owner only, as it names people.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := htmlreport.Write(tmp, p); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d cycles in the log\n", path, len(p.Cycles))
	return nil
}
