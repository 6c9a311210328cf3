package workflows_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/scimdir"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/workflows"
)

// A preview between two cycles changes nothing the job keeps: the job's
// state is as before it, and the next real cycle does what a twin job
// that had no preview does. Each scenario runs a job and its twin against
// the same source, each with its own target.
func TestPreviewLeavesTheJobAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	st := startWorker(t, c)

	// Groups from a directory read by delta, in a job that syncs only
	// assigned users: the preview records the changed groups in its own
	// state, decides assignment from them, and the real cycle still finds
	// them changed and reads the reassigned users again.
	t.Run("groups", func(t *testing.T) {
		// The directory's clock stands an hour back, so that the delta
		// reads' watermark is its last change, not the read's start less
		// the allowance for clock skew: a record older than the watermark is
		// read again only when a change of assignment asks for it.
		dir := scimdir.Start(t, "TEST_PREVIEW_SOURCE_TOKEN", time.Now().Add(-time.Hour).Truncate(time.Second))
		srcCfg, admin := dir.Config, dir.Admin
		ctx := context.Background()
		ids := dir.Create(t, []string{"ada", "bob", "cy", "dee"},
			scimdir.Group{Name: "Team", Members: []string{"bob"}}, scimdir.Group{Name: "Sales", Members: []string{"cy"}},
			scimdir.Group{Name: "Engineering", Members: []string{"ada", "Team"}})
		// Reads take what changed at or after the watermark's second: a
		// later change to cy moves the users' watermark past dee's record.
		dir.Advance(2 * time.Second)
		require.NoError(t, admin.Update(ctx, connectors.User, ids["cy"], []connectors.Change{{Attribute: "title", New: "Seller"}}))

		jobs := map[string]*groupWorld{}
		for _, name := range []string{"preview-groups", "preview-groups-twin"} {
			target, _ := sampleTarget(t, name)
			w := newGroupWorld(t, name, target, true)
			w.job.Source = config.Source{Connector: srcCfg}
			w.job.Objects[0].Attributes = []mapping.AttributeMapping{{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1}}
			w.job.Objects[1].Attributes = []mapping.AttributeMapping{{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1}}
			w.job.Options.AssignedGroups = []string{"Engineering"}
			jobs[name] = w
			startJob(t, c, w.job)
		}
		groupIDs := slices.Sorted(maps.Values(ids))
		for name, w := range jobs {
			waitCycle(t, c, name, 1, 2*time.Minute)
			require.Equal(t, map[string][]string{"Engineering": {"ada@example.com", "bob@example.com"}}, w.target.state(t).Groups, name)
		}

		dir.Advance(2 * time.Second)
		require.NoError(t, admin.AddMembers(ctx, ids["Team"], []string{ids["dee"]}))
		require.NoError(t, admin.RemoveMembers(ctx, ids["Engineering"], []string{ids["ada"]}))

		w := jobs["preview-groups"]
		before := jobStateOf(t, st, w.job.Name, groupIDs)
		planned := preview(t, c, w.job)
		require.Equal(t, before, jobStateOf(t, st, w.job.Name, groupIDs), "the preview wrote to the job's state")
		require.Equal(t, audit.Create, planned[ids["dee"]].Action, "the preview assigns by the groups it read: dee joined through Team")
		require.Equal(t, audit.Disable, planned[ids["ada"]].Action, "and ada left Engineering")
		require.Empty(t, w.target.state(t).Users["dee@example.com"], "the preview pushed nothing")

		results := map[string]cycleOutcome{}
		for name, w := range jobs {
			signal(t, c, name, api.SignalSyncNow, nil)
			results[name] = outcomeOf(t, c, name, 2, w.target.state)
		}
		want := targetState{
			Users:  map[string]string{"ada@example.com": "disabled", "bob@example.com": "active", "dee@example.com": "active"},
			Groups: map[string][]string{"Engineering": {"bob@example.com", "dee@example.com"}},
		}
		got := results["preview-groups"]
		require.Equal(t, want.Users, got.Target.Users)
		require.Equal(t, want.Groups, got.Target.Groups)
		require.Equal(t, results["preview-groups-twin"], got, "the cycle after the preview does what its twin's does")
	})

	// A job that provisions users alone, those assigned through groups
	// in the export, with an escrowed user: the preview's group mirror,
	// planned states, escrow retries and watermarks stay its own.
	t.Run("users", func(t *testing.T) {
		worlds := map[string]*groupWorld{}
		for _, name := range []string{"preview-users", "preview-users-twin"} {
			target, _ := sampleTarget(t, name)
			w := newGroupWorld(t, name, target, false)
			w.job.Objects = w.job.Objects[:1]
			w.job.Options.AssignedGroups = []string{"Engineering"}
			w.emps = []employee{
				{ID: "E1", UserName: "ada@example.com"},
				{ID: "E2", UserName: "bob@example.com", Manager: "E1"},
				{ID: "E3", UserName: "cy@example.com"},
				{ID: "E4", UserName: "dee@example.com"},
				// No userName: the application refuses it, and it waits in escrow.
				{ID: "E5"},
			}
			w.grps = []sourceGroup{
				{ID: "G1", Name: "Engineering", Members: []string{"E1", "E2", "E5"}},
				{ID: "G2", Name: "Sales", Members: []string{"E3", "E4"}},
			}
			w.write(t)
			worlds[name] = w
			startJob(t, c, w.job)
		}
		for name := range worlds {
			waitCycle(t, c, name, 1, 2*time.Minute)
		}
		w := worlds["preview-users"]
		escrow := jobStateOf(t, st, w.job.Name, nil).Objects["User/E5"].Escrow
		require.NotNil(t, escrow, "E5 fails into escrow")

		for _, w := range worlds {
			w.group("G1").Members = []string{"E1", "E3", "E5", "E6"}
			w.emps = append(w.emps, employee{ID: "E6", UserName: "fay@example.com", Manager: "E3"})
			w.write(t)
		}
		groups := []string{"G1", "G2"}
		before := jobStateOf(t, st, w.job.Name, groups)
		planned := preview(t, c, w.job)
		require.Equal(t, before, jobStateOf(t, st, w.job.Name, groups), "the preview wrote to the job's state")
		require.Equal(t, audit.Disable, planned["E2"].Action, "bob left Engineering")
		require.Equal(t, audit.Create, planned["E3"].Action, "cy joined it")
		require.Equal(t, audit.Create, planned["E6"].Action)
		require.Equal(t, audit.Create, planned["E5"].Action, "the escrowed user is tried again (a dry run cannot tell it will fail)")

		results := map[string]cycleOutcome{}
		states := map[string]jobState{}
		for name, w := range worlds {
			signal(t, c, name, api.SignalSyncNow, nil)
			results[name] = outcomeOf(t, c, name, 2, w.target.state)
			states[name] = jobStateOf(t, st, name, groups)
		}
		got := results["preview-users"]
		require.Equal(t, map[string]string{
			"ada@example.com": "active", "bob@example.com": "disabled manager=ada@example.com", "cy@example.com": "active", "fay@example.com": "active manager=cy@example.com",
		}, got.Target.Users)
		require.Equal(t, results["preview-users-twin"], got, "the cycle after the preview does what its twin's does")
		mine, twin := states["preview-users"], states["preview-users-twin"]
		require.Equal(t, twin.Watermarks, mine.Watermarks)
		require.Equal(t, twin.Groups, mine.Groups)
		require.Equal(t, twin.escrows(), mine.escrows())
		e := mine.Objects["User/E5"].Escrow
		require.Equal(t, escrow.Attempts, e.Attempts, "the preview's retry is not counted")
		require.True(t, escrow.RetryAfter.Equal(e.RetryAfter), "nor does it move the next retry")
	})
}

