package workflows_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/workflows"
)

// Recorded histories are named KIND-VERSION-….json[.gz]: the job or cycle
// workflow, and the released workflow version that made them.
var recordedName = regexp.MustCompile(`^(job|cycle)-(v[0-9]+)-.*\.json(\.gz)?$`)

// Every recorded history of every released workflow version replays
// against the current workflow code: a change that would break running
// jobs fails here. Both workflows of each version must have histories.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json*"))
	require.NoError(t, err)
	kinds := map[string]map[string]bool{}
	for _, path := range files {
		m := recordedName.FindStringSubmatch(filepath.Base(path))
		require.NotNil(t, m, "%s: name recorded histories KIND-VERSION-….json[.gz]", path)
		if kinds[m[2]] == nil {
			kinds[m[2]] = map[string]bool{}
		}
		kinds[m[2]][m[1]] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			h := readHistory(t, path)
			r := worker.NewWorkflowReplayer()
			workflows.Register(r)
			// The job derives its cycles' workflow IDs from its own, so it
			// replays under the recorded ID, not the replayer's default.
			id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
			require.NotEmpty(t, id, "the history names its workflow ID")
			err := r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
			require.NoError(t, err)
		})
	}
	require.NotEmpty(t, kinds, "no recorded histories in testdata")
	for version, k := range kinds {
		require.True(t, k["job"] && k["cycle"], "version %s needs job and cycle histories", version)
	}
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		require.NoError(t, err)
		defer gz.Close()
		r = gz
	}
	h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	require.NoError(t, err)
	return h
}

// recordEnv names the workflow version TestRecordHistories records, e.g.
// RECORD_HISTORIES=v2 once a change to the workflows is released.
const recordEnv = "RECORD_HISTORIES"

// Histories above this size are gzipped to keep the repository small.
const maxPlainHistory = 300 << 10

// TestRecordHistories runs a job on a dev server against the sample
// application through every control, then writes the histories of the job
// and of its cycles into testdata, replacing those of the same version.
// The dev server suggests continue-as-new early, so runs continue as new.
func TestRecordHistories(t *testing.T) {
	version := os.Getenv(recordEnv)
	if version == "" {
		t.Skipf("set %s=vN to record the histories of workflow version N", recordEnv)
	}
	require.Regexp(t, `^v[0-9]+$`, version)
	out, err := filepath.Abs("testdata")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(out, 0o755))
	old, err := filepath.Glob(filepath.Join(out, "*-"+version+"-*"))
	require.NoError(t, err)
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}

	tmp := testenv.StartTemporal(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60")
	// A fixed identity keeps the host name out of the recorded events.
	c, err := client.Dial(client.Options{HostPort: tmp.Server.FrontendHostPort(), Identity: "recorder", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	startWorker(t, c)
	w := newWorld(t, "recorded")
	// A relative source path keeps machine paths out of the recorded job
	// configuration; the in-process worker reads it from the test's folder.
	t.Chdir(t.TempDir())
	w.hrPath = "hr.csv"
	w.job.Source.File.Path = w.hrPath
	w.job.Options.BatchSize, w.job.Options.Batches = 5, 2
	// The last cycle's first change waits here for a configuration update.
	remap := newGate(func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPatch && bytes.Contains(body, []byte("Staff Engineer"))
	})
	gatedTarget(t, w, remap)
	ps := people(60)
	writeHR(t, w.hrPath, ps, `E99999,broken@example.com`)

	ctx := context.Background()
	jobID := workflows.JobWorkflowID(w.job.Name)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: jobID, TaskQueue: workflows.TaskQueue}, workflows.ProvisioningJob, workflows.JobInput{Config: w.job})
	require.NoError(t, err)
	runControls(t, c, w, ps, remap)

	jobRuns := runChain(t, c, jobID, run.GetRunID())
	require.Greater(t, len(jobRuns), 1, "the job continued as new")
	var cycles []*historypb.History
	started := map[string]int{}
	for i, h := range jobRuns {
		writeHistory(t, out, fmt.Sprintf("job-%s-run%d", version, i+1), h)
		for _, ev := range h.GetEvents() {
			if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				started[a.GetWorkflowExecution().GetWorkflowId()]++
				cycles = append(cycles, runChain(t, c, a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId())...)
			}
		}
	}
	resumed := false
	for _, n := range started {
		resumed = resumed || n > 1
	}
	require.True(t, resumed, "a stopped cycle was started again")
	continued := false
	for i, h := range cycles {
		continued = continued || lastEvent(h).GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
		writeHistory(t, out, fmt.Sprintf("cycle-%s-%02d", version, i+1), h)
	}
	require.True(t, continued, "a cycle continued as new")
}

