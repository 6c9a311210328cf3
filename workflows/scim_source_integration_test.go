package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping"
)

// The cloud-only architecture: a directory that speaks SCIM provisioned into
// a SCIM application, with changes found by meta.lastModified, and deletions
// by listing the source's IDs.
func TestSCIMSourceToSCIM(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	srcCfg, admin := scimDirectory(t, "TEST_SCIM_SOURCE_TOKEN")
	ctx := context.Background()
	var err error
	ids := map[string]string{}
	for i := 1; i <= 8; i++ {
		name := fmt.Sprintf("person%d@example.com", i)
		ids[name], err = admin.Create(ctx, connectors.User, connectors.Attributes{"userName": name, "name.givenName": "Person", "title": "Analyst"})
		require.NoError(t, err)
	}

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "scim-to-scim")
	w.job.Source = config.Source{Connector: srcCfg}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "id", MatchingPriority: 2},
		{Target: "name.givenName", Type: mapping.Direct, Source: "name.givenName"},
		{Target: "title", Type: mapping.Direct, Source: "title"},
	}
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Len(t, w.users(t), 8)

	// Meta.lastModified has one-second resolution: change after a second.
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, admin.Update(ctx, connectors.User, ids["person1@example.com"], []connectors.Change{{Attribute: "title", Old: "Analyst", New: "Lead"}}))
	require.NoError(t, admin.SetActive(ctx, connectors.User, ids["person2@example.com"], false))
	require.NoError(t, admin.Delete(ctx, connectors.User, ids["person3@example.com"]))
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	waitCycle(t, c, w.job.Name, 2, time.Minute)

	users := w.users(t)
	require.Equal(t, "Lead", users["person1@example.com"].Attributes["title"])
	require.False(t, active(users["person2@example.com"]))
	require.NotContains(t, users, "person3@example.com")
	stats := w.app.Stats()
	require.Zero(t, stats.Requests["POST /Users"])
	require.Equal(t, 1, stats.Requests["DELETE /Users"])
}
