package scim

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patchBodies runs fn and returns the PATCH bodies it sent, as JSON text.
func patchBodies(t *testing.T, e *env, fn func()) []string {
	t.Helper()
	e.rec.take("")
	fn()
	var out []string
	for _, r := range e.rec.take(http.MethodPatch) {
		var v any
		require.NoError(t, json.Unmarshal(r.Body, &v))
		canonical, err := json.Marshal(v)
		require.NoError(t, err)
		out = append(out, string(canonical))
	}
	return out
}

func TestPatchBodies(t *testing.T) {
	const schemas = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	changes := []connectors.Change{
		{Attribute: "name.familyName", Old: "Smith", New: "Jones"},
		{Attribute: "nickName", New: "Babs"},
		{Attribute: workEmail, Old: "a@x.example", New: "b@x.example"},
		{Attribute: mobile, New: "+1 555"},
		{Attribute: `phoneNumbers[type eq "mobile"].display`, New: "mobile"},
		{Attribute: "title", Old: "Boss", New: nil},
		{Attribute: `emails[type eq "home"].value`, Old: "h@x.example", New: ""},
		{Attribute: manager, New: "m-1"},
	}
	want := map[string]struct{ update, disable, enable, add, remove string }{
		DialectRFC: {
			update: `{"Operations":[` +
				`{"op":"replace","path":"name.familyName","value":"Jones"},` +
				`{"op":"replace","path":"nickName","value":"Babs"},` +
				`{"op":"replace","path":"emails[type eq \"work\"].value","value":"b@x.example"},` +
				`{"op":"add","path":"phoneNumbers","value":[{"display":"mobile","type":"mobile","value":"+1 555"}]},` +
				`{"op":"remove","path":"title"},` +
				`{"op":"remove","path":"emails[type eq \"home\"]"},` +
				`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m-1"}}],` + schemas + `}`,
			disable: `{"Operations":[{"op":"replace","path":"active","value":false}],` + schemas + `}`,
			enable:  `{"Operations":[{"op":"replace","path":"active","value":true}],` + schemas + `}`,
			add:     `{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"}]}],` + schemas + `}`,
			remove:  `{"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"remove","path":"members[value eq \"u2\"]"}],` + schemas + `}`,
		},
		DialectAzure: {
			update: `{"Operations":[` +
				`{"op":"Replace","path":"name.familyName","value":"Jones"},` +
				`{"op":"Add","path":"nickName","value":"Babs"},` +
				`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"b@x.example"},` +
				`{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"},` +
				`{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].display","value":"mobile"},` +
				`{"op":"Remove","path":"title"},` +
				`{"op":"Remove","path":"emails[type eq \"home\"]"},` +
				`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m-1"}}],` + schemas + `}`,
			disable: `{"Operations":[{"op":"Replace","path":"active","value":"False"}],` + schemas + `}`,
			enable:  `{"Operations":[{"op":"Replace","path":"active","value":"True"}],` + schemas + `}`,
			add:     `{"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"$ref":null,"value":"u2"}]}],` + schemas + `}`,
			remove:  `{"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"},{"$ref":null,"value":"u2"}]}],` + schemas + `}`,
		},
	}
	for dialect, w := range want {
		t.Run(dialect, func(t *testing.T) {
			e := setup(t, sampleapp.Options{}, Config{Dialect: dialect}, nil)
			c, x := e.client, ctx(t)
			id, err := c.Create(x, connectors.User, connectors.Attributes{
				"userName": "patched", "name.familyName": "Smith", "title": "Boss",
				workEmail: "a@x.example", `emails[type eq "home"].value`: "h@x.example",
			})
			require.NoError(t, err)
			gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "G"})
			require.NoError(t, err)

			assert.Equal(t, []string{w.update}, patchBodies(t, e, func() {
				require.NoError(t, c.Update(x, connectors.User, id, changes))
			}))
			assert.Equal(t, []string{w.disable}, patchBodies(t, e, func() {
				require.NoError(t, c.SetActive(x, connectors.User, id, false))
			}))
			assert.Equal(t, []string{w.enable}, patchBodies(t, e, func() {
				require.NoError(t, c.SetActive(x, connectors.User, id, true))
			}))
			assert.Equal(t, []string{w.add}, patchBodies(t, e, func() {
				require.NoError(t, c.AddMembers(x, gid, []string{"u1", "u2"}))
			}))
			assert.Equal(t, []string{w.remove}, patchBodies(t, e, func() {
				require.NoError(t, c.RemoveMembers(x, gid, []string{"u1", "u2"}))
			}))

			// Both dialects leave the sample application in the same state.
			got, err := c.Get(x, connectors.User, id)
			require.NoError(t, err)
			assert.True(t, got.Active)
			for k, v := range map[string]any{
				"name.familyName": "Jones", "nickName": "Babs", workEmail: "b@x.example",
				mobile: "+1 555", `phoneNumbers[type eq "mobile"].display`: "mobile", manager: "m-1",
			} {
				assert.Equal(t, v, got.Attributes[k], k)
			}
			assert.NotContains(t, got.Attributes, "title")
			assert.NotContains(t, got.Attributes, `emails[type eq "home"].value`)
		})
	}
}

func TestUpdateWithoutChangesSendsNothing(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	assert.Empty(t, patchBodies(t, e, func() {
		require.NoError(t, e.client.Update(ctx(t), connectors.User, "any", nil))
	}))
}

func TestCreateGroupSchemas(t *testing.T) {
	for dialect, want := range map[string][]any{
		DialectRFC:   {GroupSchema},
		DialectAzure: {GroupSchema, azureGroupSchema},
	} {
		e := setup(t, sampleapp.Options{}, Config{Dialect: dialect}, nil)
		_, err := e.client.Create(ctx(t), connectors.Group, connectors.Attributes{"displayName": "G", "externalId": "g"})
		require.NoError(t, err)
		post := decode(t, e.rec.take(http.MethodPost)[0].Body)
		assert.Equal(t, want, post["schemas"], dialect)
		assert.NotContains(t, post, "members")
	}
}
