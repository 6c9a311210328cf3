package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
)

// quarantine puts the job in quarantine for reason: it tries again once a
// day, and is disabled once it has been quarantined for the configured
// limit (options.disableAfterQuarantine).
func (j *jobImpl) quarantine(ctx workflow.Context, now time.Time, reason string) {
	j.st.State = api.Quarantined
	if j.st.Quarantine == nil {
		j.st.Quarantine = &api.Quarantine{Since: now}
	}
	j.st.Quarantine.Reason = reason
	j.st.Quarantine.NextAttempt = j.firstOnSchedule(ctx, now.Add(quarantineInterval))
	j.st.NextRun = j.st.Quarantine.NextAttempt
	if limit := time.Duration(j.resolved.Options.DisableAfterQuarantine); now.Sub(j.st.Quarantine.Since) >= limit {
		j.st.State = api.Disabled
		j.st.LastError = fmt.Sprintf("disabled after %s in quarantine: %s", limit, reason)
	}
}
