package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

func onDemandCmd(g *globals) *cobra.Command {
	var (
		typ    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "on-demand JOB SOURCE-ID",
		Short: "Provision one user, or one group with its members, now, and show each step",
		Long: "Provision one source object now, outside the job's cycles, and print the steps it went\n" +
			"through: import, scope (each clause), match, action (the values exported). JOB is a job\n" +
			"name or its configuration file. Exits 1 when the object fails, 2 when the job refuses\n" +
			"the request.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := objectType(typ)
			if err != nil {
				return err
			}
			return g.withJob(args[0], func(name string, c client.Client) error {
				res, err := provisionOnDemand(cmd.Context(), c, name, api.OnDemandRequest{Type: t, ID: args[1]})
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					if err := printJSON(out, res); err != nil {
						return err
					}
				} else {
					printOnDemand(out, name, res)
				}
				if failed(res) {
					return fmt.Errorf("%s %s was not provisioned", res.Type, res.SourceID)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&typ, "type", string(connectors.User), "object type: User or Group")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// objectType accepts an object type in any case.
func objectType(s string) (connectors.ObjectType, error) {
	for _, t := range []connectors.ObjectType{connectors.User, connectors.Group} {
		if strings.EqualFold(s, string(t)) {
			return t, nil
		}
	}
	return "", invalidError{fmt.Errorf("--type %q: use User or Group", s)}
}

func provisionOnDemand(ctx context.Context, c client.Client, job string, r api.OnDemandRequest) (api.OnDemandResult, error) {
	var res api.OnDemandResult
	err := askJob(ctx, c, job, api.UpdateProvisionOnDemand, r, &res, 10*time.Minute, fmt.Sprintf("provisioning %s %s on demand", r.Type, r.ID))
	return res, err
}

func failed(res api.OnDemandResult) bool {
	for _, s := range res.Steps {
		if s.Status == audit.Failure {
			return true
		}
	}
	for _, e := range res.Entries {
		if e.Status == audit.Failure {
			return true
		}
	}
	return false
}

func printOnDemand(w io.Writer, job string, res api.OnDemandResult) {
	fmt.Fprintf(w, "job %s: %s %s provisioned on demand\n", job, res.Type, res.SourceID)
	for i, s := range res.Steps {
		fmt.Fprintf(w, "%d. %-7s %-8s %s\n", i+1, s.Name, s.Status, s.Detail)
		for _, c := range s.Clauses {
			verdict := "false"
			if c.Passed {
				verdict = "true"
			}
			fmt.Fprintf(w, "     filter %d: %s %s %q — value %q: %s\n", c.Group, c.Attribute, c.Operator, c.Value, c.Actual, verdict)
		}
		for _, v := range s.Values {
			if s.Name == api.StepImport {
				fmt.Fprintf(w, "     %s = %q\n", v.Name, v.New)
			} else {
				fmt.Fprintf(w, "     %s: %q → %q\n", v.Name, v.Old, v.New)
			}
		}
	}
	members := res.Members()
	if len(members) > 0 || res.MembersLeft > 0 {
		counts := audit.Counts{}
		for _, e := range members {
			counts.Add(e)
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
		fmt.Fprintf(w, "members: %d provisioned (%s)", len(members), strings.Join(parts, ", "))
		if res.MembersLeft > 0 {
			fmt.Fprintf(w, "; %d more follow in the next cycle", res.MembersLeft)
		}
		fmt.Fprintln(w)
		for _, e := range members {
			if e.Status == audit.Failure {
				fmt.Fprintf(w, "     %s: %s %s\n", e.SourceID, e.ErrorCode, e.Reason)
			}
		}
	}
	if m := res.Memberships(); m != nil {
		fmt.Fprintf(w, "memberships: %s", m.Status)
		for _, p := range m.Modified {
			for _, s := range []string{p.New, p.Old} {
				if s != "" {
					fmt.Fprintf(w, "; %s", s)
				}
			}
		}
		if m.Reason != "" {
			fmt.Fprintf(w, " (%s)", m.Reason)
		}
		fmt.Fprintln(w)
	}
}
