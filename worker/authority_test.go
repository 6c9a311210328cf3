package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/workflows"
)

// The worker binary with nothing allowed by its operator refuses a job
// that names the state store's password or reads /etc/shadow, naming both
// fields, and runs one that names a variable set for jobs and an export in
// the temporary folder; with -allow-env and -allow-source-dir it runs what
// they name.
func TestWorkerAuthority(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	bin := testenv.Build(t, "./worker")
	const token = "authority-test-token"
	app := sampleapp.New(sampleapp.Options{Token: token})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	hr := filepath.Join(dir, "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte("employeeId,userName\nE1,ada@example.com\n"), 0o600))
	exports := filepath.Join(testenv.RepoRoot(), "examples")

	start := func(t *testing.T, args ...string) {
		cmd := exec.Command(bin, append([]string{"-address", tmp.Server.FrontendHostPort(), "-state", filepath.Join(t.TempDir(), "state.db"), "-log-format", "json", "-log-level", "warn"}, args...)...)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+token, "PROVISIONING_SECRET_AUTHORITY_TEST="+token, "APP_TOKEN="+token,
			"PROVISIONING_ALLOW_ENV=", "PROVISIONING_ALLOW_SECRET_DIRS=", "PROVISIONING_ALLOW_SOURCE_DIRS=")
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	}
	job := func(name, tokenEnv, path string) config.Job {
		j, err := config.Parse([]byte(fmt.Sprintf(`name: %s
interval: 1h
source:
  file: {path: %q, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "%s/scim/v2", token: {env: %s}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
`, name, path, srv.URL, tokenEnv)))
		require.NoError(t, err)
		return *j
	}

	t.Run("by default", func(t *testing.T) {
		start(t)
		err := runJob(t, tmp.Client, job("refused", "PGPASSWORD", "/etc/shadow"))
		require.ErrorContains(t, err, "source.file.path: source file /etc/shadow is not allowed by this worker")
		require.ErrorContains(t, err, "target.scim.token: environment variable PGPASSWORD is not allowed by this worker")
		require.NotContains(t, err.Error(), token)
		require.Empty(t, app.Stats().Requests, "nothing reached the target")

		require.NoError(t, runJob(t, tmp.Client, job("allowed", "PROVISIONING_SECRET_AUTHORITY_TEST", hr)))
		require.Len(t, app.Users(), 1)
	})

	t.Run("as the operator allows", func(t *testing.T) {
		start(t, "-allow-env", "APP_TOKEN", "-allow-source-dir", exports)
		err := runJob(t, tmp.Client, job("temporary", "APP_TOKEN", hr))
		require.ErrorContains(t, err, "source.file.path", "the default folder is replaced")
		require.ErrorContains(t, runJob(t, tmp.Client, job("default-env", "PROVISIONING_SECRET_AUTHORITY_TEST", filepath.Join(exports, "hr-users.csv"))),
			"target.scim.token", "the default variables are replaced")
	})
}

// runJob starts a job and waits for its first cycle: nil when it ended, the
// job's failure when the worker refused it.
func runJob(t *testing.T, c client.Client, job config.Job) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: api.JobWorkflowID(job.Name), TaskQueue: api.TaskQueue},
		workflows.ProvisioningJob, workflows.JobInput{Config: job})
	require.NoError(t, err)
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("job %s neither failed nor finished a cycle", job.Name)
		case <-time.After(200 * time.Millisecond):
		}
		desc, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
		require.NoError(t, err)
		if desc.RawResponse.GetWorkflowExecutionInfo().GetCloseTime() != nil {
			err := run.Get(ctx, nil)
			require.Error(t, err, "a job runs until stopped")
			return err
		}
		q, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), api.QueryStatus)
		if err != nil {
			continue
		}
		var st api.Status
		require.NoError(t, q.Get(&st))
		if st.LastCycle != nil {
			require.NoError(t, c.TerminateWorkflow(ctx, run.GetID(), "", "test done"))
			return nil
		}
	}
}
