package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openprovisioning/provisioner/audit"
)

// entryTable prints log entries for people: one row per entry, then one
// row per further detail (each modified property on its own row).
type entryTable struct {
	tw       *tabwriter.Writer
	withTime bool
}

func newEntryTable(w io.Writer, withTime bool) *entryTable {
	t := &entryTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), withTime: withTime}
	t.row([]string{"ACTION", "STATUS", "OBJECT", "TARGET ID", "DETAILS"}, "TIME", "CYCLE")
	return t
}

func (t *entryTable) write(e audit.Entry) {
	details := entryDetails(e)
	first := ""
	if len(details) > 0 {
		first = details[0]
	}
	t.row([]string{string(e.Action), string(e.Status), object(e), e.TargetID, first}, e.Time.Local().Format(time.DateTime), e.CycleID)
	for _, d := range details[min(1, len(details)):] {
		t.row([]string{"", "", "", "", d}, "", "")
	}
}

func (t *entryTable) row(cells []string, when, cycle string) {
	if t.withTime {
		cells = append([]string{when, cycle}, cells...)
	}
	for i, c := range cells {
		cells[i] = oneLine(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *entryTable) flush() error { return t.tw.Flush() }

// object names an entry's source object: type, ID and display name, or
// where the record was when it had no usable ID.
func object(e audit.Entry) string {
	id := e.SourceID
	if id == "" {
		id = e.Locator
	}
	s := strings.TrimSpace(e.ObjectType + " " + id)
	if e.DisplayName != "" {
		s += " (" + e.DisplayName + ")"
	}
	return s
}

// entryDetails lists why (error code, reason) and what changed.
func entryDetails(e audit.Entry) []string {
	var out []string
	switch {
	case e.ErrorCode != "":
		out = append(out, e.ErrorCode+": "+e.Reason)
	case e.Reason != "":
		out = append(out, e.Reason)
	}
	for _, p := range e.Modified {
		out = append(out, p.String())
	}
	return out
}

// oneLine keeps a cell on its row: tabs and line breaks would break the table.
func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s)
}

// actionSummary counts entries per action, with their statuses.
type actionSummary map[audit.Action]map[audit.Status]int

func (s actionSummary) add(e audit.Entry) {
	if s[e.Action] == nil {
		s[e.Action] = map[audit.Status]int{}
	}
	s[e.Action][e.Status]++
}

// print writes one line per action, e.g. "Other  13  (Skipped 12, Failure 1)";
// statuses are spelled out unless every entry of the action succeeded.
func (s actionSummary) print(w io.Writer) error {
	actions := make([]string, 0, len(s))
	for a := range s {
		actions = append(actions, string(a))
	}
	sort.Strings(actions)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range actions {
		statuses := s[audit.Action(a)]
		total := 0
		names := make([]string, 0, len(statuses))
		for st, n := range statuses {
			total += n
			names = append(names, string(st))
		}
		sort.Strings(names)
		fmt.Fprintf(tw, "  %s\t%d", a, total)
		if len(statuses) > 1 || statuses[audit.Success] != total {
			parts := make([]string, len(names))
			for i, st := range names {
				parts[i] = fmt.Sprintf("%s %d", st, statuses[audit.Status(st)])
			}
			fmt.Fprintf(tw, "\t(%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
