package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/connectors"
)

func (w *onDemandWorld) connections(t *testing.T, in activities.ConnectionsInput) api.ConnectionsResult {
	t.Helper()
	in.Job, in.Type = w.job.Name, connectors.User
	v, err := w.env.ExecuteActivity(w.acts.ObjectConnections, in)
	require.NoError(t, err)
	var res api.ConnectionsResult
	require.NoError(t, v.Get(&res))
	return res
}

// Object connections are found by source or target ID, listed in pages,
// and deleted one by one.
func TestObjectConnections(t *testing.T) {
	w := newOnDemandWorld(t)
	ada := w.provision(t, connectors.User, "E1").Object()
	cy := w.provision(t, connectors.User, "E3").Object()

	for _, id := range []string{"E1", ada.TargetID} {
		res := w.connections(t, activities.ConnectionsInput{ID: id})
		require.Len(t, res.Connections, 1, "found by %s", id)
		c := res.Connections[0]
		require.Equal(t, "E1", c.SourceID)
		require.Equal(t, ada.TargetID, c.TargetID)
		require.True(t, c.Active)
	}
	require.Empty(t, w.connections(t, activities.ConnectionsInput{ID: "nobody"}).Connections)

	page := w.connections(t, activities.ConnectionsInput{Limit: 1})
	require.Len(t, page.Connections, 1)
	require.Equal(t, "E1", page.Connections[0].SourceID)
	require.Equal(t, "E1", page.Next)
	page = w.connections(t, activities.ConnectionsInput{After: page.Next, Limit: 1})
	require.Equal(t, cy.TargetID, page.Connections[0].TargetID)
	require.Empty(t, page.Next, "the last page")

	del := w.connections(t, activities.ConnectionsInput{ID: ada.TargetID, Delete: true})
	require.True(t, del.Deleted)
	require.Empty(t, w.connections(t, activities.ConnectionsInput{ID: "E1"}).Connections)
	require.Len(t, w.app.Users(), 2, "the account itself stays")
	again := w.provision(t, connectors.User, "E1").Object()
	require.Equal(t, ada.TargetID, again.TargetID, "matched again, not created twice")
}
