package graph_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	_ "github.com/openprovisioning/provisioner/connectors/all"
	"github.com/openprovisioning/provisioner/connectors/graph"
)

// The example job "Entra ID → apps" reads and validates.
func TestExampleEntraToApps(t *testing.T) {
	t.Setenv("PROVISIONING_SECRET_ENTRA", "client-secret")
	t.Setenv("PROVISIONING_SECRET_APP", "app-token")
	job, err := config.Load(filepath.Join("..", "..", "examples", "entra-to-apps.yaml"))
	require.NoError(t, err)
	require.NoError(t, job.Validate())
	require.Equal(t, "graph", job.Source.Key())
	src := job.Source.Connector.(*graph.Config)
	require.Equal(t, "contoso.onmicrosoft.com", src.Tenant)
	require.NotEmpty(t, src.ServicePrincipal)
}
