package scim

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/stretchr/testify/require"
)

// List reads every object once, page by page, as Get reads it.
func TestListReadsEveryObject(t *testing.T) {
	e := setup(t, sampleapp.Options{MaxResults: 3}, Config{}, nil)
	c, x := e.client, ctx(t)
	var ids []string
	for i := range 7 {
		id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": fmt.Sprintf("u%d@example.com", i), "externalId": fmt.Sprint(i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Staff"})
	require.NoError(t, err)
	require.NoError(t, c.AddMembers(x, gid, ids[:2]))
	e.rec.take("")

	listed := map[string]connectors.TargetObject{}
	require.NoError(t, c.List(x, connectors.User, func(o connectors.TargetObject) error {
		require.NotContains(t, listed, o.ID, "listed once")
		listed[o.ID] = o
		return nil
	}))
	require.Len(t, listed, len(ids))
	for _, id := range ids {
		got, err := c.Get(x, connectors.User, id)
		require.NoError(t, err)
		require.Equal(t, got, listed[id])
	}
	require.Len(t, e.rec.take(http.MethodGet), 3+len(ids), "three pages of at most three, then the Gets")

	var groups []connectors.TargetObject
	require.NoError(t, c.List(x, connectors.Group, func(o connectors.TargetObject) error {
		groups = append(groups, o)
		return nil
	}))
	require.Len(t, groups, 1)
	require.Equal(t, "Staff", groups[0].Attributes["displayName"])
	require.NotContains(t, groups[0].Attributes, "members")
}

// A service that ignores startIndex answers every page with the first one:
// the listing is refused rather than taken for a target with few objects.
func TestListRefusesIncompleteListing(t *testing.T) {
	firstPageOnly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del("startIndex")
			r.URL.RawQuery = q.Encode()
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{MaxResults: 2}, Config{}, firstPageOnly)
	c, x := e.client, ctx(t)
	for i := range 5 {
		_, err := c.Create(x, connectors.User, connectors.Attributes{"userName": fmt.Sprintf("u%d@example.com", i)})
		require.NoError(t, err)
	}
	err := c.List(x, connectors.User, func(connectors.TargetObject) error { return nil })
	require.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
}