// runControls takes the job through an initial cycle, provisioning on
// demand, sync-now, a stop in the middle of a cycle, a rollback and a
// start, quarantine and release, a restart, and new mappings sent while a
// cycle waits at the remap gate.
func runControls(t *testing.T, c client.Client, w *world, ps []person, remap *gate) {
	job := w.job.Name
	waitCycle(t, c, job, 1, time.Minute)

	ps = append(ps, person{ID: "E90000", UserName: "new.hire@example.com", Given: "New", Family: "Hire", Title: "Engineer", Type: "Employee", Status: "Active"})
	writeHR(t, w.hrPath, ps)
	res := provisionOnDemand(t, c, job, workflows.OnDemandRequest{Type: "User", ID: "E90000"})
	require.Equal(t, audit.Create, res.Object().Action)

	ps[0].Title = "Principal Engineer"
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, workflows.SignalSyncNow, nil)
	waitCycle(t, c, job, 2, time.Minute)

	// Every row changes, so cycle 3 runs long enough to be stopped midway.
	for i := range ps {
		ps[i].Title = "Architect"
	}
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, workflows.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		cur := status(t, c, job).Current
		return cur != nil && cur.Number == 3
	}, time.Minute, 10*time.Millisecond)
	signal(t, c, job, workflows.SignalStop, nil)
	require.Eventually(t, func() bool {
		st := status(t, c, job)
		return st.State == workflows.Paused && st.Current == nil
	}, time.Minute, 50*time.Millisecond)
	rollBack(t, c, job, "2")
	signal(t, c, job, workflows.SignalStart, nil)
	waitCycle(t, c, job, 3, time.Minute)

	signal(t, c, job, workflows.SignalQuarantine, nil)
	require.Eventually(t, func() bool { return status(t, c, job).State == workflows.Quarantined }, 10*time.Second, 50*time.Millisecond)
	signal(t, c, job, workflows.SignalRelease, nil)
	waitCycle(t, c, job, 4, time.Minute)

	signal(t, c, job, workflows.SignalRestart, workflows.RestartRequest{Scopes: []string{"Full"}})
	st := waitCycle(t, c, job, 5, time.Minute)
	require.Equal(t, workflows.Initial, st.LastCycle.Kind)
	require.Len(t, w.users(t), inScope(ps))

	for i := range ps {
		ps[i].Title = "Staff Engineer"
	}
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, workflows.SignalSyncNow, nil)
	remap.wait(t, "cycle 6")
	st = updateJobConfiguration(t, c, constantTitle(w.job, "Staff"))
	require.NotNil(t, st.Current, "the update arrived during cycle 6")
	remap.release()
	waitCycle(t, c, job, 6, time.Minute)
	st = waitCycle(t, c, job, 7, time.Minute)
	require.Equal(t, workflows.Initial, st.LastCycle.Kind, "the new mappings' initial cycle")
}

// runChain returns the histories of a workflow's runs from runID on,
// following continue-as-new.
func runChain(t *testing.T, c client.Client, workflowID, runID string) []*historypb.History {
	t.Helper()
	var out []*historypb.History
	for runID != "" {
		h := &historypb.History{}
		it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			h.Events = append(h.Events, ev)
		}
		out = append(out, h)
		runID = lastEvent(h).GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	return out
}

func lastEvent(h *historypb.History) *historypb.HistoryEvent {
	return h.GetEvents()[len(h.GetEvents())-1]
}

// writeHistory writes a history as JSON that client.HistoryFromJSON and
// `temporal workflow show` read, gzipped when large, after checking that
// no machine path or host name made it into the events.
func writeHistory(t *testing.T, dir, name string, h *historypb.History) {
	t.Helper()
	raw, err := proto.Marshal(h)
	require.NoError(t, err)
	host, _ := os.Hostname()
	for _, s := range []string{testenv.RepoRoot(), filepath.Clean(os.TempDir()) + string(filepath.Separator), host} {
		// A very short host name would match by chance in encoded data.
		if len(s) > 3 {
			require.False(t, bytes.Contains(raw, []byte(s)), "%s: the history holds %q", name, s)
		}
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	path := filepath.Join(dir, name+".json")
	if len(b) > maxPlainHistory {
		var z bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, err := gz.Write(b)
		require.NoError(t, err)
		require.NoError(t, gz.Close())
		path, b = path+".gz", z.Bytes()
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
	t.Logf("recorded %s (%d events, %d bytes)", filepath.Base(path), len(h.GetEvents()), len(b))
}

// rollBack rolls the job back to before a cycle, as `starter rollback`
// does, and checks something was restored.
func rollBack(t *testing.T, c client.Client, job, cycle string) {
	t.Helper()
	var all []audit.Entry
	var since time.Time
	require.NoError(t, audit.ReadHistory(context.Background(), c, "default", job, func(e audit.Entry) error {
		all = append(all, e)
		if (audit.Filter{CycleID: cycle}).Match(e) && (since.IsZero() || e.Time.Before(since)) {
			since = e.Time
		}
		return nil
	}))
	require.False(t, since.IsZero(), "cycle %s is in the log", cycle)
	plan := audit.PlanRollback(all, since)
	require.NotEmpty(t, plan.Restores)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.JobWorkflowID(job), UpdateName: workflows.UpdateRollback,
		Args: []any{plan}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var res activities.RollbackResult
	require.NoError(t, h.Get(ctx, &res))
	require.Len(t, res.Entries, len(plan.Restores))
	for _, e := range res.Entries {
		require.Equal(t, audit.Success, e.Status, e.Reason)
	}
}
