package scim

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	workEmail  = `emails[type eq "work"].value`
	mobile     = `phoneNumbers[type eq "mobile"].value`
	department = EnterpriseSchema + ":department"
	manager    = EnterpriseSchema + ":manager"
)

func TestUserLifecycle(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)

	bossID, err := c.Create(x, connectors.User, connectors.Attributes{"userName": "boss@example.com", "active": true})
	require.NoError(t, err)
	id, err := c.Create(x, connectors.User, connectors.Attributes{
		"userName":                           "ada@example.com",
		"externalId":                         "ada",
		"active":                             "True", // as Azure's Switch() yields it
		"name.givenName":                     "Ada",
		"name.familyName":                    "Lovelace",
		workEmail:                            "ada@example.com",
		`emails[type eq "work"].primary`:     true,
		`addresses[type eq "work"].locality`: "London",
		department:                           "Engines",
		manager:                              bossID,
		"title":                              nil, // empty values are left out
	})
	require.NoError(t, err)

	post := decode(t, e.rec.take(http.MethodPost)[1].Body)
	assert.Equal(t, []any{UserSchema, EnterpriseSchema}, post["schemas"])
	assert.Equal(t, true, post["active"])
	assert.Equal(t, []any{map[string]any{"type": "work", "value": "ada@example.com", "primary": true}}, post["emails"])
	assert.Equal(t, map[string]any{"value": bossID}, post[EnterpriseSchema].(map[string]any)["manager"])
	assert.NotContains(t, post, "title")

	got, err := c.Get(x, connectors.User, id)
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.True(t, got.Active)
	for k, v := range map[string]any{
		"userName": "ada@example.com", "externalId": "ada", "name.givenName": "Ada",
		workEmail: "ada@example.com", `emails[type eq "work"].primary`: true,
		`addresses[type eq "work"].locality`: "London", department: "Engines", manager: bossID,
	} {
		assert.Equal(t, v, got.Attributes[k], k)
	}

	for _, q := range []struct {
		attr  string
		value any
	}{{"userName", "ADA@example.com"}, {"externalId", "ada"}, {workEmail, "ada@example.com"}, {"id", id}} {
		found, err := c.Find(x, connectors.User, q.attr, q.value)
		require.NoError(t, err, q.attr)
		require.Len(t, found, 1, q.attr)
		assert.Equal(t, id, found[0].ID)
	}
	found, err := c.Find(x, connectors.User, "userName", "nobody")
	require.NoError(t, err)
	assert.Empty(t, found)

	require.NoError(t, c.Update(x, connectors.User, id, []connectors.Change{
		{Attribute: "name.givenName", Old: "Ada", New: "Augusta"},
		{Attribute: "title", New: "Countess"},
		{Attribute: workEmail, Old: "ada@example.com", New: "augusta@example.com"},
		{Attribute: mobile, New: "+44 20 0000"},
		{Attribute: department, Old: "Engines", New: nil},
	}))
	got, err = c.Get(x, connectors.User, id)
	require.NoError(t, err)
	assert.Equal(t, "Augusta", got.Attributes["name.givenName"])
	assert.Equal(t, "Lovelace", got.Attributes["name.familyName"])
	assert.Equal(t, "Countess", got.Attributes["title"])
	assert.Equal(t, "augusta@example.com", got.Attributes[workEmail])
	assert.Equal(t, "+44 20 0000", got.Attributes[mobile])
	assert.NotContains(t, got.Attributes, department)
	assert.Equal(t, bossID, got.Attributes[manager])

	require.NoError(t, c.SetActive(x, connectors.User, id, false))
	got, err = c.Get(x, connectors.User, id)
	require.NoError(t, err)
	assert.False(t, got.Active)
	found, err = c.Find(x, connectors.User, "userName", "ada@example.com")
	require.NoError(t, err)
	require.Len(t, found, 1, "a disabled user is still found")
	assert.False(t, found[0].Active)

	require.NoError(t, c.Delete(x, connectors.User, id))
	_, err = c.Get(x, connectors.User, id)
	assert.True(t, errors.Is(err, connectors.ErrNotFound), "%v", err)
	assert.Equal(t, connectors.KindNotFound, connectorError(t, err).Kind)
	assert.NoError(t, c.Delete(x, connectors.User, id), "deleting an absent object succeeds")
}

