package scim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSourceGet(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	var ids []string
	for i, name := range []string{"ann", "bob", "cy"} {
		id, err := c.Create(x, connectors.User, connectors.Attributes{
			"userName": name, "active": i != 1, workEmail: name + "@example.com", department: "D",
		})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Staff"})
	require.NoError(t, err)
	require.NoError(t, c.AddMembers(x, gid, ids[:2]))

	src, err := Config{BaseURL: e.url + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}}.openSource(x, nil)
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })

	// Each object is what a read lists; attributes are not sent, as a
	// read sends none.
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		listed, _, _ := readAll(t, c, typ, "", 0)
		require.NotEmpty(t, listed)
		for _, want := range listed {
			for _, attrs := range [][]string{nil, {"userName", "displayName"}} {
				got, err := src.Get(x, typ, want.ID, attrs)
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
		}
	}

	e.rec.take("")
	bob, err := src.Get(x, connectors.User, ids[1], nil)
	require.NoError(t, err)
	assert.True(t, bob.Disabled)
	assert.Equal(t, "/Users/"+ids[1], bob.Locator)
	assert.Equal(t, "bob@example.com", bob.Attributes[workEmail])
	assert.Equal(t, "D", bob.Attributes[department])
	reqs := e.rec.take("")
	require.Len(t, reqs, 1)
	assert.Equal(t, recorded{Method: http.MethodGet, Path: "/scim/v2/Users/" + ids[1], Body: []byte{}}, reqs[0])

	staff, err := src.Get(x, connectors.Group, gid, nil)
	require.NoError(t, err)
	assert.Equal(t, ids[:2], staff.Members)
	assert.Equal(t, "Staff", staff.Attributes["displayName"])
	assert.Equal(t, "/Groups/"+gid, staff.Locator)

	for _, tt := range []struct {
		typ connectors.ObjectType
		id  string
	}{{connectors.User, "nobody"}, {connectors.Group, ids[0]}, {connectors.User, gid}} {
		_, err := src.Get(x, tt.typ, tt.id, nil)
		assert.Equal(t, connectors.KindNotFound, connectorError(t, err).Kind, "%s %s", tt.typ, tt.id)
		assert.True(t, errors.Is(err, connectors.ErrNotFound))
	}
	_, err = src.Get(x, "Device", ids[0], nil)
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)
}

// A service that cannot be reached fails a Get as it fails a read.
func TestSourceGetUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	t.Setenv("SCIM_TEST_TOKEN", testToken)
	src, err := Config{BaseURL: "http://" + addr + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}, MaxRetries: 1}.openSource(context.Background(), nil)
	require.NoError(t, err)
	src.http.RetryWaitMin = 5 * time.Millisecond
	t.Cleanup(func() { src.Close() })
	_, err = src.Get(ctx(t), connectors.User, "x", nil)
	assert.Equal(t, connectors.KindUnavailable, connectorError(t, err).Kind)
	_, err = src.Read(ctx(t), connectors.ReadRequest{Type: connectors.User})
	assert.Equal(t, connectors.KindUnavailable, connectorError(t, err).Kind)
}
