package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/connectors"
)

func escrowsCmd(g *globals) *cobra.Command {
	var (
		typ, after   string
		limit        int
		held, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "escrows JOB",
		Short: "List a job's objects awaiting retry, or (--held) its deletions awaiting approval",
		Long: `List the objects a job will retry after a failed attempt — failed creates,
which have no object connection yet, among them — with the action that
failed, the error code and reason, the attempts so far and when the next is
due, a page at a time in source ID order (--after goes on from a page's last
ID). With --held, list the deletes and disables the deletion guard holds
until approved (starter restart JOB --scope ForceDeletes).
JOB is a job name or its configuration file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := objectType(typ)
			if err != nil {
				return err
			}
			if limit < 1 || limit > api.MaxEscrowsPage {
				return invalidError{fmt.Errorf("--limit %d: use 1 to %d", limit, api.MaxEscrowsPage)}
			}
			return g.withJob(args[0], func(name string, c client.Client) error {
				out := cmd.OutOrStdout()
				if held {
					return listHeld(cmd.Context(), out, c, g.namespace, name, after, limit, asJSON)
				}
				var res api.EscrowsResult
				r := api.EscrowsRequest{Type: t, After: after, Limit: limit}
				if err := askJob(cmd.Context(), c, name, api.UpdateEscrows, r, &res, 5*time.Minute, "the request for escrows"); err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, res)
				}
				printEscrows(out, name, t, res)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&typ, "type", "User", "object type: User or Group")
	fl.StringVar(&after, "after", "", "list from the source ID after this one")
	fl.IntVar(&limit, "limit", 100, fmt.Sprintf("how many to list, at most %d", api.MaxEscrowsPage))
	fl.BoolVar(&held, "held", false, "list the held deletes and disables instead")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func printEscrows(w io.Writer, job string, t connectors.ObjectType, res api.EscrowsResult) {
	if res.Total == 0 {
		fmt.Fprintf(w, "job %s: no %s awaits retry\n", job, t)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tSOURCE ID\tNAME\tTARGET ID\tACTION\tERROR\tATTEMPTS\tNEXT ATTEMPT\tREASON")
	for _, e := range res.Escrows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Type, e.SourceID, e.DisplayName, e.TargetID, e.Action, e.Code, e.Attempts, e.RetryAfter.Local().Format(time.DateTime), oneLine(e.Reason))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d %s objects awaiting retry\n", len(res.Escrows), res.Total, t)
	if res.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", res.Next)
	}
}

// listHeld lists a page of the held cycle's StagedDelete log entries, in
// source ID order.
func listHeld(ctx context.Context, w io.Writer, c client.Client, namespace, job, after string, limit int, asJSON bool) error {
	st, err := queryStatus(ctx, c, job)
	if err != nil {
		return err
	}
	held, next, err := heldOperations(ctx, c, namespace, st, after, limit)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, held)
	}
	if st.HeldDeletes == 0 {
		fmt.Fprintf(w, "job %s: no deletion awaits approval\n", job)
		return nil
	}
	t := newEntryTable(w, true)
	for _, e := range held {
		t.write(e)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d of %d held deletes and disables; approve them with: starter restart %s --scope ForceDeletes\n", len(held), st.HeldDeletes, job)
	if next != "" {
		fmt.Fprintf(w, "more: --after %s\n", next)
	}
	return nil
}

// heldOperations reads the held cycle's StagedDelete log entries with a
// source ID after after, at most limit of them in source ID order, and
// where the next page starts.
func heldOperations(ctx context.Context, c client.Client, namespace string, st api.Status, after string, limit int) ([]audit.Entry, string, error) {
	if st.HeldCycle == "" {
		return []audit.Entry{}, "", nil
	}
	f := audit.Filter{CycleID: st.HeldCycle, Action: audit.StagedDelete}
	var held []audit.Entry
	err := history.Read(ctx, c, namespace, st.Job, func(e audit.Entry) error {
		if f.Match(e) && e.SourceID > after {
			held = append(held, e)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("held operations of job %s: %w", st.Job, err)
	}
	slices.SortStableFunc(held, func(a, b audit.Entry) int { return strings.Compare(a.SourceID, b.SourceID) })
	if len(held) > limit {
		return held[:limit], held[limit-1].SourceID, nil
	}
	return held, "", nil
}