func TestGroupLifecycle(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Admins", "externalId": "g1"})
	require.NoError(t, err)
	found, err := c.Find(x, connectors.Group, "displayName", "admins")
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, gid, found[0].ID)
	assert.Equal(t, "Admins", found[0].Attributes["displayName"])
	assert.Contains(t, e.rec.take(http.MethodGet)[0].Path, "/Groups")

	require.NoError(t, c.Update(x, connectors.Group, gid, []connectors.Change{{Attribute: "displayName", Old: "Admins", New: "Operators"}}))
	got, err := c.Get(x, connectors.Group, gid)
	require.NoError(t, err)
	assert.Equal(t, "Operators", got.Attributes["displayName"])

	err = c.SetActive(x, connectors.Group, gid, false)
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)
	require.NoError(t, c.Delete(x, connectors.Group, gid))
	assert.Empty(t, e.app.Groups())
}

func TestFindQuotesValues(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	for _, name := range []string{`say "hi"`, `back\slash`, `both \"`, `ünïcode & <tags>`} {
		id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": name})
		require.NoError(t, err)
		e.rec.take("")
		found, err := c.Find(x, connectors.User, "userName", name)
		require.NoError(t, err, name)
		require.Len(t, found, 1, name)
		assert.Equal(t, id, found[0].ID)
		assert.Equal(t, name, found[0].Attributes["userName"])
	}
	e.rec.take("")
	_, err := c.Find(x, connectors.User, "userName", `a"b\c`)
	require.NoError(t, err)
	assert.Equal(t, `userName eq "a\"b\\c"`, e.rec.take(http.MethodGet)[0].Query)
}

func TestFindRejectsIgnoredFilter(t *testing.T) {
	// A service that ignores filters answers every query with its users.
	ignoring := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del("filter")
			r.URL.RawQuery = q.Encode()
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, ignoring)
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "someone"})
	require.NoError(t, err)
	_, err = e.client.Find(ctx(t), connectors.User, "userName", "someone-else")
	assert.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
	err = e.client.TestConnection(ctx(t))
	assert.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
}

func TestErrorKinds(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	_, err := c.Create(x, connectors.User, connectors.Attributes{"userName": "dup"})
	require.NoError(t, err)

	_, err = c.Create(x, connectors.User, connectors.Attributes{"userName": "DUP"})
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindConflict, ce.Kind)
	assert.Equal(t, http.StatusConflict, ce.Status)
	assert.Equal(t, "POST /Users", ce.Op)
	assert.Contains(t, ce.Detail, "uniqueness")

	_, err = c.Create(x, connectors.User, connectors.Attributes{"displayName": "no userName"})
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)

	err = c.Update(x, connectors.User, "missing", []connectors.Change{{Attribute: "title", New: "x"}})
	assert.Equal(t, connectors.KindNotFound, connectorError(t, err).Kind)

	_, err = c.Find(x, connectors.User, "emails[type eq", "x")
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)
	_, err = c.Get(x, "Device", "1")
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)
}

func TestNotAListResponse(t *testing.T) {
	single := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			_, _ = w.Write([]byte(`{"id":"1","userName":"x"}`))
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, single)
	_, err := e.client.Find(ctx(t), connectors.User, "userName", "x")
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindServiceIncompatible, ce.Kind)
	assert.Contains(t, ce.Detail, "ListResponse")

	html := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`<html>login</html>`))
		})
	}
	e = setup(t, sampleapp.Options{}, Config{}, html)
	_, err = e.client.Get(ctx(t), connectors.User, "1")
	assert.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
}

func TestMemberBatching(t *testing.T) {
	for _, dialect := range []string{DialectRFC, DialectAzure} {
		t.Run(dialect, func(t *testing.T) {
			e := setup(t, sampleapp.Options{}, Config{Dialect: dialect, MemberBatchSize: 100}, nil)
			c, x := e.client, ctx(t)
			gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Everyone"})
			require.NoError(t, err)
			var ids []string
			for i := range 250 {
				id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": "member" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('0'+i/26))})
				require.NoError(t, err)
				ids = append(ids, id)
			}
			e.app.ResetStats()

			require.NoError(t, c.AddMembers(x, gid, ids))
			assert.Equal(t, 3, e.app.Stats().Requests["PATCH /Groups"], "250 members in batches of 100")
			assert.Len(t, e.app.Groups()[0].Attributes["members"], 250)

			e.app.ResetStats()
			require.NoError(t, c.RemoveMembers(x, gid, ids[:120]))
			assert.Equal(t, 2, e.app.Stats().Requests["PATCH /Groups"])
			members := e.app.Groups()[0].Attributes["members"].([]any)
			require.Len(t, members, 130)
			assert.Equal(t, ids[120], members[0].(map[string]any)["value"])

			require.NoError(t, c.AddMembers(x, gid, nil), "nothing to add sends nothing")
			assert.Equal(t, 2, e.app.Stats().Requests["PATCH /Groups"])
			err = c.AddMembers(x, "missing", ids[:1])
			assert.Equal(t, connectors.KindNotFound, connectorError(t, err).Kind)
		})
	}
}
