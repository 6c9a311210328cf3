package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
)

// onDemandWorld is a job over a users file and a groups file, scoped to
// Engineering, into the sample application.
type onDemandWorld struct {
	rig
	job      config.Job
	requests int
}

func newOnDemandWorld(t *testing.T) *onDemandWorld {
	t.Helper()
	w := &onDemandWorld{rig: newRig(t, "TEST_ONDEMAND_TOKEN", unwrapped)}
	dir := t.TempDir()
	users, groups := filepath.Join(dir, "users.csv"), filepath.Join(dir, "groups.csv")
	require.NoError(t, os.WriteFile(users, []byte("employeeId,userName,department,pin\n"+
		"E1,ada@example.com,Engineering,1234\n"+
		"E2,bob@example.com,Sales,5678\n"+
		"E3,cy@example.com,Engineering,\n"), 0o600))
	require.NoError(t, os.WriteFile(groups, []byte("groupId,displayName,members\n"+
		"G1,Builders,E1;E2;E3;E404\n"), 0o600))
	w.job = config.Job{
		Name: "on-demand",
		Source: config.Source{Connector: &file.Set{
			{Path: users, IDColumn: "employeeId"},
			{Path: groups, Type: connectors.Group, IDColumn: "groupId", MembersColumn: "members"},
		}},
		Target: config.Target{Connector: &scim.Config{BaseURL: w.url, Token: secrets.Ref{Env: "TEST_ONDEMAND_TOKEN"}}},
		Objects: []config.Object{
			{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User",
				Attributes: []mapping.AttributeMapping{
					{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
					{Target: "externalId", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 2},
					{Target: "title", Type: mapping.Expression, Expression: `Join("-", "pin", Redact([pin]))`},
				},
				Scope: mapping.ScopingFilter{Groups: []mapping.FilterGroup{{Clauses: []mapping.Clause{
					{Attribute: "department", Operator: "EQUALS", Value: "Engineering"},
				}}}},
			}},
			{ObjectMapping: mapping.ObjectMapping{SourceObject: "Group", TargetObject: "Group", Attributes: []mapping.AttributeMapping{
				{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1},
			}}},
		},
	}
	return w
}

func (w *onDemandWorld) provision(t *testing.T, typ connectors.ObjectType, id string) api.OnDemandResult {
	t.Helper()
	w.requests++
	v, err := w.env.ExecuteActivity(w.acts.ProvisionOnDemand, activities.OnDemandInput{Job: w.job, Type: typ, SourceID: id, RequestID: string(rune('a' + w.requests))})
	require.NoError(t, err)
	var res api.OnDemandResult
	require.NoError(t, v.Get(&res))
	return res
}

func steps(res api.OnDemandResult) map[string]api.OnDemandStep {
	out := map[string]api.OnDemandStep{}
	for _, s := range res.Steps {
		out[s.Name] = s
	}
	return out
}

func values(ps []audit.Property) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		out[p.Name] = p.New
	}
	return out
}

// A user in scope is created now, with every step explained; the second
// request finds it linked and changes nothing; the next cycle sees it as
// provisioned.
func TestOnDemandCreatesThenFindsLinked(t *testing.T) {
	w := newOnDemandWorld(t)
	res := w.provision(t, connectors.User, "E1")
	require.Equal(t, []string{api.StepImport, api.StepScope, api.StepMatch, api.StepAction}, names(res.Steps))
	s := steps(res)
	require.Equal(t, audit.Success, s[api.StepImport].Status)
	require.Equal(t, map[string]string{"employeeId": "E1", "userName": "ada@example.com", "department": "Engineering", "pin": audit.Redacted}, values(s[api.StepImport].Values),
		"the attributes the mappings read, with the one a Redact() mapping reads hidden")
	require.Equal(t, []api.OnDemandClause{{Group: 1, Attribute: "department", Operator: "EQUALS", Value: "Engineering", Actual: "Engineering", Passed: true}}, s[api.StepScope].Clauses)
	require.Contains(t, s[api.StepMatch].Detail, `userName "ada@example.com": 0 target objects`)
	require.Contains(t, s[api.StepMatch].Detail, "no target object matched")
	require.Equal(t, audit.Create, res.Object().Action)
	require.Equal(t, audit.Success, s[api.StepAction].Status)
	require.Equal(t, audit.Redacted, values(s[api.StepAction].Values)["title"])
	require.Len(t, w.app.Users(), 1)
	st, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, res.Object().TargetID, st["E1"].TargetID, "the object connection is recorded")

	again := w.provision(t, connectors.User, "E1")
	require.Contains(t, steps(again)[api.StepMatch].Detail, "linked to target object "+res.Object().TargetID)
	require.Equal(t, audit.Skipped, again.Object().Status)
	require.Len(t, w.app.Users(), 1)
}

