package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/workflows"
)

// After the dev server restarts during a cycle that continues as new
// several times, the provisioning log holds every entry the histories of
// the job's and cycles' runs hold, in the order they were made, and reads
// the same with visibility listing nothing.
func TestLogReadAfterServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporalRestartable(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60")
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "restarted")
	w.job.Options.BatchSize, w.job.Options.Batches = 20, 2
	ps := people(1000)
	writeHR(t, w.hrPath, ps)
	job := w.job.Name
	jobID := api.JobWorkflowID(job)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: jobID, TaskQueue: api.TaskQueue}, workflows.ProvisioningJob, workflows.JobInput{Config: w.job})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.app.Stats().Users >= 300 }, time.Minute, 20*time.Millisecond)
	tmp.Restart(t)
	require.Less(t, w.app.Stats().Users, inScope(ps), "restarted mid-cycle")
	waitCycle(t, c, job, 1, 5*time.Minute)
	require.Len(t, w.users(t), inScope(ps))

	// An entry of the job's own history, and a second cycle.
	ps = append(ps, person{ID: "E90000", UserName: "new.hire@example.com", Given: "New", Family: "Hire", Title: "Engineer", Type: "Employee", Status: "Active"})
	writeHR(t, w.hrPath, ps)
	require.Equal(t, audit.Create, provisionOnDemand(t, c, job, api.OnDemandRequest{Type: "User", ID: "E90000"}).Object().Action)
	ps[0].Title = "Principal Engineer"
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, api.SignalSyncNow, nil)
	waitCycle(t, c, job, 2, time.Minute)

	h := walkHistories(t, c, jobID, run.GetRunID())
	require.Greater(t, h.cycleRuns, 4, "the cycles continued as new several times")
	t.Logf("%d job runs, %d cycle runs, %d entries", h.jobRuns, h.cycleRuns, len(h.cycles)+len(h.job))
	seen := map[string]bool{}
	for _, e := range h.cycles {
		seen[e.SourceID] = true
	}
	require.Len(t, seen, len(ps)-1, "the histories hold an entry of every source object of cycle 1")

	for name, cl := range map[string]client.Client{"client": c, "client without visibility": blindClient{c}} {
		var got []audit.Entry
		require.NoError(t, history.Read(context.Background(), cl, "default", job, func(e audit.Entry) error {
			got = append(got, e)
			return nil
		}), name)
		require.ElementsMatch(t, append(append([]audit.Entry{}, h.cycles...), h.job...), got, name)
		require.Equal(t, h.cycles, withoutEntries(got, h.job), "%s: the cycles' entries in history order", name)
		// The job's entries come before the entries made after them.
		for i := 0; i+1 < len(got); i++ {
			if len(withoutEntries(got[i:i+1], h.job)) == 0 {
				require.False(t, got[i+1].Time.Before(got[i].Time), "%s: the job's entry %s in time order", name, got[i].ChangeID)
			}
		}
	}

	// As `starter logs --since` reads: every entry made since then.
	since := h.cycles[len(h.cycles)/2].Time
	var got []audit.Entry
	require.NoError(t, history.ReadSince(context.Background(), blindClient{c}, "default", job, since, func(e audit.Entry) error {
		got = append(got, e)
		return nil
	}))
	require.Less(t, len(got), len(h.cycles)+len(h.job), "runs closed before since are not read")
	for _, e := range append(append([]audit.Entry{}, h.cycles...), h.job...) {
		if !e.Time.Before(since) {
			require.Contains(t, got, e)
		}
	}
}

// histories are the entries of a job's runs, read run by run.
type histories struct {
	jobRuns, cycleRuns int
	// cycles are the cycles' entries in the order of their runs' events,
	// job those of the job's runs.
	cycles, job []audit.Entry
}

// walkHistories reads every run of a job from its first on, following
// continue-as-new, and every cycle it started as a child.
func walkHistories(t *testing.T, c client.Client, jobID, firstRunID string) *histories {
	t.Helper()
	h := &histories{}
	for _, jh := range runChain(t, c, jobID, firstRunID) {
		h.jobRuns++
		for _, ev := range jh.GetEvents() {
			h.job = append(h.job, eventEntries(ev.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads())...)
			child := ev.GetChildWorkflowExecutionStartedEventAttributes().GetWorkflowExecution()
			if child == nil {
				continue
			}
			for _, ch := range runChain(t, c, child.GetWorkflowId(), child.GetRunId()) {
				h.cycleRuns++
				for _, cev := range ch.GetEvents() {
					h.cycles = append(h.cycles, eventEntries(cev.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads())...)
				}
			}
		}
	}
	return h
}

// eventEntries decodes the entries an activity's result carries.
func eventEntries(result []*commonpb.Payload) []audit.Entry {
	if len(result) == 0 {
		return nil
	}
	var r struct {
		Entries []audit.Entry `json:"entries"`
	}
	if converter.GetDefaultDataConverter().FromPayload(result[0], &r) != nil {
		return nil
	}
	return r.Entries
}

// withoutEntries returns the entries not in drop, in order.
func withoutEntries(entries, drop []audit.Entry) []audit.Entry {
	ids := map[string]bool{}
	for _, e := range drop {
		ids[e.ChangeID] = true
	}
	var out []audit.Entry
	for _, e := range entries {
		if !ids[e.ChangeID] {
			out = append(out, e)
		}
	}
	return out
}

// blindClient is a client whose visibility lists nothing, as it can for
// a while after a server restart.
type blindClient struct{ client.Client }

func (blindClient) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{}, nil
}

func (b blindClient) WorkflowService() workflowservice.WorkflowServiceClient {
	return blindService{b.Client.WorkflowService()}
}

type blindService struct {
	workflowservice.WorkflowServiceClient
}

func (blindService) ListWorkflowExecutions(context.Context, *workflowservice.ListWorkflowExecutionsRequest, ...grpc.CallOption) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{}, nil
}
