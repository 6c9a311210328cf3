package htmlreport_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/htmlreport"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// journal makes the entries of n cycles of a job: an initial cycle that
// creates users (a few fail), then incremental cycles that update,
// disable and fail some.
func journal(n, users int) []audit.Entry {
	var out []audit.Entry
	at := t0
	for c := 1; c <= n; c++ {
		id := fmt.Sprintf("%d-run%d", c, c)
		add := func(e audit.Entry) {
			e.CycleID, e.ObjectType, e.Time, e.DurationMs = id, "User", at, 40
			at = at.Add(50 * time.Millisecond)
			out = append(out, e)
		}
		if c == 1 {
			for i := range users {
				e := audit.Entry{SourceID: fmt.Sprintf("E%03d", i), DisplayName: fmt.Sprintf("user%03d", i), TargetID: fmt.Sprintf("t%d", i), Action: audit.Create, Status: audit.Success}
				if i%10 == 9 {
					e.Status, e.TargetID, e.ErrorCode, e.Reason = audit.Failure, "", "Conflict", "userName is taken"
				}
				add(e)
			}
		} else {
			add(audit.Entry{SourceID: fmt.Sprintf("E%03d", c%users), TargetID: "t", Action: audit.Update, Status: audit.Success})
			add(audit.Entry{SourceID: fmt.Sprintf("E%03d", (c+1)%users), TargetID: "t", Action: audit.Disable, Status: audit.Success})
			if c%3 == 0 {
				add(audit.Entry{SourceID: fmt.Sprintf("E%03d", c%7+9), Action: audit.Create, Status: audit.Failure, ErrorCode: "Timeout", Reason: "the target did not answer in 30s"})
			}
		}
		at = at.Add(40 * time.Minute)
	}
	return out
}

func page(t *testing.T, p htmlreport.Page) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, htmlreport.Write(&b, p))
	if dir := os.Getenv("HTMLREPORT_DUMP"); dir != "" {
		require.NoError(t, os.WriteFile(dir+"/"+strings.ReplaceAll(t.Name(), "/", "_")+".html", b.Bytes(), 0o644))
	}
	return b.String()
}

// report sums the entries as the starter does, with each cycle's run as
// the job records it: read the whole source, from half a second before
// its first entry to a second after its last.
func report(entries []audit.Entry) ([]audit.CycleReport, []audit.ErrorSummary) {
	r := audit.NewReporter()
	var runs []audit.CycleRun
	for _, e := range entries {
		r.Add(e)
		var n int
		if _, err := fmt.Sscanf(e.CycleID, "%d-", &n); err != nil {
			continue // on demand: no cycle run
		}
		if len(runs) == 0 || runs[len(runs)-1].ID != e.CycleID {
			kind := map[bool]string{true: "Initial", false: "Incremental"}[n == 1]
			runs = append(runs, audit.CycleRun{ID: e.CycleID, Number: n, Kind: kind, Started: e.Time.Add(-500 * time.Millisecond), Read: 40})
		}
		runs[len(runs)-1].Finished = e.Time.Add(time.Second)
	}
	r.AddCycles(runs)
	return r.Cycles(), r.TopErrors(10)
}

// svg returns the chart of a kind on the page, or "".
func svg(out, kind string) string {
	return regexp.MustCompile(`(?s)<svg class="chart" data-chart="` + kind + `".*?</svg>`).FindString(out)
}

func TestPageCapsChartsAndTable(t *testing.T) {
	cycles, errs := report(journal(70, 40))
	out := page(t, htmlreport.Page{Job: "hr-to-app", Application: "app", State: "Running", Generated: t0.Add(72 * time.Hour), Cycles: cycles, Errors: errs})
	require.Equal(t, 5, strings.Count(out, `<svg class="chart"`))
	require.Equal(t, htmlreport.MaxChartCycles, strings.Count(svg(out, "durations"), `<rect class="bar"`))
	require.Equal(t, htmlreport.MaxChartCycles, strings.Count(svg(out, "in-scope"), `<circle class="point"`))
	require.Contains(t, svg(out, "durations"), ">cycle 70 — duration: ", "the newest cycle is charted")
	require.NotContains(t, svg(out, "durations"), ">cycle 10 — ", "the oldest are not")
	require.Contains(t, out, "the latest 60 of 70 finished cycles")
	// Cycle 1 created 36 of 40 users; each later cycle updates one user,
	// which brings it in scope, and disables the next: by cycle 70 every
	// user was updated once, and the last one disabled is out.
	require.Contains(t, svg(out, "in-scope"), "<title>cycle 70 — User: 39</title>")

	rows := regexp.MustCompile(`(?s)<table id="cycles">.*?</table>`).FindString(out)
	require.Equal(t, htmlreport.TableCycles, strings.Count(rows, "<tr><td>cycle "))
	require.Less(t, strings.Index(rows, "cycle 70"), strings.Index(rows, "cycle 61"), "newest first")
	require.Regexp(t, `<td>cycle 69</td>(<td[^>]*>[^<]*</td>){11}<td class="n fail">1</td><td class="wrap">Timeout × 1</td>`, rows)

	errTable := regexp.MustCompile(`(?s)<table id="errors">.*?</table>`).FindString(out)
	require.Regexp(t, `(?s)<td>Timeout</td><td class="n">23</td><td class="n">23</td>.*the target did not answer in 30s <span class="tag">× 23</span>`, errTable)
	require.Less(t, strings.Index(errTable, "Timeout"), strings.Index(errTable, "Conflict"), "most failures first")
}

