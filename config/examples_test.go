package config_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	_ "github.com/openprovisioning/provisioner/connectors/all"
)

// Every example job in examples/ validates as the starter validates it,
// with the environment variables it names set.
func TestExamplesValidate(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			job, err := config.Load(name)
			require.NoError(t, err)
			for _, conn := range []any{job.Source.Connector, job.Target.Connector} {
				if n, ok := conn.(connectors.SecretNamer); ok {
					for _, s := range n.Secrets() {
						if s.Value.Env != "" {
							t.Setenv(s.Value.Env, "example-secret")
						}
					}
				}
			}
			require.NoError(t, job.Validate())
		})
	}
}
