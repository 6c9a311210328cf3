package activities_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
)

// A rollback's log entries record how long each restore took, as a
// cycle's entries do, against a target that takes its time to answer.
func TestRollBackRecordsDuration(t *testing.T) {
	w := newOnDemandWorld(t)
	ada := w.provision(t, connectors.User, "E1").Object()
	cy := w.provision(t, connectors.User, "E3").Object()

	const delay = 60 * time.Millisecond
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			time.Sleep(delay)
		}
		w.app.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(slow.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = slow.URL + "/scim/v2"

	plan := audit.RollbackPlan{Restores: []audit.Restore{
		{ObjectType: "User", SourceID: "E1", TargetID: ada.TargetID, Action: audit.Update,
			Properties: []audit.Property{{Name: "displayName", Old: "", New: "Ada Before"}}},
		{ObjectType: "User", SourceID: "E3", TargetID: cy.TargetID, Action: audit.Disable},
	}}
	v, err := w.env.ExecuteActivity(w.acts.RollBack, activities.RollbackInput{Job: w.job, Plan: plan, RequestID: "slow"})
	require.NoError(t, err)
	var res api.RollbackResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Entries, 2)
	for _, e := range res.Entries {
		require.Equal(t, audit.Success, e.Status, e.Reason)
		require.GreaterOrEqual(t, e.DurationMs, delay.Milliseconds(), "entry of %s records the time its PATCH took", e.SourceID)
	}
}
