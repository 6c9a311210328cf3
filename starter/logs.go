package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/audit/sink"
)

func logsCmd(g *globals) *cobra.Command {
	var cycle, action, status, object, since, format, dir string
	cmd := &cobra.Command{
		Use:   "logs JOB",
		Short: "List a job's provisioning log, filtered, as a table, CSV or JSON",
		Long: `List the provisioning log of a job: one entry per object per cycle, read
from the cycle workflows' histories, so it reaches back as far as the
namespace's retention. With --sink, from the JSON Lines files a worker
copies every ended cycle's entries to (its -audit-dir), which outlive the
histories; --since then skips the days before it unread. JOB is a job name
or its configuration file. Filters combine. CSV has these columns, in this
order:
` + strings.Join(audit.Columns, ", ") + `
(modified as "name: old → new; ..."); JSON is an array of entries with the
same fields, modified properties as a list.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := jobName(args[0])
			if err != nil {
				return err
			}
			f := audit.Filter{CycleID: cycle, Object: object}
			if f.Action, err = oneOf("action", action, audit.Create, audit.Update, audit.Disable, audit.Delete, audit.StagedDelete, audit.Other); err != nil {
				return err
			}
			if f.Status, err = oneOf("status", status, audit.Success, audit.Failure, audit.Skipped, audit.Warning); err != nil {
				return err
			}
			if f.Since, err = parseSince(since, time.Now()); err != nil {
				return err
			}
			out, err := newEntryWriter(format, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			n := 0
			write := func(e audit.Entry) error {
				if !f.Match(e) {
					return nil
				}
				n++
				return out.Write(e)
			}
			if dir != "" {
				err = sink.Read(dir, name, f.Since, write)
			} else {
				err = readHistory(cmd.Context(), g, name, f.Since, write)
			}
			if err != nil {
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
			if n == 0 && format == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "no provisioning log entry of job %s matches\n", name)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cycle, "cycle", "", "cycle ID, or cycle number")
	fl.StringVar(&action, "action", "", "Create, Update, Disable, Delete, StagedDelete or Other")
	fl.StringVar(&status, "status", "", "Success, Failure, Skipped or Warning")
	fl.StringVar(&object, "object", "", "source ID, target ID or display name of an object")
	fl.StringVar(&since, "since", "", "only entries this recent: a duration (24h) or a time (2006-01-02 or RFC 3339)")
	fl.StringVar(&format, "format", "table", "table, csv or json")
	fl.StringVar(&dir, "sink", "", "read the JSON Lines files in this folder (a worker's -audit-dir) instead of history")
	return cmd
}

// readHistory calls fn with a job's log entries from since on, read from
// workflow history.
func readHistory(ctx context.Context, g *globals, job string, since time.Time, fn func(audit.Entry) error) error {
	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return history.ReadSince(ctx, c, g.namespace, job, since, fn)
}

// oneOf returns the allowed value that v names, ignoring case; empty stays empty.
func oneOf[T ~string](flag, v string, allowed ...T) (T, error) {
	if v == "" {
		return "", nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if strings.EqualFold(v, string(a)) {
			return a, nil
		}
		names[i] = string(a)
	}
	return "", invalidError{fmt.Errorf("--%s %q: use %s", flag, v, strings.Join(names, ", "))}
}

// parseSince reads --since: a duration back from now, or a point in time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalidError{fmt.Errorf("--since %q: use a positive duration such as 24h, or a time such as 2006-01-02 or 2006-01-02T15:04:05Z", v)}
}

// entryWriter writes log entries in one output format.
type entryWriter interface {
	Write(audit.Entry) error
	Close() error
}

func newEntryWriter(format string, w io.Writer) (entryWriter, error) {
	switch format {
	case "table":
		return &tableWriter{w: w}, nil
	case "csv":
		return audit.NewCSVWriter(w), nil
	case "json":
		return audit.NewJSONWriter(w), nil
	}
	return nil, invalidError{fmt.Errorf("--format %q: use table, csv or json", format)}
}

// tableWriter starts its table at the first entry, so an empty log prints
// no lone header.
type tableWriter struct {
	w io.Writer
	t *entryTable
}

func (t *tableWriter) Write(e audit.Entry) error {
	if t.t == nil {
		t.t = newEntryTable(t.w, true)
	}
	t.t.write(e)
	return nil
}

func (t *tableWriter) Close() error {
	if t.t == nil {
		return nil
	}
	return t.t.flush()
}

// writeJSON writes entries as a JSON array.
func writeJSON(w io.Writer, entries []audit.Entry) error {
	j := audit.NewJSONWriter(w)
	for _, e := range entries {
		if err := j.Write(e); err != nil {
			return err
		}
	}
	return j.Close()
}