func TestPageOneCycle(t *testing.T) {
	cycles, errs := report(journal(1, 12))
	out := page(t, htmlreport.Page{Job: "hr-to-app", Generated: t0, Cycles: cycles, Errors: errs})
	for kind, bars := range map[string]int{"durations": 1, "actions": 1, "statuses": 2, "errors": 1} {
		require.Equal(t, bars, strings.Count(svg(out, kind), `<rect class="bar"`), kind)
	}
	require.Equal(t, 1, strings.Count(svg(out, "in-scope"), `<circle class="point"`))
	require.Contains(t, svg(out, "statuses"), "<title>cycle 1 — Failure: 1</title>")
	require.Contains(t, out, "every finished cycle")
	require.NotContains(t, out, "State ", "no state when the job did not answer")
}

func TestPageWithoutFailures(t *testing.T) {
	cycles, errs := report(journal(2, 5))
	require.Empty(t, errs)
	out := page(t, htmlreport.Page{Job: "j", Generated: t0, Cycles: cycles})
	require.Equal(t, 4, strings.Count(out, `<svg class="chart"`))
	require.Empty(t, svg(out, "errors"))
	require.Contains(t, out, `id="no-failures"`)
	require.NotContains(t, out, `<table id="errors">`)
}

func TestPageWithoutFinishedCycle(t *testing.T) {
	out := page(t, htmlreport.Page{Job: "new-job", Generated: t0})
	require.NotContains(t, out, "<svg class=\"chart\"")
	require.Contains(t, out, "No finished cycle yet")
	require.Contains(t, out, "has not run a cycle yet")
	require.NotContains(t, out, `<table id="cycles">`)

	cycles, errs := report(journal(1, 12))
	out = page(t, htmlreport.Page{Job: "new-job", Generated: t0, Cycles: cycles, Errors: errs, Running: 1})
	require.NotContains(t, out, "<svg class=\"chart\"", "a running cycle's counts are partial")
	require.Contains(t, out, "Cycle 1 is running")
	require.Contains(t, out, `<td>cycle 1 <span class="tag">running</span></td>`)

	// A job started afresh under its name numbers its cycles from 1
	// again: only the latest cycle 1 is the running one.
	again := append(slices.Clone(cycles), audit.CycleReport{CycleID: "1-again", Started: t0.Add(time.Hour), Finished: t0.Add(time.Hour), Counts: audit.Counts{"Create/Success": 1}})
	out = page(t, htmlreport.Page{Job: "new-job", Generated: t0, Cycles: again, Running: 1})
	require.Equal(t, 1, strings.Count(svg(out, "durations"), `<rect class="bar"`), "the earlier cycle 1 is charted")
	require.Equal(t, 1, strings.Count(out, `<span class="tag">running</span>`))

	cycles[0].Paused = true
	out = page(t, htmlreport.Page{Job: "new-job", Generated: t0, Cycles: cycles, Errors: errs})
	require.Contains(t, out, `<td>cycle 1 <span class="tag">paused</span></td>`)
}

// Names, reasons, codes and object types come from directories and
// targets: none of them may become markup.
func TestPageEscapesEverything(t *testing.T) {
	const attack = `<script>alert("x")</script>"'><img src=x onerror=alert(1)>`
	entries := []audit.Entry{
		{CycleID: "1-a", ObjectType: attack, SourceID: attack, DisplayName: attack, TargetID: "t", Action: audit.Create, Status: audit.Success, Time: t0},
		{CycleID: "1-a", ObjectType: attack, SourceID: "b", DisplayName: attack, Action: audit.Create, Status: audit.Failure, ErrorCode: attack, Reason: attack, Time: t0.Add(time.Second)},
		{CycleID: "on-demand-" + attack, ObjectType: "User", SourceID: "c", Action: audit.Update, Status: audit.Failure, ErrorCode: "Conflict", Reason: attack, Time: t0.Add(time.Minute)},
	}
	cycles, errs := report(entries)
	out := page(t, htmlreport.Page{Job: attack, Application: attack, State: attack, Generated: t0, Cycles: cycles, Errors: errs})
	require.NotContains(t, out, "<script")
	require.NotContains(t, out, "<img")
	require.NotContains(t, out, `"'>`)
	require.Contains(t, out, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	for _, kind := range []string{"in-scope", "errors"} {
		require.Contains(t, svg(out, kind), "&lt;script&gt;", kind)
	}
	require.Contains(t, regexp.MustCompile(`(?s)<table id="errors">.*?</table>`).FindString(out), "&lt;img src=x onerror=alert(1)&gt;")
}
