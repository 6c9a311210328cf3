package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
)

func connectionsCmd(g *globals) *cobra.Command {
	var (
		typ, object, after, del string
		limit                   int
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "connections JOB",
		Short: "List a job's object connections (source ID ↔ target ID), show one, or delete one",
		Long: `Show what the job knows of its objects: the source ID, the linked target ID,
whether the account is active, and a pending retry's reason. --object finds
one by source or target ID; otherwise a page is listed in source ID order
(--after goes on from a page's last ID). --delete forgets one object's
connection while the job is stopped: the next cycle matches it again.
JOB is a job name or its configuration file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := objectType(typ)
			if err != nil {
				return err
			}
			r := api.ConnectionsRequest{Type: t, ID: object, After: after, Limit: limit}
			if del != "" {
				if object != "" {
					return invalidError{errors.New("--delete names the object itself; leave out --object")}
				}
				r.ID, r.Delete = del, true
			}
			return g.withJob(args[0], func(name string, c client.Client) error {
				res, err := objectConnections(cmd.Context(), c, name, r)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					return printJSON(out, res)
				}
				printConnections(out, name, r, res)
				if r.ID != "" && len(res.Connections) == 0 {
					return fmt.Errorf("job %s has no %s with source or target ID %q", name, t, r.ID)
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&typ, "type", "User", "object type: User or Group")
	fl.StringVar(&object, "object", "", "show the object with this source or target ID")
	fl.StringVar(&after, "after", "", "list from the source ID after this one")
	fl.IntVar(&limit, "limit", 100, fmt.Sprintf("how many to list, at most %d", api.MaxConnectionsPage))
	fl.StringVar(&del, "delete", "", "delete the connection of the object with this source or target ID (the job must be stopped)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func objectConnections(ctx context.Context, c client.Client, job string, r api.ConnectionsRequest) (api.ConnectionsResult, error) {
	var res api.ConnectionsResult
	err := askJob(ctx, c, job, api.UpdateConnections, r, &res, 5*time.Minute, "the request for object connections")
	return res, err
}

func printConnections(w io.Writer, job string, r api.ConnectionsRequest, res api.ConnectionsResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tSOURCE ID\tTARGET ID\tACTIVE\tUPDATED\tPENDING RETRY")
	for _, c := range res.Connections {
		retry := ""
		if e := c.Escrow; e != nil {
			retry = oneLine(fmt.Sprintf("attempt %d, next after %s: %s %s", e.Attempts, e.RetryAfter.Local().Format(time.DateTime), e.Code, e.Reason))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", c.Type, c.SourceID, c.TargetID, c.Active, c.UpdatedAt.Local().Format(time.DateTime), retry)
	}
	tw.Flush()
	switch {
	case res.Deleted:
		fmt.Fprintf(w, "job %s: the connection of %s %s is deleted; the next cycle matches it again\n", job, r.Type, res.Connections[0].SourceID)
	case res.Next != "":
		fmt.Fprintf(w, "more: --after %s\n", res.Next)
	}
}
