package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

const managerAttr = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"

// phaseWorld is a state store and a sample application with a job that
// provisions users (with a manager reference) and groups.
type phaseWorld struct {
	st   *sqlite.Store
	app  *sampleapp.App
	acts *activities.Activities
	env  *testsuite.TestActivityEnvironment
	job  config.Job
	ids  map[string]string // source ID → target ID
	// cycles counts the cycles whose phases ran.
	cycles int
}

func newPhaseWorld(t *testing.T, flatten bool) *phaseWorld {
	t.Helper()
	r := newRig(t, "TEST_PHASES_TOKEN", unwrapped)
	w := &phaseWorld{st: r.st, app: r.app, acts: r.acts, env: r.env, ids: map[string]string{}}
	w.job = config.Job{
		Name:   "phases",
		Target: config.Target{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_PHASES_TOKEN"}, MemberBatchSize: 2}},
		Objects: []config.Object{
			{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
				{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
				{Target: managerAttr, Type: mapping.Direct, Source: "managerId", Reference: "User"},
			}}},
			{ObjectMapping: mapping.ObjectMapping{SourceObject: "Group", TargetObject: "Group", Attributes: []mapping.AttributeMapping{
				{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1},
			}}},
		},
		Options: config.Options{FlattenNestedGroups: flatten},
	}
	return w
}

// link creates an object in the application and records its connection.
func (w *phaseWorld) link(t *testing.T, typ connectors.ObjectType, id, name string, active bool) {
	t.Helper()
	tgt, err := w.job.Target.Connector.(*scim.Config).Open(context.Background(), nil)
	require.NoError(t, err)
	attr := "userName"
	if typ == connectors.Group {
		attr = "displayName"
	}
	tid, err := tgt.Create(context.Background(), typ, connectors.Attributes{attr: name})
	require.NoError(t, err)
	w.ids[id] = tid
	require.NoError(t, w.st.PutObject(context.Background(), w.job.Name, store.ObjectState{
		Type: typ, SourceID: id, TargetID: tid, Active: active, Pushed: connectors.Attributes{attr: name},
	}))
}

// refer records that a user's manager is another, as a batch does.
func (w *phaseWorld) refer(t *testing.T, id, manager string) store.ObjectState {
	t.Helper()
	st, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{id})
	require.NoError(t, err)
	report := st[id]
	report.References = map[string]string{managerAttr: manager}
	require.NoError(t, w.st.PutObject(context.Background(), w.job.Name, report))
	return report
}

// run runs a phase in the next cycle, "1" first.
func (w *phaseWorld) run(t *testing.T, activity any) activities.PhaseResult {
	t.Helper()
	w.cycles++
	return w.runIn(t, activity, strconv.Itoa(w.cycles))
}

// runIn runs a phase in a cycle, every page.
func (w *phaseWorld) runIn(t *testing.T, activity any, cycle string) activities.PhaseResult {
	t.Helper()
	var res activities.PhaseResult
	for cur := (activities.PhaseCursor{}); ; {
		v, err := w.env.ExecuteActivity(activity, activities.PhaseInput{Job: w.job, Cycle: store.Cycle{Job: w.job.Name, ID: cycle}, Cursor: cur})
		require.NoError(t, err)
		var page activities.PhaseResult
		require.NoError(t, v.Get(&page))
		res.Entries = append(res.Entries, page.Entries...)
		if page.Done {
			return res
		}
		cur = page.Next
	}
}

func (w *phaseWorld) members(t *testing.T, group string) []string {
	t.Helper()
	byID := map[string]string{}
	for src, tid := range w.ids {
		byID[tid] = src
	}
	var out []string
	for _, g := range w.app.Groups() {
		if g.ID != w.ids[group] {
			continue
		}
		list, _ := g.Attributes["members"].([]any)
		for _, m := range list {
			out = append(out, byID[m.(map[string]any)["value"].(string)])
		}
	}
	return out
}

// Nested groups are flattened, cycles in the nesting end, and only users
// that are linked and active are members; the target gets differences.
func TestSyncMembershipsFlattens(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, true)
	w.link(t, connectors.User, "E1", "ada", true)
	w.link(t, connectors.User, "E2", "bob", true)
	w.link(t, connectors.User, "E3", "cy", false) // disabled
	w.link(t, connectors.Group, "G1", "Engineering", true)
	require.NoError(t, w.st.PutSourceGroups(ctx, w.job.Name, []store.SourceGroup{
		{ID: "G1", Members: []string{"E1", "G2"}},
		{ID: "G2", Members: []string{"E2", "E3", "E4", "G1"}}, // E4 was never provisioned
	}))
	require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.MembershipWork, connectors.Group, []string{"G1", "G2"}))

	res := w.run(t, w.acts.SyncMemberships)
	require.Len(t, res.Entries, 1, "G2 is not provisioned: nothing to do")
	e := res.Entries[0]
	require.Equal(t, audit.Update, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, "Engineering", e.DisplayName)
	require.ElementsMatch(t, []string{"E1", "E2"}, w.members(t, "G1"))
	require.Equal(t, 1, w.app.Stats().Requests["PATCH /Groups"], "two adds in one PATCH")

	pending, err := w.st.Pending(ctx, w.job.Name, store.MembershipWork, connectors.Group, "", 10)
	require.NoError(t, err)
	require.Empty(t, pending)

	// A change of one member is one removal; an unchanged group sends nothing.
	w.app.ResetStats()
	require.NoError(t, w.st.PutSourceGroups(ctx, w.job.Name, []store.SourceGroup{{ID: "G1", Members: []string{"G2"}}}))
	require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.MembershipWork, connectors.Group, []string{"G1"}))
	res = w.run(t, w.acts.SyncMemberships)
	require.Len(t, res.Entries, 1)
	require.Equal(t, []audit.Property{{Name: "members", Old: "removed " + w.ids["E1"]}}, res.Entries[0].Modified)
	require.Equal(t, []string{"E2"}, w.members(t, "G1"))
	require.Equal(t, map[string]int{"PATCH /Groups": 1}, w.app.Stats().Requests)

	w.app.ResetStats()
	require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.MembershipWork, connectors.Group, []string{"G1"}))
	require.Empty(t, w.run(t, w.acts.SyncMemberships).Entries)
	require.Empty(t, w.app.Stats().Requests)
}

