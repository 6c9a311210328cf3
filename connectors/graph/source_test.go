package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/graphapi"
)

const ext = "extension_9d9a1f4b3e2c4d5e8f7a6b5c4d3e2f1a_costCenter"

// The first read is a full one through /delta; later reads from its
// watermark see exactly what changed: a create, an update, a disable, a
// soft and a hard delete, members added and removed.
func TestDeltaReads(t *testing.T) {
	tn := startTenant(t)
	ada := tn.AddUser(graphapi.User{"userPrincipalName": "ada@contoso.com", "givenName": "Ada", "mobilePhone": "+1 555 0100",
		"businessPhones": []any{"+1 555 0199"}, ext: "CC-7", "onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "A3"}})
	bob := tn.AddUser(graphapi.User{"userPrincipalName": "bob@contoso.com", "givenName": "Bob"})
	cy := tn.AddUser(graphapi.User{"userPrincipalName": "cy@contoso.com", "givenName": "Cy"})
	dee := tn.AddUser(graphapi.User{"userPrincipalName": "dee@contoso.com", "givenName": "Dee"})
	eve := tn.AddUser(graphapi.User{"userPrincipalName": "eve@contoso.com", "givenName": "Eve"})
	tn.SetManager(bob, ada)
	sales := tn.AddGroup("Sales", ada, bob)
	src := tn.open(t, tn.cfg)

	attrs := []string{"userPrincipalName", "givenName", "mobile", "telephoneNumber", "manager", ext, "extensionAttribute3", "objectId", "IsSoftDeleted"}
	users, mark := readAll(t, src, connectors.User, "", attrs...)
	require.Len(t, users, 5)
	a := users[ada].Attributes
	require.Equal(t, "+1 555 0100", a["mobile"], "Azure's mobile is Graph's mobilePhone")
	require.Equal(t, "+1 555 0199", a["telephoneNumber"], "Azure's telephoneNumber is the first businessPhones")
	require.Equal(t, "CC-7", a[ext])
	require.Equal(t, "A3", a["extensionAttribute3"])
	require.Equal(t, ada, a["objectId"])
	require.NotContains(t, a, "IsSoftDeleted", "computed by the engine")
	require.Equal(t, ada, users[bob].Attributes["manager"])
	groups, gmark := readAll(t, src, connectors.Group, "", "displayName")
	require.ElementsMatch(t, []string{ada, bob}, groups[sales].Members)

	tn.UpdateUser(ada, graphapi.User{"givenName": "Ada L."})
	tn.UpdateUser(bob, graphapi.User{"accountEnabled": false})
	tn.DeleteUser(cy, true)
	tn.DeleteUser(dee, false)
	tn.AddMember(sales, eve)
	tn.RemoveMember(sales, bob)
	fay := tn.AddUser(graphapi.User{"userPrincipalName": "fay@contoso.com", "givenName": "Fay"})

	users, _ = readAll(t, src, connectors.User, mark, attrs...)
	require.Len(t, users, 5, "eve did not change")
	require.Equal(t, "Fay", users[fay].Attributes["givenName"], "created")
	require.Equal(t, "Ada L.", users[ada].Attributes["givenName"])
	require.True(t, users[bob].Disabled, "accountEnabled false")
	require.True(t, users[cy].Disabled, "soft-deleted: disabled, not deleted")
	require.False(t, users[cy].Deleted)
	require.True(t, users[dee].Deleted)
	groups, _ = readAll(t, src, connectors.Group, gmark, "displayName")
	require.Len(t, groups, 1)
	require.ElementsMatch(t, []string{ada, eve}, groups[sales].Members, "the whole member list, not the delta")
}

// With a service principal, only assigned users and groups are in scope:
// the others read as disabled; the app roles are appRoleAssignments,
// assigned directly or through a group (its direct members only).
func TestAssignments(t *testing.T) {
	tn := startTenant(t)
	admin := graphapi.AppRole{ID: graphapi.NewID(), Value: "Admin", DisplayName: "Administrator"}
	reader := graphapi.AppRole{ID: graphapi.NewID(), Value: "Reader", DisplayName: "Reader"}
	tn.SetAppRoles(admin, reader)
	ada := tn.AddUser(graphapi.User{"userPrincipalName": "ada@contoso.com"})
	bob := tn.AddUser(graphapi.User{"userPrincipalName": "bob@contoso.com"})
	cy := tn.AddUser(graphapi.User{"userPrincipalName": "cy@contoso.com"})
	nested := tn.AddUser(graphapi.User{"userPrincipalName": "nested@contoso.com"})
	inner := tn.AddGroup("Inner", nested)
	team := tn.AddGroup("Team", bob, inner)
	direct := tn.Assign(ada, "User", admin.ID)
	tn.Assign(team, "Group", reader.ID)
	cfg := tn.cfg
	cfg.ServicePrincipal = tn.ServicePrincipal()
	src := tn.open(t, cfg)

	users, mark := readAll(t, src, connectors.User, "", "userPrincipalName", "appRoleAssignments")
	require.False(t, users[ada].Disabled)
	require.False(t, users[bob].Disabled, "assigned through Team")
	require.True(t, users[cy].Disabled, "not assigned")
	require.True(t, users[nested].Disabled, "a nested group's members are not assigned, as in Azure")
	require.Equal(t, []string{`{"id":"` + admin.ID + `","value":"Admin","displayName":"Administrator"}`}, users[ada].Attributes["appRoleAssignments"])
	var role map[string]string
	require.NoError(t, json.Unmarshal([]byte(users[bob].Attributes["appRoleAssignments"].([]string)[0]), &role))
	require.Equal(t, "Reader", role["value"])
	groups, _ := readAll(t, src, connectors.Group, "", "displayName")
	require.False(t, groups[team].Disabled)
	require.True(t, groups[inner].Disabled)

	// Delta queries do not report assignments: a changed assignment makes
	// the next read a full one, which still sees what the delta link
	// would have removed.
	users, mark = readAll(t, src, connectors.User, mark, "userPrincipalName", "appRoleAssignments")
	require.Empty(t, users, "nothing changed")
	tn.Unassign(direct)
	tn.DeleteUser(cy, false)
	users, _ = readAll(t, src, connectors.User, mark, "userPrincipalName", "appRoleAssignments")
	require.Len(t, users, 4)
	require.True(t, users[ada].Disabled, "unassigned")
	require.True(t, users[cy].Deleted, "deleted since the last read")

	cfg.NestedGroupAssignment = true
	users, _ = readAll(t, tn.open(t, cfg), connectors.User, "", "userPrincipalName")
	require.False(t, users[nested].Disabled)
}

// A delta token Graph no longer knows (410 syncStateNotFound) makes the
// read a full one; so do mappings that read other attributes.
func TestExpiredDeltaTokenReadsEverything(t *testing.T) {
	tn := startTenant(t)
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		ids[n] = tn.AddUser(graphapi.User{"userPrincipalName": n + "@contoso.com"})
	}
	src := tn.open(t, tn.cfg)
	_, mark := readAll(t, src, connectors.User, "", "userPrincipalName")
	users, mark := readAll(t, src, connectors.User, mark, "userPrincipalName")
	require.Empty(t, users)
	tn.DeleteUser(ids["b"], true)
	tn.ExpireDeltaTokens()
	users, mark = readAll(t, src, connectors.User, mark, "userPrincipalName")
	require.Len(t, users, 4)
	require.True(t, users[ids["b"]].Disabled, "deleted while the token was forgotten: read from the deleted items")
	require.False(t, users[ids["a"]].Disabled)
	tn.RestoreUser(ids["b"])
	users, _ = readAll(t, src, connectors.User, mark, "userPrincipalName", "givenName")
	require.Len(t, users, 4, "a new attribute: the delta link would not return it")
}

// Throttled answers are retried after Retry-After, and the pause holds
// every connection to the tenant, not only the one throttled.
func TestThrottlingIsSharedPerTenant(t *testing.T) {
	tn := startTenant(t)
	for _, n := range []string{"a", "b", "c"} {
		tn.AddUser(graphapi.User{"userPrincipalName": n + "@contoso.com"})
	}
	one, two := tn.open(t, tn.cfg), tn.open(t, tn.cfg)
	readAll(t, one, connectors.User, "", "userPrincipalName") // the token is fetched
	tn.ResetStats()
	tn.Throttle(1, 2)
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range []connectors.Source{one, two} {
		wg.Go(func() {
			// The second reads once the first was throttled.
			time.Sleep(time.Duration(i) * 500 * time.Millisecond)
			users, _ := readAll(t, c, connectors.User, "", "userPrincipalName")
			require.Len(t, users, 3)
		})
	}
	wg.Wait()
	require.GreaterOrEqual(t, time.Since(start), 2*time.Second)
	st := tn.Stats()
	require.Equal(t, 1, st.Throttled)
	require.Zero(t, st.Early, "a request came before Retry-After was over")
}

// One access token serves many reads until it nears its expiry.
func TestTokenIsCached(t *testing.T) {
	tn := startTenant(t)
	tn.AddUser(graphapi.User{"userPrincipalName": "a@contoso.com"})
	src := tn.open(t, tn.cfg)
	for range 3 {
		readAll(t, src, connectors.User, "", "userPrincipalName")
	}
	require.Equal(t, 1, tn.Stats().Tokens)
}

// An attribute Graph does not have fails the read with Graph's words.
func TestUnknownAttribute(t *testing.T) {
	tn := startTenant(t)
	src := tn.open(t, tn.cfg)
	_, err := src.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Attributes: []string{"jobTitel"}})
	require.Equal(t, connectors.KindInvalidRequest, connectors.KindOf(err))
	require.ErrorContains(t, err, "jobTitel")
}

