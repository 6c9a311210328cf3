package scim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
)

// A create written into its shape is byte for byte the body of the
// resource built from the same attributes, whatever the values, and a
// shape serves every create with the same attributes.
func TestCreateBodiesFromShapesAreTheBuiltOnes(t *testing.T) {
	many := connectors.Attributes{}
	for i := range maxNames + 1 {
		many[fmt.Sprintf("x%02d", i)] = "v"
	}
	cases := map[string]struct {
		t     connectors.ObjectType
		azure bool
		attrs []connectors.Attributes
	}{
		"users as a mapping makes them": {connectors.User, false, []connectors.Attributes{benchUser(1), benchUser(2), benchUser(3)}},
		"values of every kind": {connectors.User, true, []connectors.Attributes{
			{"userName": "a<b>&c@example.com", "active": "True", "name.givenName": "Ada\u2028", workEmail: "x\xff@example.com",
				`emails[type eq "home"].value`: "h@example.com", department: "R&D", `phoneNumbers[type eq "work"].value`: []string{"1", "2"},
				EnterpriseSchema + ":manager": "m-1", "x.count": 3, "x.ratio": 0.25, "nickName": "\u0000slot\u00000"},
			{"userName": "b@example.com", "active": false, "name.givenName": "Bo", workEmail: "b@example.com",
				`emails[type eq "home"].value`: "hb@example.com", department: "Ops", `phoneNumbers[type eq "work"].value`: []string{"3"},
				EnterpriseSchema + ":manager": "m-2", "x.count": 4, "x.ratio": 1.5, "nickName": `"quoted"`},
		}},
		"a value empty leaves its attribute out": {connectors.User, false, []connectors.Attributes{
			{"userName": "a", "title": "", "displayName": nil, "phoneNumbers": []string{}},
			{"userName": "b", "title": "T", "displayName": "D", "phoneNumbers": []string{"1"}},
		}},
		"an attribute and its sub-attribute": {connectors.User, false, []connectors.Attributes{{"name": "whole", "name.givenName": "G", "userName": "u"}}},
		"two filters on one attribute": {connectors.User, false, []connectors.Attributes{{
			`emails[type eq "work"].value`: "w", `emails[type eq "work"].primary`: "true", `emails[type eq "home"].value`: "h", "userName": "u",
		}}},
		"a filter's own attribute set": {connectors.User, false, []connectors.Attributes{
			{`emails[type eq "work"].type`: "work", `emails[type eq "work"].value`: "w", "userName": "u"},
			{`emails[type eq "work"].type`: "home", `emails[type eq "work"].value`: "w", "userName": "u"},
		}},
		"groups": {connectors.Group, true, []connectors.Attributes{
			{"displayName": "G", "members": []string{"a", "b"}},
			{"displayName": "H", "members": []any{"c"}},
		}},
		"more attributes than a shape takes": {connectors.User, false, []connectors.Attributes{many}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Config{}
			if tc.azure {
				cfg.Dialect = DialectAzure
			}
			c := &Client{cfg: cfg.withDefaults()}
			for range 2 {
				for _, attrs := range tc.attrs {
					requireBuiltBody(t, c, tc.t, attrs)
				}
			}
		})
	}
}

// Users of the same attributes share one shape, and their bodies are
// written without building anything.
func TestCreatesOfTheSameAttributesShareAShape(t *testing.T) {
	c := &Client{cfg: Config{}.withDefaults()}
	for i := range 3 {
		_, err := c.encodeResource(connectors.User, benchUser(i))
		require.NoError(t, err)
	}
	require.Len(t, c.shapes.byID, 1)
	require.Len(t, c.shapes.last[connectors.User].slots, len(benchUser(0)))
	user := benchUser(4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.encodeResource(connectors.User, user); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 2.0, "the body's buffer, and a boxed value at most")
}

func TestCreateBodyOfAnInvalidPathIsRefused(t *testing.T) {
	c := &Client{cfg: Config{}.withDefaults()}
	_, err := c.encodeResource(connectors.User, connectors.Attributes{"emails[type eq": "x"})
	require.ErrorContains(t, err, "is not valid SCIM")
}

func FuzzCreateBodiesFromShapes(f *testing.F) {
	f.Add("a@example.com", "Ada", "True", "R&D", "m-1")
	f.Add("\u0000slot\u00001", "\"", "no", "", "\\")
	c := &Client{cfg: Config{}.withDefaults()}
	f.Fuzz(func(t *testing.T, user, given, active, dept, manager string) {
		attrs := connectors.Attributes{"userName": user, "name.givenName": given, "active": active, department: dept,
			EnterpriseSchema + ":manager": manager, `emails[type eq "work"].value`: user}
		requireBuiltBody(t, c, connectors.User, attrs)
	})
}

// requireBuiltBody checks that the body of a create of attrs is the
// built resource's.
func requireBuiltBody(t *testing.T, c *Client, typ connectors.ObjectType, attrs connectors.Attributes) {
	t.Helper()
	res, err := c.buildResource(typ, attrs)
	require.NoError(t, err)
	want, err := encodeBody(res)
	require.NoError(t, err)
	got, err := c.encodeResource(typ, attrs)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}
