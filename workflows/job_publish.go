package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
)

// publish shows the job's state in the Web UI: a search attribute (only
// when it changed, to keep history small) and the current details.
func (j *jobImpl) publish(ctx workflow.Context) {
	if !j.validated() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** — %s\n\nValidating the configuration before the first cycle\n", api.Validating, j.cfg.Name))
		return
	}
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
		b.WriteString(fmt.Sprintf("Last error: %s\n", j.st.LastError))
	}
	workflow.SetCurrentDetails(ctx, b.String())
	j.observe(ctx)
}
