package workflows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/api"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/graph"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/graphapi"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/mapping/azureschema"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

const graphSecretEnv = "PROVISIONING_SECRET_TEST_ENTRA"

// entraTenant starts a Graph-compatible tenant and returns it with the
// job source that reads it.
func entraTenant(t *testing.T) (*graphapi.Server, *graph.Config) {
	t.Helper()
	srv, err := graphapi.Start("b1f0c8e2-4a7d-4e0b-9c55-2d8e1f3a6b70")
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "graph-ca.pem")
	require.NoError(t, os.WriteFile(ca, srv.TLSCertificate(), 0o600))
	t.Setenv(graphSecretEnv, srv.Secret)
	return srv, &graph.Config{
		Tenant: srv.Tenant, ClientID: srv.ClientID, ClientSecret: secrets.Ref{Env: graphSecretEnv},
		Authority: srv.URL, GraphURL: srv.GraphURL, CACertFile: ca, PageSize: 2, MaxRetryWait: graph.Duration(5 * time.Second),
	}
}

// groupMembers returns each target group's member userNames by the
// group's displayName.
func groupMembers(app *sampleapp.App) map[string][]string {
	names := map[string]string{}
	for _, u := range app.Users() {
		names[u.ID] = fmt.Sprint(u.Attributes["userName"])
	}
	out := map[string][]string{}
	for _, g := range app.Groups() {
		name := fmt.Sprint(g.Attributes["displayName"])
		out[name] = []string{}
		list, _ := g.Attributes["members"].([]any)
		for _, m := range list {
			out[name] = append(out[name], names[fmt.Sprint(m.(map[string]any)["value"])])
		}
	}
	return out
}

// The Entra ID → apps architecture: users and groups read from Entra ID
// by delta queries into the sample SCIM application; a rename, a disable,
// a delete and a member added reach it in the next cycle, through
// throttled answers.
func TestEntraToSCIM(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tn, src := entraTenant(t)
	ada := tn.AddUser(graphapi.User{"userPrincipalName": "ada@contoso.com", "displayName": "Ada Lovelace", "givenName": "Ada", "jobTitle": "Engineer"})
	bob := tn.AddUser(graphapi.User{"userPrincipalName": "bob@contoso.com", "displayName": "Bob Byte", "givenName": "Bob", "jobTitle": "Engineer"})
	cy := tn.AddUser(graphapi.User{"userPrincipalName": "cy@contoso.com", "displayName": "Cy Cipher", "givenName": "Cy", "jobTitle": "Analyst"})
	dee := tn.AddUser(graphapi.User{"userPrincipalName": "dee@contoso.com", "displayName": "Dee Data", "givenName": "Dee", "jobTitle": "Analyst"})
	tn.SetManager(bob, ada)
	eng := tn.AddGroup("Engineering", ada, bob)

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "entra-to-scim")
	w.job.Source = config.Source{Connector: src}
	w.job.Objects = []config.Object{
		{ObjectMapping: mapping.ObjectMapping{Name: "users", SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
			{Target: "userName", Type: mapping.Direct, Source: "userPrincipalName", MatchingPriority: 1},
			{Target: "externalId", Type: mapping.Direct, Source: "objectId"},
			{Target: "displayName", Type: mapping.Direct, Source: "displayName"},
			{Target: "name.givenName", Type: mapping.Direct, Source: "givenName"},
			{Target: "title", Type: mapping.Direct, Source: "jobTitle"},
			{Target: managerAttr, Type: mapping.Direct, Source: "manager", Reference: "User"},
		}}},
		{ObjectMapping: mapping.ObjectMapping{Name: "groups", SourceObject: "Group", TargetObject: "Group", Attributes: []mapping.AttributeMapping{
			{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1},
			{Target: "externalId", Type: mapping.Direct, Source: "objectId"},
		}}},
	}
	require.NoError(t, w.job.Validate())
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, 2*time.Minute)

	users := w.users(t)
	require.Len(t, users, 4)
	require.Equal(t, ada, users["ada@contoso.com"].Attributes["externalId"])
	require.Equal(t, "Bob Byte", users["bob@contoso.com"].Attributes["displayName"])
	require.Equal(t, users["ada@contoso.com"].ID, nested(users["bob@contoso.com"].Attributes, enterprise, "manager", "value"), "manager as a reference")
	require.ElementsMatch(t, []string{"ada@contoso.com", "bob@contoso.com"}, groupMembers(w.app)["Engineering"])

	tn.UpdateUser(ada, graphapi.User{"displayName": "Ada King", "givenName": "Augusta"})
	tn.UpdateUser(bob, graphapi.User{"accountEnabled": false})
	tn.DeleteUser(cy, false)
	tn.AddMember(eng, dee)
	tn.ResetStats()
	tn.Throttle(2, 1)
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st := waitCycle(t, c, w.job.Name, 2, 2*time.Minute)
	require.Empty(t, st.LastError)

	users = w.users(t)
	require.Equal(t, "Ada King", users["ada@contoso.com"].Attributes["displayName"])
	require.Equal(t, "Augusta", nested(users["ada@contoso.com"].Attributes, "name", "givenName"))
	require.False(t, active(users["bob@contoso.com"]), "accountEnabled false disables")
	require.NotContains(t, users, "cy@contoso.com", "deleted in Entra ID, deleted in the application")
	require.True(t, active(users["dee@contoso.com"]))
	require.ElementsMatch(t, []string{"ada@contoso.com", "dee@contoso.com"}, groupMembers(w.app)["Engineering"], "dee added; bob, disabled, leaves the group's target members")
	stats := w.app.Stats()
	require.Zero(t, stats.Requests["POST /Users"], "nothing new to create")
	require.Equal(t, 1, stats.Requests["DELETE /Users"])
	gst := tn.Stats()
	require.Equal(t, 2, gst.Throttled)
	require.Zero(t, gst.Early, "a request came before Retry-After was over")
}

