// Package htmlreport writes a job's provisioning summary report as one
// self-contained HTML page: charts of its cycles (counts by action and by
// status, failures by error code, durations, objects in scope), the last
// cycles' table and the most frequent errors. The charts are SVG drawn
// here, the styles inline: the page loads nothing and runs no script, so
// it can be mailed, archived or opened offline.
//
// Every value on the page goes through html/template, which escapes it
// for where it lands: names and reasons come from directories and target
// applications, and must never become markup.
package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/openprovisioning/provisioner/audit"
)

// MaxChartCycles is how many of the latest cycles the charts show;
// TableCycles how many the table lists.
const (
	MaxChartCycles = 60
	TableCycles    = 10
)

// Page is what the report shows.
type Page struct {
	Job         string
	Application string
	// State is the job's state when the report was made; empty when the
	// job did not answer.
	State     string
	Generated time.Time
	// Cycles are the job's cycles, on-demand requests and rollbacks, in
	// the order they started (audit.Reporter.Cycles).
	Cycles []audit.CycleReport
	// Errors are the most frequent error codes (audit.Reporter.TopErrors).
	Errors []audit.ErrorSummary
	// Running is the number of the cycle running now, 0 when none: its
	// counts are partial, so the charts leave it out.
	Running int
}

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"f1":       func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"when":     func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"zone":     zone,
	"duration": formatDuration,
	"count":    thousands,
	"plus":     func(a, b float64) float64 { return a + b },
	"minus":    func(a, b float64) float64 { return a - b },
}).Parse(pageTemplate))

// view is the page as the template reads it.
type view struct {
	Page
	// Finished counts the job's finished cycles in the log; Charted how
	// many of the latest the charts show.
	Finished, Charted int
	Charts            []chart
	// NoFailures is set when the charted cycles failed nothing.
	NoFailures bool
	Rows       []row
	// Others counts the on-demand requests and rollbacks in the log.
	Others   int
	From, To time.Time
}

// row is one line of the last cycles' table.
type row struct {
	Label, Kind                           string
	Read                                  int
	Running, Paused, DryRun               bool
	Started                               time.Time
	Duration                              time.Duration
	Objects                               int
	Create, Update, Disable, Delete, Held int
	Skipped, Failed                       int
	Errors                                string
}

// Write writes the page.
func Write(w io.Writer, p Page) error {
	v := view{Page: p}
	// The running cycle is the latest of its number: a job started afresh
	// under its name numbers its cycles from 1 again.
	running := -1
	for i, c := range p.Cycles {
		if n, ok := cycleNumber(c.CycleID); ok && n == p.Running {
			running = i
		}
	}
	var finished []audit.CycleReport
	for i, c := range p.Cycles {
		_, ok := cycleNumber(c.CycleID)
		switch {
		case !ok:
			v.Others++
		case i != running:
			finished = append(finished, c)
		}
	}
	if len(p.Cycles) > 0 {
		v.From, v.To = p.Cycles[0].Started, p.Cycles[len(p.Cycles)-1].Finished
	}
	v.Finished = len(finished)
	charted := finished[max(0, len(finished)-MaxChartCycles):]
	v.Charted = len(charted)
	if len(charted) > 0 {
		v.Charts, v.NoFailures = charts(charted)
	}
	for i := max(0, len(p.Cycles)-TableCycles); i < len(p.Cycles); i++ {
		v.Rows = append(v.Rows, tableRow(p.Cycles[i], i == running))
	}
	slices.Reverse(v.Rows) // newest first
	return tmpl.Execute(w, v)
}

