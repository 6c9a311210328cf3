package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// A rollback sets properties back, disables accounts created since, fails
// alone for an object gone from the target, and records what it pushed.
func TestRollBack(t *testing.T) {
	w := newOnDemandWorld(t)
	ada := w.provision(t, connectors.User, "E1").Object()
	cy := w.provision(t, connectors.User, "E3").Object()
	plan := audit.RollbackPlan{Restores: []audit.Restore{
		{ObjectType: "User", SourceID: "E1", TargetID: ada.TargetID, Action: audit.Update,
			Properties: []audit.Property{{Name: "displayName", Old: "", New: "Ada Before"}}},
		{ObjectType: "User", SourceID: "E3", TargetID: cy.TargetID, Action: audit.Disable},
		{ObjectType: "User", SourceID: "E9", TargetID: "no-such-id", Action: audit.Update,
			Properties: []audit.Property{{Name: "displayName", Old: "x", New: "y"}}},
	}}
	v, err := w.env.ExecuteActivity(w.acts.RollBack, activities.RollbackInput{Job: w.job, Plan: plan, RequestID: "r1"})
	require.NoError(t, err)
	var res api.RollbackResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Entries, 3)
	require.Equal(t, audit.Success, res.Entries[0].Status)
	require.Equal(t, audit.Success, res.Entries[1].Status)
	require.Equal(t, audit.Failure, res.Entries[2].Status)
	require.Equal(t, "the target object no longer exists", res.Entries[2].Reason)

	users := map[string]map[string]any{}
	for _, u := range w.app.Users() {
		users[u.ID] = u.Attributes
	}
	require.Equal(t, "Ada Before", users[ada.TargetID]["displayName"])
	require.Equal(t, false, users[cy.TargetID]["active"])
	st, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E1", "E3"})
	require.NoError(t, err)
	require.Equal(t, "Ada Before", st["E1"].Pushed["displayName"], "the restored value is what the job last pushed")
	require.False(t, st["E3"].Active)
}
