package workflows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
)

// A cycle into a slow target runs for many progress periods while the
// job's run does not grow by one event; the status, as `starter status`
// reads it, shows the cycle's live progress meanwhile.
func TestLongCycleLeavesJobHistoryAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "long-cycle")
	// Every creation takes 200 ms, one at a time: about 20 s for 99 users.
	app := w.app.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			time.Sleep(200 * time.Millisecond)
		}
		app.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
	w.job.Options.BatchSize, w.job.Options.Batches, w.job.Options.Concurrency = 1, 1, 1
	ps := people(110)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)

	ctx := context.Background()
	jobEvents := func() int64 {
		d, err := c.DescribeWorkflow(ctx, api.JobWorkflowID(w.job.Name), "")
		require.NoError(t, err)
		return d.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength()
	}
	type sample struct {
		at        time.Time
		processed int
		events    int64
	}
	var samples []sample
	deadline := time.Now().Add(2 * time.Minute)
	for {
		require.True(t, time.Now().Before(deadline), "the cycle did not finish")
		// The job's events are read before its status: read after, they
		// could be those of a cycle that ended in between.
		events := jobEvents()
		st, err := api.JobStatus(ctx, c, w.job.Name)
		if err == nil && st.LastCycle != nil && st.Current == nil {
			break
		}
		if err == nil && st.Current != nil && st.Current.Phase == "Provisioning" && st.Current.Processed > 0 {
			samples = append(samples, sample{time.Now(), st.Current.Processed, events})
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.GreaterOrEqual(t, len(samples), 2, "the status showed the cycle's progress")
	first, last := samples[0], samples[len(samples)-1]
	require.Greater(t, last.at.Sub(first.at), 10*time.Second, "the cycle ran for five progress periods and more")
	require.Greater(t, last.processed, first.processed, "the progress was live")
	require.Equal(t, first.events, last.events, "the job's run grew while the cycle ran: %s", eventsAfter(t, c, api.JobWorkflowID(w.job.Name), first.events))
	require.Less(t, jobEvents(), int64(100))
	require.Len(t, w.users(t), inScope(ps))
}

// eventsAfter names the events of a workflow's current run after the
// first n, to tell what grew a history that should not have.
func eventsAfter(t *testing.T, c client.Client, id string, n int64) string {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var names []string
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if e.GetEventId() > n {
			names = append(names, e.GetEventType().String())
		}
	}
	return strings.Join(names, ", ")
}
