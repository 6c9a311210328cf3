package activities_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
)

// A job configuration may name only the secrets and source files the
// worker's operator allows: anything else is refused by validation, field
// by field, before any of it is read, and again where a cycle started
// without validation opens its connections.
func TestWorkerRefusesWhatItsOperatorDoesNotAllow(t *testing.T) {
	r := newRig(t, "TEST_AUTHORITY_TOKEN", unwrapped)
	job := validationJob(t, r.url)
	job.Target.Connector.(*scim.Config).Token = secrets.Ref{Env: "TEST_AUTHORITY_TOKEN"}
	secrets.Restrict(&secrets.Authority{Env: []string{"TEST_AUTHORITY_*"}, SourceDirs: []string{filepath.Dir((*job.Source.Connector.(*file.Set))[0].Path)}})
	t.Cleanup(func() { secrets.Restrict(nil) })

	_, err := r.env.ExecuteActivity(r.acts.ValidateJob, job)
	require.NoError(t, err, "what the worker allows")

	t.Setenv("PGPASSWORD", "state-store-password")
	bad := job
	target := *job.Target.Connector.(*scim.Config)
	target.Token = secrets.Ref{Env: "PGPASSWORD"}
	bad.Target.Connector = &target
	bad.Source.Connector = &file.Set{(*job.Source.Connector.(*file.Set))[0], {Path: "/etc/shadow", IDColumn: "employeeId"}}
	ps := validationProblems(t, r, bad)
	require.Len(t, ps, 2, "%v", ps)
	require.Equal(t, "source.files[1].path", ps[0].Field)
	require.Contains(t, ps[0].Message, "/etc/shadow is not allowed by this worker")
	require.Contains(t, ps[0].Message, "-allow-source-dir")
	require.Equal(t, "target.scim.token", ps[1].Field)
	require.Contains(t, ps[1].Message, "environment variable PGPASSWORD is not allowed by this worker")
	require.Contains(t, ps[1].Message, "-allow-env")
	require.NotContains(t, ps.Error(), "state-store-password")

	single := job
	single.Source = config.Source{Connector: &file.Config{Path: "/etc/shadow", IDColumn: "employeeId"}}
	ps = validationProblems(t, r, single)
	require.Len(t, ps, 1, "%v", ps)
	require.Equal(t, "source.file.path", ps[0].Field)

	// A cycle started directly, with no job to validate it.
	badTarget := job
	badTarget.Target.Connector = &target
	for name, j := range map[string]config.Job{"source": single, "target": badTarget} {
		_, err = r.env.ExecuteActivity(r.acts.FetchChanges, activities.FetchInput{Job: j, Cycle: store.Cycle{Job: j.Name, ID: "1"}, Initial: true})
		var ae *temporal.ApplicationError
		require.True(t, errors.As(err, &ae), "%s: %v", name, err)
		require.Equal(t, api.ErrInvalidConfiguration, ae.Type(), "%s: %v", name, err)
		require.True(t, ae.NonRetryable())
	}
	require.Empty(t, r.app.Users())
}
