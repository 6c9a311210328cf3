package sampleapp

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newPatchUser(s *server) string {
	return s.createUser(map[string]any{
		"userName": "pat",
		"active":   true,
		"name":     map[string]any{"givenName": "Pat", "familyName": "Smith"},
		"emails": []any{
			map[string]any{"type": "work", "value": "pat@work.example", "primary": true},
			map[string]any{"type": "home", "value": "pat@home.example"},
		},
		"phoneNumbers": []any{map[string]any{"type": "mobile", "value": "+1 555 0100"}},
		EnterpriseSchema: map[string]any{
			"department": "Ops",
		},
	})
}

func email(u map[string]any, typ string) any {
	for _, e := range asList(u["emails"]) {
		if m := e.(map[string]any); m["type"] == typ {
			return m["value"]
		}
	}
	return nil
}

func TestPatchRFC(t *testing.T) {
	s := start(t, Options{})
	id := newPatchUser(s)
	boss := s.createUser(user("boss"))

	status, body := s.patch("/Users/"+id,
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "new@work.example"},
		map[string]any{"op": "replace", "path": "name.familyName", "value": "Jones"},
		map[string]any{"op": "add", "path": "title", "value": "Engineer"},
		map[string]any{"op": "remove", "path": `emails[type eq "home"]`},
		map[string]any{"op": "remove", "path": "phoneNumbers"},
		map[string]any{"op": "replace", "path": EnterpriseSchema + ":department", "value": "Dev"},
		map[string]any{"op": "replace", "path": EnterpriseSchema + ":manager", "value": map[string]any{"value": boss}},
		map[string]any{"op": "replace", "path": "active", "value": false},
	)
	require.Equal(t, http.StatusOK, status, body)

	u := s.get("/Users/" + id)
	assert.Equal(t, "new@work.example", email(u, "work"))
	assert.Nil(t, email(u, "home"))
	assert.Len(t, u["emails"], 1)
	assert.Equal(t, true, u["emails"].([]any)[0].(map[string]any)["primary"], "other sub-attributes stay")
	assert.Equal(t, map[string]any{"givenName": "Pat", "familyName": "Jones"}, u["name"])
	assert.Equal(t, "Engineer", u["title"])
	assert.NotContains(t, u, "phoneNumbers")
	assert.Equal(t, false, u["active"])
	ext := u[EnterpriseSchema].(map[string]any)
	assert.Equal(t, "Dev", ext["department"])
	assert.Equal(t, boss, ext["manager"].(map[string]any)["value"])

	status, body = s.patch("/Users/"+id,
		map[string]any{"op": "remove", "path": "name.givenName"},
		map[string]any{"op": "remove", "path": EnterpriseSchema + ":manager"},
		map[string]any{"op": "remove", "path": EnterpriseSchema + ":department"},
	)
	require.Equal(t, http.StatusOK, status, body)
	u = s.get("/Users/" + id)
	assert.Equal(t, map[string]any{"familyName": "Jones"}, u["name"])
	assert.NotContains(t, u, EnterpriseSchema, "an emptied extension disappears")
}

func TestPatchCreatesElementForValuePath(t *testing.T) {
	s := start(t, Options{})
	id := s.createUser(user("nomail"))
	status, body := s.patch("/Users/"+id,
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "w@example.com"},
		map[string]any{"op": "add", "path": `addresses[type eq "work"].postalCode`, "value": "1000"},
		map[string]any{"op": "add", "path": `addresses[type eq "work"].locality`, "value": "Brussels"},
	)
	require.Equal(t, http.StatusOK, status, body)
	u := s.get("/Users/" + id)
	assert.Equal(t, []any{map[string]any{"type": "work", "value": "w@example.com"}}, u["emails"])
	assert.Equal(t, []any{map[string]any{"type": "work", "postalCode": "1000", "locality": "Brussels"}}, u["addresses"])

	status, _ = s.patch("/Users/"+id, map[string]any{"op": "replace", "path": `emails[type eq "work" or type eq "home"].value`, "value": "x"})
	assert.Equal(t, http.StatusOK, status, "an or-filter matches the existing work e-mail")
	status, body = s.patch("/Users/"+id, map[string]any{"op": "replace", "path": `phoneNumbers[type ne "work"].value`, "value": "x"})
	assert.Equal(t, http.StatusBadRequest, status, "nothing matched and the filter cannot seed an element")
	assert.Equal(t, "noTarget", body["scimType"])
}