// The client secret never shows in an error, even when echoed back.
func TestSecretNotInErrors(t *testing.T) {
	tn := startTenant(t)
	src := tn.open(t, tn.cfg)
	_, err := src.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Attributes: []string{tn.Secret}})
	require.Error(t, err)
	require.False(t, strings.Contains(err.Error(), tn.Secret), err.Error())
}

// A misspelt attribute is refused before the job runs, with the closest
// name; Azure's names, computed and navigation attributes are known.
func TestCheckAttributes(t *testing.T) {
	tn := startTenant(t)
	tn.AddUser(graphapi.User{"userPrincipalName": "a@contoso.com", ext: "CC"})
	src := tn.open(t, tn.cfg)
	check, err := src.CheckAttributes(context.Background(), connectors.User,
		[]string{"userPrincipalName", "jobTitel", "mobile", "telephoneNumber", "IsSoftDeleted", "appRoleAssignments", "manager", ext, "objectId", "departmnt"})
	require.NoError(t, err)
	require.ElementsMatch(t, []connectors.UnknownAttribute{{Name: "jobTitel", Suggestion: "jobTitle"}, {Name: "departmnt", Suggestion: "department"}}, check.Unknown)
	check, err = src.CheckAttributes(context.Background(), connectors.Group, []string{"displayName", "members", "objectId"})
	require.NoError(t, err)
	require.Empty(t, check.Unknown)
}

// The client secret reaches neither the logs nor a watermark or cursor,
// which go into workflow history.
func TestSecretNotLoggedNorInMarks(t *testing.T) {
	tn := startTenant(t)
	tn.AddUser(graphapi.User{"userPrincipalName": "a@contoso.com"})
	var buf bytes.Buffer
	log := logrus.New()
	log.SetLevel(logrus.TraceLevel)
	log.SetOutput(&buf)
	src, err := tn.cfg.Open(context.Background(), logrus.NewEntry(log))
	require.NoError(t, err)
	defer src.Close()
	tn.Throttle(1, 1)
	page, err := src.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Attributes: []string{"userPrincipalName"}})
	require.NoError(t, err)
	require.NotEmpty(t, buf.String(), "the throttling is logged")
	for _, s := range []string{buf.String(), page.Cursor, page.Watermark} {
		require.NotContains(t, s, tn.Secret)
	}
}
