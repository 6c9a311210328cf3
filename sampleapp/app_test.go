package sampleapp

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserLifecycle(t *testing.T) {
	s := start(t, Options{})
	id := s.createUser(map[string]any{
		"userName":   "ada@example.com",
		"externalId": "ada",
		"active":     true,
		"name":       map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":     []any{map[string]any{"type": "work", "value": "ada@example.com", "primary": true}},
		"title":      "Analyst",
		EnterpriseSchema: map[string]any{
			"department":     "Engines",
			"employeeNumber": "1815",
		},
	})

	got := s.get("/Users/" + id)
	assert.Equal(t, "ada@example.com", got["userName"])
	assert.Equal(t, "ada", got["externalId"])
	assert.Equal(t, "Lovelace", got["name"].(map[string]any)["familyName"])
	assert.Equal(t, "Engines", got[EnterpriseSchema].(map[string]any)["department"])
	meta := got["meta"].(map[string]any)
	assert.Equal(t, "User", meta["resourceType"])
	assert.NotEmpty(t, meta["lastModified"])

	status, body := s.do(http.MethodPut, "/Users/"+id, map[string]any{
		"schemas":  []string{UserSchema},
		"userName": "ada.lovelace@example.com",
		"active":   false,
	})
	require.Equal(t, http.StatusOK, status, body)
	got = s.get("/Users/" + id)
	assert.Equal(t, "ada.lovelace@example.com", got["userName"])
	assert.Equal(t, false, got["active"])
	assert.Nil(t, got["name"], "PUT replaces every attribute")

	status, _ = s.do(http.MethodDelete, "/Users/"+id, nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, body = s.do(http.MethodGet, "/Users/"+id, nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body["schemas"], "urn:ietf:params:scim:api:messages:2.0:Error")
	status, _ = s.do(http.MethodDelete, "/Users/"+id, nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Empty(t, s.app.Users())
}

func TestUserNameIsUnique(t *testing.T) {
	s := start(t, Options{})
	first := s.createUser(user("grace"))
	other := s.createUser(user("hopper"))

	status, body := s.do(http.MethodPost, "/Users", map[string]any{"schemas": []string{UserSchema}, "userName": "GRACE"})
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "uniqueness", body["scimType"])

	status, body = s.patch("/Users/"+other, map[string]any{"op": "replace", "path": "userName", "value": "Grace"})
	assert.Equal(t, http.StatusConflict, status, body)

	// Renaming a user to its own name in another case is not a conflict.
	status, body = s.patch("/Users/"+first, map[string]any{"op": "replace", "path": "userName", "value": "Grace"})
	assert.Equal(t, http.StatusOK, status, body)
	assert.Len(t, s.app.Users(), 2)
}

func TestRequiredAttributes(t *testing.T) {
	s := start(t, Options{})
	status, _ := s.do(http.MethodPost, "/Users", map[string]any{"schemas": []string{UserSchema}, "displayName": "x"})
	assert.Equal(t, http.StatusBadRequest, status)
	id := s.createUser(user("keep"))
	status, _ = s.patch("/Users/"+id, map[string]any{"op": "remove", "path": "userName"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "keep", s.get("/Users/" + id)["userName"])
}

func TestAuthentication(t *testing.T) {
	s := start(t, Options{})
	for _, token := range []string{"", "wrong", testToken + "x"} {
		status, body := s.doWithToken(token, http.MethodGet, "/Users", nil)
		assert.Equal(t, http.StatusUnauthorized, status, "token %q", token)
		assert.Equal(t, "401", body["status"])
	}
	status, _ := s.doWithToken(testToken, http.MethodGet, "/Users", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, 3, s.app.Stats().Statuses[http.StatusUnauthorized])
}

func TestDiscoveryEndpoints(t *testing.T) {
	s := start(t, Options{})
	spc := s.get("/ServiceProviderConfig")
	assert.Equal(t, true, spc["patch"].(map[string]any)["supported"])
	assert.Equal(t, true, spc["filter"].(map[string]any)["supported"])

	schemas := s.get("/Schemas")
	var found []string
	for _, r := range schemas["Resources"].([]any) {
		found = append(found, r.(map[string]any)["id"].(string))
	}
	assert.Subset(t, found, []string{UserSchema, GroupSchema, EnterpriseSchema})

	types := s.get("/ResourceTypes")
	assert.EqualValues(t, 2, types["totalResults"])
}

func TestGroupsAndMembers(t *testing.T) {
	s := start(t, Options{})
	u1, u2 := s.createUser(user("u1")), s.createUser(user("u2"))
	// Azure creates groups with a second schema URN and without members.
	status, body := s.do(http.MethodPost, "/Groups", map[string]any{
		"schemas":     []string{GroupSchema, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "g-1",
		"displayName": "Engineers",
		"meta":        map[string]any{"resourceType": "Group"},
	})
	require.Equal(t, http.StatusCreated, status, body)
	gid := body["id"].(string)

	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{
		map[string]any{"value": u1}, map[string]any{"value": u2}, map[string]any{"value": u1},
	}})
	assert.Equal(t, http.StatusNoContent, status)
	assert.Len(t, s.get("/Groups/" + gid)["members"], 2, "a member added twice is listed once")

	noMembers := s.get("/Groups/" + gid + "?excludedAttributes=members")
	assert.NotContains(t, noMembers, "members")
	assert.Equal(t, "Engineers", noMembers["displayName"])
	idOnly := s.get("/Groups/" + gid + "?attributes=id")
	assert.NotContains(t, idOnly, "displayName")
	assert.Equal(t, gid, idOnly["id"])
	named := s.get("/Groups/" + gid + "?attributes=displayName,externalId")
	assert.NotContains(t, named, "members")
	assert.Equal(t, "g-1", named["externalId"])

	// Deleting a user removes it from its groups.
	status, _ = s.do(http.MethodDelete, "/Users/"+u1, nil)
	require.Equal(t, http.StatusNoContent, status)
	members := s.get("/Groups/" + gid)["members"].([]any)
	require.Len(t, members, 1)
	assert.Equal(t, u2, members[0].(map[string]any)["value"])
}

func TestIndexPage(t *testing.T) {
	s := start(t, Options{})
	boss := s.createUser(map[string]any{"userName": "boss@example.com", "name": map[string]any{"givenName": "Big", "familyName": "Boss"}})
	s.createUser(map[string]any{
		"userName": "worker@example.com",
		"active":   false,
		"emails":   []any{map[string]any{"type": "work", "value": "worker@example.com"}},
		EnterpriseSchema: map[string]any{
			"department": "Research <&>",
			"manager":    map[string]any{"value": boss},
		},
	})
	gid := s.createGroup("Staff")
	s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": boss}}})

	resp, err := http.Get(s.url + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	page := string(raw)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "Big Boss")
	assert.Contains(t, page, "Research &lt;&amp;&gt;", "values are escaped")
	assert.Contains(t, page, "<td>boss@example.com</td></tr>", "the manager is shown by userName")
	assert.Contains(t, page, "<td>Staff</td><td>1</td>")
	assert.True(t, strings.Contains(page, `class="inactive"`))

	resp, err = http.Get(s.url + "/?users=99")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestConcurrentAccess reads and patches the same resources from many
// goroutines; run with -race it checks that readers never see a resource
// being changed.
func TestConcurrentAccess(t *testing.T) {
	s := start(t, Options{})
	uid := s.createUser(map[string]any{"userName": "shared", "emails": []any{map[string]any{"type": "work", "value": "a@x"}}})
	gid := s.createGroup("Shared")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				switch (i + j) % 4 {
				case 0:
					s.patch("/Users/"+uid, map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": fmt.Sprintf("%d-%d@x", i, j)})
				case 1:
					s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fmt.Sprintf("m%d-%d", i, j)}}})
				case 2:
					s.get("/Users/" + uid)
					s.get("/Groups/" + gid)
				default:
					s.list("/Users", `userName eq "shared"`)
					s.app.Groups()
				}
			}
		})
	}
	wg.Wait()
	assert.Len(t, s.get("/Groups/" + gid)["members"], 40)
}