func TestPatchAzureDialect(t *testing.T) {
	s := start(t, Options{})
	id := newPatchUser(s)

	// Default Azure requests: capitalised ops and string booleans.
	status, body := s.patch("/Users/"+id,
		map[string]any{"op": "Replace", "path": "active", "value": "False"},
		map[string]any{"op": "Add", "path": "nickName", "value": "Babs"},
	)
	require.Equal(t, http.StatusOK, status, body)
	u := s.get("/Users/" + id)
	assert.Equal(t, false, u["active"])
	assert.Equal(t, "Babs", u["nickName"])

	// aadOptscim062020: one path op plus a path-less replace with dotted keys.
	status, body = s.patch("/Users/"+id,
		map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "azure@work.example"},
		map[string]any{"op": "replace", "value": map[string]any{
			"displayName":                        "Pat J",
			"name.givenName":                     "Patricia",
			"name.familyName":                    "Jones",
			EnterpriseSchema + ":employeeNumber": "42",
			"active":                             true,
		}},
	)
	require.Equal(t, http.StatusOK, status, body)
	u = s.get("/Users/" + id)
	assert.Equal(t, "azure@work.example", email(u, "work"))
	assert.Equal(t, "Pat J", u["displayName"])
	assert.Equal(t, map[string]any{"givenName": "Patricia", "familyName": "Jones"}, u["name"])
	assert.Equal(t, "42", u[EnterpriseSchema].(map[string]any)["employeeNumber"])
	assert.Equal(t, "Ops", u[EnterpriseSchema].(map[string]any)["department"], "untouched extension attributes stay")
	assert.Equal(t, true, u["active"])

	// Path-less replace with an extension URN holding its attributes.
	status, body = s.patch("/Users/"+id, map[string]any{"op": "Replace", "value": map[string]any{
		EnterpriseSchema: map[string]any{"department": "Legal"},
	}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "Legal", s.get("/Users/" + id)[EnterpriseSchema].(map[string]any)["department"])

	status, _ = s.patch("/Users/"+id, map[string]any{"op": "replace", "path": "active", "value": "maybe"})
	assert.Equal(t, http.StatusBadRequest, status)
	status, _ = s.patch("/Users/"+id, map[string]any{"op": "frobnicate", "path": "active", "value": true})
	assert.Equal(t, http.StatusBadRequest, status)
}

func TestPatchMembers(t *testing.T) {
	s := start(t, Options{})
	gid := s.createGroup("Team")
	var members []string
	for _, name := range []string{"a", "b", "c", "d"} {
		members = append(members, s.createUser(user(name)))
	}
	values := func(ids ...string) []any {
		var out []any
		for _, id := range ids {
			out = append(out, map[string]any{"value": id})
		}
		return out
	}
	memberIDs := func() []string {
		var out []string
		for _, m := range asList(s.get("/Groups/" + gid)["members"]) {
			out = append(out, m.(map[string]any)["value"].(string))
		}
		return out
	}

	status, _ := s.patch("/Groups/"+gid, map[string]any{"op": "Add", "path": "members", "value": []any{
		map[string]any{"$ref": nil, "value": members[0]}, map[string]any{"$ref": nil, "value": members[1]},
	}})
	require.Equal(t, http.StatusNoContent, status)
	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": values(members[2:]...)})
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, members, memberIDs())

	// RFC removal by filter, several in one request.
	status, _ = s.patch("/Groups/"+gid,
		map[string]any{"op": "remove", "path": `members[value eq "` + members[0] + `"]`},
		map[string]any{"op": "remove", "path": `members[value eq "` + members[2] + `"]`},
	)
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, []string{members[1], members[3]}, memberIDs())

	// A single removal by filter takes the generic path.
	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "remove", "path": `members[value eq "` + members[1] + `"]`})
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, []string{members[3]}, memberIDs())
	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": values(members[1])})
	require.Equal(t, http.StatusNoContent, status)

	// Azure removal: the members to drop are listed as the value.
	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "Remove", "path": "members", "value": values(members[3])})
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, []string{members[1]}, memberIDs())

	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "Replace", "path": "displayName", "value": "Renamed"})
	require.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, "Renamed", s.get("/Groups/" + gid)["displayName"])

	status, _ = s.patch("/Groups/"+gid, map[string]any{"op": "remove", "path": "members"})
	require.Equal(t, http.StatusNoContent, status)
	assert.Empty(t, memberIDs())

	status, _ = s.patch("/Groups/does-not-exist", map[string]any{"op": "remove", "path": "members"})
	assert.Equal(t, http.StatusNotFound, status)
}

func TestPatchPrimaryStaysUnique(t *testing.T) {
	s := start(t, Options{})
	id := newPatchUser(s)
	status, body := s.patch("/Users/"+id, map[string]any{"op": "add", "path": "emails", "value": []any{
		map[string]any{"type": "other", "value": "o@example.com", "primary": true},
	}})
	require.Equal(t, http.StatusOK, status, body)
	primaries := 0
	for _, e := range asList(s.get("/Users/" + id)["emails"]) {
		if e.(map[string]any)["primary"] == true {
			primaries++
		}
	}
	assert.Equal(t, 1, primaries)
}