func names(ss []api.OnDemandStep) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// A user out of scope is not provisioned, and the failing clause is shown
// with the value it saw.
func TestOnDemandExplainsScope(t *testing.T) {
	w := newOnDemandWorld(t)
	res := w.provision(t, connectors.User, "E2")
	s := steps(res)
	require.Equal(t, audit.Skipped, s[api.StepScope].Status)
	require.Equal(t, []api.OnDemandClause{{Group: 1, Attribute: "department", Operator: "EQUALS", Value: "Engineering", Actual: "Sales", Passed: false}}, s[api.StepScope].Clauses)
	require.NotContains(t, s, api.StepMatch)
	require.Equal(t, audit.Skipped, res.Object().Status)
	require.Empty(t, w.app.Users())
}

// An account the application already has is matched, not duplicated.
func TestOnDemandMatchesAnExistingAccount(t *testing.T) {
	w := newOnDemandWorld(t)
	tgt, err := w.job.Target.Connector.(*scim.Config).Open(context.Background(), nil)
	require.NoError(t, err)
	defer tgt.Close()
	id, err := tgt.Create(context.Background(), connectors.User, connectors.Attributes{"userName": "cy@example.com"})
	require.NoError(t, err)
	res := w.provision(t, connectors.User, "E3")
	require.Contains(t, steps(res)[api.StepMatch].Detail, `userName "cy@example.com": 1 target object`)
	require.Equal(t, audit.Update, res.Object().Action)
	require.Equal(t, id, res.Object().TargetID)
	require.Len(t, w.app.Users(), 1)
}

// An ID the source does not have fails at import, and nothing is pushed.
func TestOnDemandUnknownObject(t *testing.T) {
	w := newOnDemandWorld(t)
	res := w.provision(t, connectors.User, "E404")
	require.Len(t, res.Steps, 1)
	require.Equal(t, audit.Failure, res.Steps[0].Status)
	require.Contains(t, res.Steps[0].Detail, `"E404"`)
	require.Empty(t, w.app.Users())
}

// A group is provisioned with its member users (those in scope), then its
// memberships, in one request: no five-member limit, no cycle needed.
func TestOnDemandGroupWithMembers(t *testing.T) {
	w := newOnDemandWorld(t)
	res := w.provision(t, connectors.Group, "G1")
	require.Equal(t, audit.Create, res.Object().Action)
	require.Len(t, res.Members(), 3, "the three users; the dangling E404 is left out")
	byID := map[string]audit.Entry{}
	for _, e := range res.Members() {
		byID[e.SourceID] = e
	}
	require.Equal(t, audit.Create, byID["E1"].Action)
	require.Equal(t, audit.Skipped, byID["E2"].Status, "out of scope")
	require.Equal(t, audit.Create, byID["E3"].Action)
	require.NotNil(t, res.Memberships())
	require.Equal(t, audit.Success, res.Memberships().Status)

	groups := w.app.Groups()
	require.Len(t, groups, 1)
	members, _ := groups[0].Attributes["members"].([]any)
	var got []string
	for _, m := range members {
		got = append(got, m.(map[string]any)["value"].(string))
	}
	require.ElementsMatch(t, []string{byID["E1"].TargetID, byID["E3"].TargetID}, got)

	pending, err := w.st.Pending(context.Background(), w.job.Name, store.MembershipWork, connectors.Group, "", 10)
	require.NoError(t, err)
	require.Empty(t, pending, "the group's memberships are done; the next cycle has nothing left")
}

// A job that does not provision the type refuses without retrying.
func TestOnDemandRefusesUnknownType(t *testing.T) {
	w := newOnDemandWorld(t)
	_, err := w.env.ExecuteActivity(w.acts.ProvisionOnDemand, activities.OnDemandInput{Job: w.job, Type: "Device", SourceID: "D1", RequestID: "x"})
	require.ErrorContains(t, err, "does not provision Device objects")
}