// Colours: actions and statuses keep theirs on every chart; error codes
// and object types take the next of a palette.
var (
	actionColors = map[audit.Action]string{
		audit.Create: "#2e7d32", audit.Update: "#1565c0", audit.Disable: "#ef6c00",
		audit.Delete: "#c62828", audit.StagedDelete: "#6a1b9a", audit.Other: "#9e9e9e",
	}
	statusColors = map[audit.Status]string{
		audit.Success: "#2e7d32", audit.Warning: "#f9a825", audit.Skipped: "#9e9e9e", audit.Failure: "#c62828",
	}
	palette = []string{"#c62828", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e", "#558b2f", "#283593"}
)

var (
	actions  = []audit.Action{audit.Create, audit.Update, audit.Disable, audit.Delete, audit.StagedDelete, audit.Other}
	statuses = []audit.Status{audit.Success, audit.Warning, audit.Skipped, audit.Failure}
)

// maxErrorSeries is how many error codes the failures chart tells apart;
// the rest are one series.
const maxErrorSeries = 6

// charts draws the charts of the cycles given, and reports whether they
// failed nothing.
func charts(cycles []audit.CycleReport) ([]chart, bool) {
	labels := make([]string, len(cycles))
	for i, c := range cycles {
		n, _ := cycleNumber(c.CycleID)
		labels[i] = strconv.Itoa(n)
	}
	perCycle := func(f func(audit.CycleReport) float64) []float64 {
		out := make([]float64, len(cycles))
		for i, c := range cycles {
			out[i] = f(c)
		}
		return out
	}
	desc := fmt.Sprintf("cycles %s to %s", labels[0], labels[len(labels)-1])

	var types []string
	for _, c := range cycles {
		for t := range c.InScope {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	slices.Sort(types)
	var inScope []series
	for i, t := range types {
		inScope = append(inScope, series{Name: t, Color: typeColor(t, i), Values: perCycle(func(c audit.CycleReport) float64 { return float64(c.InScope[t]) })})
	}
	if len(inScope) == 0 {
		inScope = []series{{Name: "objects", Color: palette[3], Values: make([]float64, len(cycles))}}
	}

	var byAction, byStatus []series
	for _, a := range actions {
		byAction = append(byAction, series{Name: string(a), Color: actionColors[a], Values: perCycle(func(c audit.CycleReport) float64 {
			n := 0
			for _, s := range statuses {
				n += c.Counts.Of(a, s)
			}
			return float64(n)
		})})
	}
	for _, s := range statuses {
		byStatus = append(byStatus, series{Name: string(s), Color: statusColors[s], Values: perCycle(func(c audit.CycleReport) float64 {
			n := 0
			for _, a := range actions {
				n += c.Counts.Of(a, s)
			}
			return float64(n)
		})})
	}

	codes := errorCodes(cycles)
	var byCode []series
	for i, code := range codes[:min(len(codes), maxErrorSeries)] {
		byCode = append(byCode, series{Name: code, Color: palette[i], Values: perCycle(func(c audit.CycleReport) float64 { return float64(c.Errors[code]) })})
	}
	if rest := codes[min(len(codes), maxErrorSeries):]; len(rest) > 0 {
		byCode = append(byCode, series{Name: fmt.Sprintf("%d other codes", len(rest)), Color: "#757575", Values: perCycle(func(c audit.CycleReport) float64 {
			n := 0
			for _, code := range rest {
				n += c.Errors[code]
			}
			return float64(n)
		})})
	}

	durations := perCycle(func(c audit.CycleReport) float64 { return c.Finished.Sub(c.Started).Seconds() })
	unit, scale := durationUnit(maxOf(durations))
	for i := range durations {
		durations[i] /= scale
	}

	out := []chart{
		lines("in-scope", "Objects in scope", "Objects in scope and provisioned at the end of each cycle, by object type, "+desc, "", labels, inScope),
		stackedBars("durations", "Cycle duration", "How long each cycle took, from its start to its end, "+desc, unit, labels,
			[]series{{Name: "duration", Color: "#3949ab", Values: durations}}),
		stackedBars("actions", "Objects per cycle by action", "Log entries of each cycle by action, "+desc, "", labels, byAction),
		stackedBars("statuses", "Objects per cycle by status", "Log entries of each cycle by status, "+desc, "", labels, byStatus),
	}
	if len(byCode) > 0 {
		out = append(out, stackedBars("errors", "Failures per cycle by error code", "Failed objects of each cycle by error code, "+desc, "", labels, byCode))
	}
	return out, len(byCode) == 0
}

// errorCodes returns the cycles' error codes, most failures first.
func errorCodes(cycles []audit.CycleReport) []string {
	total := map[string]int{}
	for _, c := range cycles {
		for code, n := range c.Errors {
			total[code] += n
		}
	}
	codes := make([]string, 0, len(total))
	for code := range total {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if total[a] != total[b] {
			return total[b] - total[a]
		}
		return strings.Compare(a, b)
	})
	return codes
}

func typeColor(t string, i int) string {
	switch t {
	case "User":
		return "#1565c0"
	case "Group":
		return "#00838f"
	}
	return palette[(i+4)%len(palette)]
}

func tableRow(c audit.CycleReport, running bool) row {
	r := row{Label: c.CycleID, Kind: c.Kind, Read: c.Read, Paused: c.Paused, DryRun: c.DryRun, Started: c.Started, Duration: c.Finished.Sub(c.Started), Objects: c.Counts.Total()}
	switch n, ok := cycleNumber(c.CycleID); {
	case ok:
		r.Label, r.Running = "cycle "+strconv.Itoa(n), running
	case strings.HasPrefix(c.CycleID, "on-demand-"):
		r.Label = "on demand"
	case strings.HasPrefix(c.CycleID, "rollback-"):
		r.Label = "rollback"
	}
	done := func(a audit.Action) int { return c.Counts.Of(a, audit.Success) + c.Counts.Of(a, audit.Warning) }
	r.Create, r.Update, r.Disable, r.Delete = done(audit.Create), done(audit.Update), done(audit.Disable), done(audit.Delete)
	for _, s := range statuses {
		r.Held += c.Counts.Of(audit.StagedDelete, s)
	}
	for _, a := range actions {
		if a != audit.StagedDelete {
			r.Skipped += c.Counts.Of(a, audit.Skipped)
		}
		r.Failed += c.Counts.Of(a, audit.Failure)
	}
	var codes []string
	for _, code := range errorCodes([]audit.CycleReport{c}) {
		codes = append(codes, fmt.Sprintf("%s × %s", code, thousands(c.Errors[code])))
	}
	r.Errors = strings.Join(codes, ", ")
	return r
}

// cycleNumber is the number of a job cycle's ID ("12-<run>"); false for
// on-demand requests and rollbacks.
func cycleNumber(id string) (int, bool) {
	num, _, ok := strings.Cut(id, "-")
	n, err := strconv.Atoi(num)
	return n, ok && err == nil && n > 0
}

// durationUnit picks the unit a chart of durations up to top seconds
// reads best in, and its length in seconds.
func durationUnit(top float64) (string, float64) {
	switch {
	case top >= 2*3600:
		return "h", 3600
	case top >= 120:
		return "min", 60
	case top >= 1:
		return "s", 1
	}
	return "ms", 0.001
}

func formatValue(v float64, unit string) string {
	if unit == "" {
		return thousands(int(math.Round(v)))
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + unit
}

// zone names the local time zone the page's times are in: its offset,
// after its name when it has one.
func zone(t time.Time) string {
	name, _ := t.Local().Zone()
	offset := t.Local().Format("UTC-07:00")
	if name == "UTC" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		return offset
	}
	return name + ", " + offset
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string { return numbers.Sprintf("%d", n) }

var numbers = message.NewPrinter(language.English)