// A synchronization schema exported from Azure for a gallery SCIM
// application (the default mappings: IsSoftDeleted, the manager as a
// reference, SingleAppRoleAssignment, an extension attribute, group
// members) runs unchanged on the Graph source, with "sync only assigned
// users and groups".
func TestAzureGallerySchemaOnEntra(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	schema, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "testenv", "graphapi", "testdata", "gallery-schema.json"))
	require.NoError(t, err)
	oms, err := azureschema.Import(schema)
	require.NoError(t, err)

	tn, src := entraTenant(t)
	admin := graphapi.AppRole{ID: graphapi.NewID(), Value: "Admin", DisplayName: "Administrator"}
	reader := graphapi.AppRole{ID: graphapi.NewID(), Value: "Reader", DisplayName: "Reader"}
	tn.SetAppRoles(admin, reader)
	ada := tn.AddUser(graphapi.User{"userPrincipalName": "ada@contoso.com", "mailNickname": "ada", "displayName": "Ada Lovelace", "givenName": "Ada",
		"surname": "Lovelace", "mail": "ada@contoso.com", "mobilePhone": "+1 555 0100", "businessPhones": []any{"+1 555 0199"},
		"department": "Engineering", "employeeId": "E1", "extension_9d9a1f4b3e2c4d5e8f7a6b5c4d3e2f1a_costCenter": "CC-7"})
	bob := tn.AddUser(graphapi.User{"userPrincipalName": "bob@contoso.com", "mailNickname": "bob", "displayName": "Bob Byte", "givenName": "Bob", "surname": "Byte"})
	tn.AddUser(graphapi.User{"userPrincipalName": "cy@contoso.com", "mailNickname": "cy", "displayName": "Cy Cipher"})
	tn.SetManager(bob, ada)
	team := tn.AddGroup("Team", bob)
	direct := tn.Assign(ada, "User", admin.ID)
	tn.Assign(team, "Group", reader.ID)
	src.ServicePrincipal = tn.ServicePrincipal()

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "entra-gallery-schema")
	w.job.Source = config.Source{Connector: src}
	w.job.Objects = nil
	for _, om := range oms {
		w.job.Objects = append(w.job.Objects, config.Object{ObjectMapping: om})
	}
	require.NoError(t, w.job.Validate())
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, 2*time.Minute)

	users := w.users(t)
	require.Len(t, users, 2, "cy is not assigned")
	a := users["ada@contoso.com"].Attributes
	require.True(t, active(users["ada@contoso.com"]))
	require.Equal(t, "ada", a["externalId"])
	require.Equal(t, "+1 555 0199", multi(a, "phoneNumbers", "work"))
	require.Equal(t, "+1 555 0100", multi(a, "phoneNumbers", "mobile"))
	require.Equal(t, "CC-7", nested(a, enterprise, "costCenter"))
	require.Equal(t, "E1", nested(a, enterprise, "employeeNumber"))
	require.Equal(t, "Admin", primaryRole(a))
	b := users["bob@contoso.com"].Attributes
	require.Equal(t, "Reader", primaryRole(b), "the role of the group it is assigned through")
	require.Equal(t, users["ada@contoso.com"].ID, nested(b, enterprise, "manager", "value"))
	require.Equal(t, map[string][]string{"Team": {"bob@contoso.com"}}, groupMembers(w.app))

	// Unassigned: disabled (IsSoftDeleted), not deleted.
	tn.Unassign(direct)
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	waitCycle(t, c, w.job.Name, 2, 2*time.Minute)
	users = w.users(t)
	require.False(t, active(users["ada@contoso.com"]))
	require.True(t, active(users["bob@contoso.com"]))
}

// primaryRole is the value of the primary entry of roles.
func primaryRole(attrs map[string]any) any {
	list, _ := attrs["roles"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && fmt.Sprint(m["primary"]) == "true" || ok && fmt.Sprint(m["primary"]) == "True" {
			return m["value"]
		}
	}
	return nil
}

// A mapping reading a property Entra ID users do not have is refused
// before anything is pushed, with the closest name Graph has.
func TestEntraMisspeltAttributeRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tn, src := entraTenant(t)
	tn.AddUser(graphapi.User{"userPrincipalName": "ada@contoso.com", "jobTitle": "Engineer"})
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "entra-typo")
	w.job.Source = config.Source{Connector: src}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userPrincipalName", MatchingPriority: 1},
		{Target: "title", Type: mapping.Direct, Source: "jobTitel"},
	}
	require.NoError(t, w.job.Validate())
	startJob(t, c, w.job)
	err := jobResult(t, c, w.job.Name)
	require.ErrorContains(t, err, `unknown source attribute "jobTitel"`)
	require.ErrorContains(t, err, `did you mean "jobTitle"?`)
	require.Empty(t, w.app.Stats().Requests, "a request reached the target")
}