// Without flattening, a provisioned nested group is a member itself.
func TestSyncMembershipsMirrorsNesting(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, false)
	w.link(t, connectors.User, "E1", "ada", true)
	w.link(t, connectors.Group, "G1", "Everyone", true)
	w.link(t, connectors.Group, "G2", "Engineering", true)
	require.NoError(t, w.st.PutSourceGroups(ctx, w.job.Name, []store.SourceGroup{
		{ID: "G1", Members: []string{"G2"}},
		{ID: "G2", Members: []string{"E1"}},
	}))
	require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.MembershipWork, connectors.Group, []string{"G1", "G2"}))
	w.run(t, w.acts.SyncMemberships)
	require.Equal(t, []string{"G2"}, w.members(t, "G1"))
	require.Equal(t, []string{"E1"}, w.members(t, "G2"))
}

// A reference waits, marked, until its object is linked, then is written.
func TestResolveReferencesWaitsForTheObject(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, false)
	w.link(t, connectors.User, "E2", "bob", true)
	w.refer(t, "E2", "E1")
	require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.ReferenceWork, connectors.User, []string{"E2"}))

	require.Empty(t, w.run(t, w.acts.ResolveReferences).Entries, "the manager does not exist yet")
	pending, err := w.st.Pending(ctx, w.job.Name, store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"E2"}, pending, "kept for the next cycle")

	w.link(t, connectors.User, "E1", "ada", true)
	res := w.run(t, w.acts.ResolveReferences)
	require.Len(t, res.Entries, 1)
	require.Equal(t, []audit.Property{{Name: managerAttr, New: w.ids["E1"]}}, res.Entries[0].Modified)
	for _, u := range w.app.Users() {
		if u.ID == w.ids["E2"] {
			ext := u.Attributes[sampleapp.EnterpriseSchema].(map[string]any)
			require.Equal(t, w.ids["E1"], ext["manager"].(map[string]any)["value"])
		}
	}
	pending, err = w.st.Pending(ctx, w.job.Name, store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	require.Empty(t, pending)
	got, err := w.st.Objects(ctx, w.job.Name, connectors.User, []string{"E2"})
	require.NoError(t, err)
	require.Equal(t, w.ids["E1"], got["E2"].Pushed[managerAttr], "recorded as pushed")
}

// A manager deleted in the target behind the job's back is created again
// with a new ID at its next change; the reports' references follow it in
// the same cycle's reference phase, though their own records did not change.
func TestReferencesFollowAnObjectCreatedAgain(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, false)
	hr := filepath.Join(t.TempDir(), "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte("id,userName,managerId\n"), 0o600))
	w.job.Source = config.Source{Connector: &file.Config{Path: hr, IDColumn: "id"}}
	w.link(t, connectors.User, "E1", "ada", true)
	w.link(t, connectors.User, "E2", "bob", true)
	report := w.refer(t, "E2", "E1")
	report.Pushed[managerAttr] = w.ids["E1"]
	require.NoError(t, w.st.PutObject(ctx, w.job.Name, report))

	tgt, err := w.job.Target.Connector.(*scim.Config).Open(ctx, nil)
	require.NoError(t, err)
	defer tgt.Close()
	require.NoError(t, tgt.Delete(ctx, connectors.User, w.ids["E1"]))

	cycle := store.Cycle{Job: w.job.Name, ID: "1"}
	require.NoError(t, w.st.Stage(ctx, cycle, []store.StagedItem{{Seq: 1, Type: connectors.User,
		Object: connectors.Object{ID: "E1", Attributes: connectors.Attributes{"id": "E1", "userName": "ada.lovelace", "managerId": nil}}}}))
	v, err := w.env.ExecuteActivity(w.acts.ProvisionBatch, activities.BatchInput{Job: w.job, Cycle: cycle, From: 1, To: 1})
	require.NoError(t, err)
	var batch activities.BatchResult
	require.NoError(t, v.Get(&batch))
	require.Equal(t, audit.Create, batch.Entries[0].Action, "created again: %+v", batch.Entries[0])
	again := batch.Entries[0].TargetID
	require.NotEqual(t, w.ids["E1"], again)

	pending, err := w.st.Pending(ctx, w.job.Name, store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"E2"}, pending, "the report is marked for the reference phase")
	res := w.run(t, w.acts.ResolveReferences)
	require.Len(t, res.Entries, 1)
	require.Equal(t, []audit.Property{{Name: managerAttr, Old: w.ids["E1"], New: again}}, res.Entries[0].Modified)
	for _, u := range w.app.Users() {
		if u.ID == w.ids["E2"] {
			ext := u.Attributes[sampleapp.EnterpriseSchema].(map[string]any)
			require.Equal(t, again, ext["manager"].(map[string]any)["value"])
		}
	}
}
