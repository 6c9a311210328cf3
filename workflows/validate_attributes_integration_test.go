package workflows_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping"
)

// jobResult waits for the job's workflow to end and returns its error.
func jobResult(t *testing.T, c client.Client, job string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.GetWorkflow(ctx, api.JobWorkflowID(job), "").Get(ctx, nil)
	require.Error(t, err, "job %s ran", job)
	require.NoError(t, ctx.Err(), "job %s did not end", job)
	return err
}

// A mapping that reads a misspelt source attribute would clear its target
// attribute for every user; the worker refuses it before anything is
// pushed, naming the mapping and the attribute.
func TestMisspeltSourceAttributeRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)

	t.Run("at start", func(t *testing.T) {
		w := newWorld(t, "typo-start")
		writeHR(t, w.hrPath, people(20))
		w.job.Objects[0].Attributes[4] = mapping.AttributeMapping{Target: "title", Type: mapping.Expression, Expression: "[jobTitel]"}
		require.NoError(t, w.job.Validate(), "the static checks cannot know the file's columns")
		startJob(t, c, w.job)
		err := jobResult(t, c, w.job.Name)
		require.ErrorContains(t, err, `objects[0]: object mapping "users": mapping "title": expression column 1: unknown source attribute [jobTitel]: not in the header of `+w.hrPath+`; did you mean "jobTitle"?`)
		require.Empty(t, w.app.Stats().Requests, "a request reached the target")
	})

	t.Run("in an update", func(t *testing.T) {
		w := newWorld(t, "typo-update")
		writeHR(t, w.hrPath, people(20))
		startJob(t, c, w.job)
		before := waitCycle(t, c, w.job.Name, 1, time.Minute)
		w.app.ResetStats()

		typo := w.job
		typo.Objects = []config.Object{w.job.Objects[0]}
		typo.Objects[0].Scope.Groups[0].Clauses[0].Attribute = "employeType"
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: api.JobWorkflowID(w.job.Name), UpdateName: api.UpdateConfiguration,
			Args: []any{typo}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		require.NoError(t, err)
		err = h.Get(ctx, nil)
		require.ErrorContains(t, err, `scope group 1 clause 1 attribute: unknown source attribute "employeType"`)
		require.ErrorContains(t, err, `did you mean "employeeType"?`)
		st := status(t, c, w.job.Name)
		require.Equal(t, before.MappingVersion, st.MappingVersion, "the refused mappings were applied")
		require.Empty(t, w.app.Stats().Requests, "a request reached the target")
	})

	t.Run("unreachable source", func(t *testing.T) {
		// A source that cannot be reached is reported with its address and
		// the error, not passed as valid.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		w := newWorld(t, "unreachable-source")
		w.job.Source = config.Source{Connector: &ldap.Config{Connection: ldap.Connection{URL: "ldap://" + addr}, BaseDNs: []string{"dc=example,dc=org"}}}
		startJob(t, c, w.job)
		err = jobResult(t, c, w.job.Name)
		require.ErrorContains(t, err, "source ldap://"+addr)
		require.ErrorContains(t, err, "connection refused")
		require.Empty(t, w.app.Stats().Requests, "a request reached the target")
	})
}
