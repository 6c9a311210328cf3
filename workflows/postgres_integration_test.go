package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	pgtest "github.com/openprovisioning/provisioner/internal/testenv/postgres"
	"github.com/openprovisioning/provisioner/store/postgres"
	"github.com/openprovisioning/provisioner/workflows"
)

// The production shape: two workers on one task queue, each with its own
// connection to one PostgreSQL state store, share a job's cycles; every
// in-scope user is created exactly once, and an incremental cycle sends
// only the change.
func TestWorkersShareAPostgreSQLStore(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	db := pgtest.Start(t)
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	for _, name := range []string{"worker-a", "worker-b"} {
		startPostgresWorker(t, tmp, db.DSN(), name)
	}
	w := newWorld(t, "shared-store")
	w.job.Options.BatchSize, w.job.Options.Batches = 20, 4
	ps := people(300)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	st := waitCycle(t, c, w.job.Name, 1, 2*time.Minute)
	require.Equal(t, inScope(ps), st.LastCycle.Counts.Of(audit.Create, audit.Success))
	require.Len(t, w.users(t), inScope(ps), "each user exactly once")
	require.ElementsMatch(t, []string{"worker-a", "worker-b"}, batchWorkers(t, c, w.job.Name), "both workers pushed batches")

	ps[3].Title = "Staff Engineer"
	writeHR(t, w.hrPath, ps)
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Update, audit.Success))
	require.Equal(t, 1, w.app.Stats().Requests["PATCH /Users"])
	require.Zero(t, w.app.Stats().Requests["POST /Users"])
}

// startPostgresWorker runs an in-process worker with its own store
// connection and client identity until the test ends.
func startPostgresWorker(t *testing.T, tmp *testenv.Temporal, dsn, identity string) {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	c, err := client.Dial(client.Options{HostPort: tmp.Server.FrontendHostPort(), Identity: identity})
	require.NoError(t, err)
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	acts := activities.New(st, log)
	// One activity at a time each, so a cycle's batches need both workers.
	w := worker.New(c, api.TaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: 1})
	workflows.Register(w)
	w.RegisterActivity(acts)
	require.NoError(t, w.Start())
	t.Cleanup(func() { w.Stop(); acts.Connections.Close(); st.Close(); c.Close() })
}

// batchWorkers returns the identities of the workers that ran the first
// cycle's batches.
func batchWorkers(t *testing.T, c client.Client, job string) []string {
	t.Helper()
	seen := map[string]bool{}
	it := c.GetWorkflowHistory(context.Background(), api.JobWorkflowID(job)+"/cycle-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]bool{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "ProvisionBatch" {
			scheduled[ev.GetEventId()] = true
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] {
			seen[strings.SplitN(a.GetIdentity(), "@", 2)[0]] = true
		}
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	return out
}
