package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/store"
)

// applyRestart clears state by reset scope and schedules an initial cycle.
func (j *jobImpl) applyRestart(ctx workflow.Context) error {
	r := j.restart
	scope, clearQuarantine, force, err := parseScopes(r.Scopes)
	if err != nil {
		j.st.LastError = err.Error()
		j.restart = nil
		return nil
	}
	// Approving held deletions resumes the held cycle; any other restart
	// discards a stopped cycle and starts afresh.
	approve := force && j.st.HeldDeletes > 0 && j.st.PausedCycle != nil
	var abandon *store.Cycle
	if j.st.PausedCycle != nil && !approve {
		abandon = &j.st.PausedCycle.Cycle
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute},
		Summary:             "reset " + strings.Join(r.Scopes, ","),
	})
	if err := workflow.ExecuteActivity(actx, a.ResetJob, activities.ResetInput{Job: j.cfg.Name, Scope: scope, Abandon: abandon}).Get(ctx, nil); err != nil {
		return err
	}
	if approve {
		j.st.PausedCycle.ForceDeletes = true
	} else {
		j.st.PausedCycle = nil
		j.st.NextKind = api.Initial
	}
	j.st.HeldDeletes = 0
	j.st.NextRun, j.st.LastError = workflow.Now(ctx), ""
	if !approve {
		j.st.NextRun = j.firstOnSchedule(ctx, j.st.NextRun)
	}
	if clearQuarantine || j.st.State == api.Paused || j.st.State == api.Disabled {
		j.st.State, j.st.Quarantine = api.Running, nil
	}
	j.restart = nil
	return nil
}

// parseScopes reads Azure's resetScope flags: what to clear, whether to lift
// quarantine, and whether held deletions are approved.
func parseScopes(scopes []string) (s store.ResetScope, quarantine, force bool, err error) {
	if len(scopes) == 0 {
		return store.ResetScope{Watermark: true, Escrows: true}, true, false, nil
	}
	for _, name := range scopes {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case strings.ToLower(api.ScopeWatermark):
			s.Watermark = true
		case strings.ToLower(api.ScopeEscrows):
			s.Escrows = true
		case strings.ToLower(api.ScopeQuarantineState):
			quarantine = true
		case strings.ToLower(api.ScopeConnectorDataStore):
			s.ConnectorDataStore = true
		case strings.ToLower(api.ScopeFull):
			s = store.ResetScope{Watermark: true, Escrows: true, ConnectorDataStore: true}
			quarantine = true
		case strings.ToLower(api.ScopeForceDeletes):
			force = true
		default:
			return s, false, false, fmt.Errorf("restart: unknown reset scope %q (use Watermark, Escrows, QuarantineState, ConnectorDataStore, Full or ForceDeletes)", name)
		}
	}
	return s, quarantine, force, nil
}