// preview runs a dry-run initial cycle of the job as starter preview does
// and returns its log entries by source ID.
func preview(t *testing.T, c client.Client, job config.Job) map[string]audit.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	job.Options.DryRun = true
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	id := "provisioning-preview:" + job.Name + ":" + stamp
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.TaskQueue}, workflows.ProvisioningCycle, workflows.CycleInput{
		Job: job, Cycle: store.Cycle{Job: job.Name, ID: "preview-" + stamp}, Kind: api.Initial,
	})
	require.NoError(t, err)
	var res workflows.CycleResult
	require.NoError(t, run.Get(ctx, &res))
	require.Zero(t, res.HeldDeletes, "the deletion guard held the preview")
	out := map[string]audit.Entry{}
	require.NoError(t, history.ReadRun(ctx, c, id, run.GetRunID(), func(e audit.Entry) error {
		require.True(t, e.DryRun)
		if e.Action != audit.Update || len(e.Modified) != 1 || e.Modified[0].Name != "members" {
			out[e.SourceID] = e
		}
		return nil
	}))
	return out
}

// cycleOutcome is what a cycle did: its counts, and the target after it.
type cycleOutcome struct {
	Counts audit.Counts
	Target targetState
}

func outcomeOf(t *testing.T, c client.Client, job string, n int, target func(*testing.T) targetState) cycleOutcome {
	t.Helper()
	st := waitCycle(t, c, job, n, 2*time.Minute)
	out := cycleOutcome{Counts: st.LastCycle.Counts, Target: target(t)}
	out.Target.IDs = nil // each target numbers its own objects
	return out
}

// jobState is what the state store holds of a job: its object states by
// type and source ID, watermarks, pending work and the mirror of the given
// source groups.
type jobState struct {
	Objects    map[string]store.ObjectState
	Watermarks map[connectors.ObjectType]string
	Pending    map[store.Work][]string
	Groups     map[string]string
	Linked     int
}

func jobStateOf(t *testing.T, st store.Store, job string, groups []string) jobState {
	t.Helper()
	ctx := context.Background()
	s := jobState{Objects: map[string]store.ObjectState{}, Watermarks: map[connectors.ObjectType]string{}, Pending: map[store.Work][]string{}, Groups: map[string]string{}}
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		// Nothing is marked seen in this cycle: every known object is unseen.
		require.NoError(t, st.Unseen(ctx, store.Cycle{Job: job, ID: "test: every object"}, typ, func(o store.ObjectState) error {
			s.Objects[string(typ)+"/"+o.SourceID] = o
			return nil
		}))
		w, err := st.Watermark(ctx, job, typ)
		require.NoError(t, err)
		s.Watermarks[typ] = w
		n, err := st.CountLinked(ctx, job, typ)
		require.NoError(t, err)
		s.Linked += n
		for _, work := range []store.Work{store.MembershipWork, store.ReferenceWork} {
			ids, err := st.Pending(ctx, job, work, typ, "", 100000)
			require.NoError(t, err)
			s.Pending[work] = append(s.Pending[work], ids...)
		}
	}
	hashes, err := st.SourceGroupHashes(ctx, job, groups)
	require.NoError(t, err)
	for _, g := range groups {
		members, err := st.SourceMembers(ctx, job, g)
		require.NoError(t, err)
		if h, ok := hashes[g]; ok || len(members) > 0 {
			s.Groups[g] = fmt.Sprintf("%s %v", h, members)
		}
	}
	return s
}

// escrows lists the escrowed objects with their attempts.
func (s jobState) escrows() map[string]int {
	out := map[string]int{}
	for k, o := range s.Objects {
		if o.Escrow != nil {
			out[k] = o.Escrow.Attempts
		}
	}
	return out
}
