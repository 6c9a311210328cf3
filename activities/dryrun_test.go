package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv/scimdir"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
)

// A group provisioned on demand by a job that runs dry is planned with its
// members, and the job's state keeps nothing of it: not the group's
// members, nor its state, nor work for the cycles.
func TestDryRunOnDemandKeepsNothing(t *testing.T) {
	w := newOnDemandWorld(t)
	w.job.Options.DryRun = true
	res := w.provision(t, connectors.Group, "G1")
	require.Equal(t, audit.Create, res.Object().Action)
	require.True(t, res.Object().DryRun)
	require.Len(t, res.Members(), 3, "its members, read by the group the request recorded")
	require.Empty(t, w.app.Groups())
	require.Empty(t, w.app.Users())

	ctx := context.Background()
	hashes, err := w.st.SourceGroupHashes(ctx, w.job.Name, []string{"G1"})
	require.NoError(t, err)
	require.Empty(t, hashes, "the group's members are not recorded")
	members, err := w.st.SourceMembers(ctx, w.job.Name, "G1")
	require.NoError(t, err)
	require.Empty(t, members)
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		states, err := w.st.Objects(ctx, w.job.Name, typ, []string{"E1", "E2", "E3", "G1"})
		require.NoError(t, err)
		require.Empty(t, states, typ)
		pending, err := w.st.Pending(ctx, w.job.Name, store.MembershipWork, typ, "", 10)
		require.NoError(t, err)
		require.Empty(t, pending, typ)
	}
}

// An incremental dry run of a job that syncs only the members of a group
// read by delta finds the users whose group is gone, as the real cycle
// does, though its state cannot list the groups only the job's state has.
func TestDryRunSeesAnAssignedGroupGone(t *testing.T) {
	r := newRig(t, "TEST_DRY_ASSIGNED_TOKEN", unwrapped)
	// The directory's clock stands an hour back, so that the delta reads'
	// watermark is its last change: unchanged users are not read again
	// unless a change of assignment asks for it.
	dir := scimdir.Start(t, "TEST_DRY_ASSIGNED_SOURCE", time.Now().Add(-time.Hour).Truncate(time.Second))
	src, admin := dir.Config, dir.Admin
	ctx := context.Background()
	ids := dir.Create(t, []string{"ada", "bob"}, scimdir.Group{Name: "Engineering", Members: []string{"ada", "bob"}})
	dir.Advance(2 * time.Second)
	require.NoError(t, admin.Update(ctx, connectors.User, ids["bob"], []connectors.Change{{Attribute: "title", New: "Lead"}}))

	job := config.Job{
		Name:   "dry-assigned",
		Source: config.Source{Connector: src},
		Target: config.Target{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_DRY_ASSIGNED_TOKEN"}}},
		Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
			{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
		}}}},
		Options: config.Options{AssignedGroups: []string{"Engineering"}},
	}
	fetch := func(job config.Job, cycle string, initial bool) activities.FetchResult {
		t.Helper()
		v, err := r.env.ExecuteActivity(r.acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: cycle}, Initial: initial})
		require.NoError(t, err)
		var res activities.FetchResult
		require.NoError(t, v.Get(&res))
		return res
	}
	first := fetch(job, "1", true)
	_, err := r.env.ExecuteActivity(r.acts.ProvisionBatch, activities.BatchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "1"}, From: 1, To: first.Staged, Initial: true})
	require.NoError(t, err)
	_, err = r.env.ExecuteActivity(r.acts.FinishCycle, activities.FinishInput{Job: job.Name, Cycle: store.Cycle{Job: job.Name, ID: "1"}, Watermarks: first.Watermarks})
	require.NoError(t, err)
	require.Len(t, r.app.Users(), 2)

	dir.Advance(2 * time.Second)
	require.NoError(t, admin.Delete(ctx, connectors.Group, ids["Engineering"]))
	dry := job
	dry.Options.DryRun = true
	planned := fetch(dry, "dry-2", false)
	require.Equal(t, 2, planned.Leaving, "both members of the deleted group are read again, and leave")
	real := fetch(job, "2", false)
	require.Equal(t, real.Leaving, planned.Leaving, "as the real cycle finds")
}
