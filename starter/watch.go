package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"go.temporal.io/sdk/client"
	"golang.org/x/term"

	"github.com/openprovisioning/provisioner/api"
)

// view shows the successive statuses of a watched job.
type view interface {
	show(st api.Status)
	problem(err error)
	close()
}

// newView picks a live progress bar for a terminal and plain lines for
// anything else (a log file, a pipe), where a redrawn bar would be noise.
func newView(w io.Writer, asJSON bool) view {
	if asJSON {
		return &jsonView{w: w}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barView{w: w}
	}
	return &lineView{w: w}
}

// watchStatus shows the job's status every second until ctx ends. A job
// that cannot be queried at first is an error; later failures (a worker
// restarting) are shown and the watch goes on.
func watchStatus(ctx context.Context, c client.Client, name string, v view) error {
	st, err := queryStatus(ctx, c, name)
	if err != nil {
		return err
	}
	defer v.close()
	v.show(st)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		st, err := queryStatus(ctx, c, name)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			v.problem(err)
		default:
			v.show(st)
		}
	}
}

// summary is the status in one line.
func summary(st api.Status) string {
	parts := []string{fmt.Sprintf("job %s %s", st.Job, st.State)}
	if c := st.Current; c != nil {
		parts = append(parts, cycleLine(*c))
	} else if st.State != api.Paused && !st.NextRun.IsZero() {
		parts = append(parts, fmt.Sprintf("next %s cycle at %s", strings.ToLower(string(st.NextKind)), st.NextRun.Local().Format(time.TimeOnly)))
	}
	if l := st.LastCycle; l != nil {
		parts = append(parts, fmt.Sprintf("last: %s cycle %d, %d read, %d changed, %s", l.Kind, l.Number, l.Read, l.Staged, formatCounts(l.Counts)))
	}
	if q := st.Quarantine; q != nil {
		parts = append(parts, "quarantined: "+q.Reason)
	}
	if st.LastError != "" {
		parts = append(parts, "last error: "+st.LastError)
	}
	return strings.Join(parts, "; ")
}

// cycleLine says how far a cycle is; without the cycle's own progress
// (it could not be asked), only that it runs.
func cycleLine(c api.CycleProgress) string {
	if c.Phase == api.PhaseRunning {
		return fmt.Sprintf("%s cycle %d: running", c.Kind, c.Number)
	}
	return fmt.Sprintf("%s cycle %d: %s, %d of %d objects", c.Kind, c.Number, c.Phase, c.Processed, c.Total)
}

// lineView prints a timestamped line whenever the status changes.
type lineView struct {
	w    io.Writer
	last string
}

func (v *lineView) show(st api.Status) { v.print(summary(st)) }
func (v *lineView) problem(err error)  { v.print("error: " + err.Error()) }
func (v *lineView) close()             {}

func (v *lineView) print(line string) {
	if line == v.last {
		return
	}
	v.last = line
	fmt.Fprintf(v.w, "%s %s\n", time.Now().Format(time.RFC3339), line)
}

// jsonView prints the status as one JSON object per line when it changes.
type jsonView struct {
	w    io.Writer
	last []byte
}

func (v *jsonView) show(st api.Status) {
	b, err := json.Marshal(st)
	if err != nil || bytes.Equal(b, v.last) {
		return
	}
	v.last = b
	fmt.Fprintf(v.w, "%s\n", b)
}

func (v *jsonView) problem(err error) {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	fmt.Fprintf(v.w, "%s\n", b)
}

func (v *jsonView) close() {}

// barView draws a progress bar while a cycle runs and a line for each
// status change between cycles, so finished cycles stay on screen.
type barView struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	cycle int
	last  string
}

func (v *barView) show(st api.Status) {
	if c := st.Current; c != nil {
		v.progress(*c)
		return
	}
	// A cycle that stopped on request keeps its bar as it was; one that
	// finished fills it.
	v.endBar(st.LastCycle != nil && st.LastCycle.Number == v.cycle)
	v.line(summary(st))
}

func (v *barView) progress(c api.CycleProgress) {
	if v.bar != nil && v.cycle != c.Number {
		v.endBar(true)
	}
	desc := fmt.Sprintf("%s cycle %d: %s", c.Kind, c.Number, c.Phase)
	// Until the fetch has counted the changes, the total is unknown: a spinner.
	total := int64(c.Total)
	if total == 0 {
		total = -1
	}
	if v.bar == nil {
		v.cycle = c.Number
		v.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("objects"),
			progressbar.OptionUseANSICodes(true),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	if v.bar.GetMax64() != total {
		v.bar.ChangeMax64(total)
	}
	v.bar.Describe(desc)
	_ = v.bar.Set64(int64(c.Processed))
}

func (v *barView) endBar(finished bool) {
	if v.bar == nil {
		return
	}
	if finished {
		_ = v.bar.Finish()
	} else {
		_ = v.bar.Exit()
	}
	fmt.Fprintln(v.w)
	v.bar = nil
}

func (v *barView) problem(err error) {
	if v.bar != nil {
		v.bar.Describe("error: " + err.Error())
		return
	}
	v.line("error: " + err.Error())
}

func (v *barView) line(s string) {
	if s == v.last {
		return
	}
	v.last = s
	fmt.Fprintf(v.w, "%s %s\n", time.Now().Format(time.TimeOnly), s)
}

func (v *barView) close() { v.endBar(false) }
