package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
)

// publish shows the job's state in the Web UI: a search attribute (only
// when it changed, to keep history small) and the current details.
func (j *jobImpl) publish(ctx workflow.Context) {
	if !j.validated() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s\n\nValidating the configuration before the first cycle\n", api.Validating, j.cfg.Name))
		return
	}
	j.countEscrows(ctx)
	if j.st.State != j.state {
		j.state = j.st.State
		_ = workflow.UpsertTypedSearchAttributes(ctx, api.AttrState.ValueSet(string(j.st.State)))
	}
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** — %s\n\n", j.st.State, j.cfg.Name))
	if c := j.st.Current; c != nil && c.Phase == api.PhaseRunning {
		b.WriteString(fmt.Sprintf("%s cycle %d running: its progress is in workflow %s\n\n", c.Kind, c.Number, c.Workflow))
	} else if c != nil {
		b.WriteString(fmt.Sprintf("%s cycle %d: %s, %d of %d objects\n\n", c.Kind, c.Number, c.Phase, c.Processed, c.Total))
	} else if j.st.State != api.Paused {
		b.WriteString(fmt.Sprintf("Next %s cycle at %s\n\n", strings.ToLower(string(j.st.NextKind)), j.st.NextRun.UTC().Format(time.RFC3339)))
	}
	if l := j.st.LastCycle; l != nil {
		b.WriteString(fmt.Sprintf("Last cycle %d (%s): %d read, %d changed\n\n", l.Number, l.Kind, l.Read, l.Staged))
	}
	if j.st.LastError != "" {
		b.WriteString(fmt.Sprintf("Last error: %s\n\n", j.st.LastError))
	}
	j.showEscrows(&b)
	workflow.SetCurrentDetails(ctx, b.String())
	j.observe(ctx)
}

// countEscrows counts the job's escrows once after each cycle, held and
// stopped ones included, for its status and current details, with the
// first removals a held cycle holds. The cycle is marked counted first,
// so that an update handler publishing meanwhile does not count again; a
// count that fails leaves the last one shown.
func (j *jobImpl) countEscrows(ctx workflow.Context) {
	if j.st.Current != nil || j.st.CycleNumber == 0 || j.st.CycleNumber == j.st.EscrowsCounted || j.cfg.Options.DryRun {
		return
	}
	if workflow.GetVersion(ctx, escrowsShownChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	j.st.EscrowsCounted = j.st.CycleNumber
	in := activities.SummaryInput{Job: j.cfg.Name}
	if p := j.st.PausedCycle; p != nil && j.st.HeldDeletes > 0 {
		in.Held = &activities.HeldInput{Job: p.Job, Cycle: p.Cycle, From: 1, To: p.State.Fetch.Staged, Reason: p.State.Fetch.Hold}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		Summary:             "count escrows",
	})
	var s activities.EscrowSummary
	if err := workflow.ExecuteActivity(actx, a.SummarizeEscrows, in).Get(ctx, &s); err != nil {
		j.log.Warn("escrows not counted", "error", err)
		return
	}
	j.st.Escrows = &s
}

// showEscrows writes the counts of escrows and held removals, with the
// first few of each, as markdown.
func (j *jobImpl) showEscrows(b *strings.Builder) {
	s := j.st.Escrows
	if s == nil {
		s = &activities.EscrowSummary{}
	}
	if s.Count > 0 {
		b.WriteString(fmt.Sprintf("**Escrows**: %d objects await retry — list them with `starter escrows %s`\n\n", s.Count, j.cfg.Name))
		for _, e := range s.First {
			b.WriteString(fmt.Sprintf("- %s %s: %s failed, %s: %s; attempt %d, next after %s\n", e.Type, named(e.SourceID, e.DisplayName), e.Action, e.Code, oneLine(e.Reason), e.Attempts, e.RetryAfter.UTC().Format(time.RFC3339)))
		}
		b.WriteString("\n")
	}
	if j.st.HeldDeletes > 0 {
		b.WriteString(fmt.Sprintf("**Held**: %d deletes and disables wait for approval — list them with `starter escrows %s --held`\n\n", j.st.HeldDeletes, j.cfg.Name))
		for _, h := range s.Held {
			b.WriteString(fmt.Sprintf("- %s %s: %s\n", h.Type, named(h.SourceID, h.DisplayName), oneLine(h.What)))
		}
	}
}

// named is a source ID with the object's name, when known.
func named(id, name string) string {
	if name == "" {
		return id
	}
	return id + " (" + name + ")"
}

// oneLine keeps a reason on its list item's line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
