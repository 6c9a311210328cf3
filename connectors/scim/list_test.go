package scim

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/scimfault"
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
	require.Len(t, e.rec.take(http.MethodGet), 4+len(ids), "three pages of at most three, the empty page that ends the listing, then the Gets")

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
	e, _ := faulty(t, sampleapp.Options{MaxResults: 2}, scimfault.IgnoreStartIndex)
	users(t, e.client, 5)
	err := e.client.List(ctx(t), connectors.User, func(connectors.TargetObject) error { return nil })
	require.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
}

// A service that loses objects between pages fails the listing: the
// engine would create the objects it left out again.
func TestListRefusesObjectsLostBetweenPages(t *testing.T) {
	e, _ := faulty(t, sampleapp.Options{MaxResults: 2}, scimfault.DropBetweenPages)
	users(t, e.client, 5)
	err := e.client.List(ctx(t), connectors.User, func(connectors.TargetObject) error { return nil })
	require.Equal(t, connectors.KindServerError, connectorError(t, err).Kind)
}

// A totalResults lower than what the service holds does not end the
// listing: it goes on until a page comes back empty.
func TestListReadsPastLowTotal(t *testing.T) {
	e, p := faulty(t, sampleapp.Options{MaxResults: 2}, scimfault.LowTotal)
	want := users(t, e.client, 5)
	var got []string
	require.NoError(t, e.client.List(ctx(t), connectors.User, func(o connectors.TargetObject) error {
		got = append(got, o.ID)
		return nil
	}))
	require.Equal(t, want, got)
	require.Positive(t, p.Faulted())
}
