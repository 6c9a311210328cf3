package config_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	_ "github.com/openprovisioning/provisioner/connectors/all"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
)

func TestConnectionFieldsAreStrict(t *testing.T) {
	_, err := config.Parse([]byte(strings.Replace(valid, "baseURL:", "baseURLs:", 1)))
	require.ErrorContains(t, err, "target.scim: field baseURLs not found")
	_, err = config.Parse([]byte(strings.Replace(valid, "  scim:", "  scimm:", 1)))
	require.ErrorContains(t, err, "field scimm not found in type config.Target")
}

func TestConnectionJSONRoundTrip(t *testing.T) {
	job, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	b, err := json.Marshal(job)
	require.NoError(t, err)
	require.Contains(t, string(b), `"target":{"application":"app","scim":{"baseURL":`)
	require.Contains(t, string(b), `"source":{"file":{"path":"hr.csv"`)
	var back config.Job
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, job.Source, back.Source)
	require.Equal(t, "scim", back.Target.Key())
	require.Equal(t, job.Target.Connector.(*scim.Config).BaseURL, back.Target.Connector.(*scim.Config).BaseURL)
}

func TestConnectionExactlyOne(t *testing.T) {
	var job config.Job
	require.NoError(t, json.Unmarshal([]byte(`{"name":"x","source":{"file":{"path":"a.csv","idColumn":"id"},"scim":{"baseURL":"https://x"}},"target":{"application":"a"}}`), &job))
	err := job.Validate()
	require.ErrorContains(t, err, "source: set exactly one of file, files, ")
	require.ErrorContains(t, err, "target: set one of")
	require.ErrorContains(t, json.Unmarshal([]byte(`{"source":{"entra":{}}}`), &job), `source: "entra" is not a known connector`)
}

// The example jobs read as they always did: the connection under its key,
// relative paths taken from the job file's folder.
func TestExamplesLoad(t *testing.T) {
	for _, name := range []string{"hr-to-sampleapp.yaml", "hr-to-sampleapp-compose.yaml"} {
		job, err := config.Load(filepath.Join("..", "examples", name))
		require.NoError(t, err, name)
		require.Equal(t, "file", job.Source.Key(), name)
		require.Equal(t, filepath.Join("..", "examples", "hr-users.csv"), job.Source.Connector.(*file.Config).Path, name)
		require.Equal(t, "scim", job.Target.Key(), name)
	}
}
