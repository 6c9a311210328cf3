package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/sink"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/logcollector"
)

// countIDs counts entries by change ID.
func countIDs(es []audit.Entry) map[string]int {
	out := map[string]int{}
	for _, e := range es {
		out[e.ChangeID]++
	}
	return out
}

// A worker killed in the middle of exporting a cycle's log, and started
// again, leaves every entry once in the JSON Lines folder and once in the
// collector (which drops batches posted again under the same key); an
// on-demand request's entry follows, and `starter logs --sink` reads the
// trail once the histories are deleted, with its filters.
func TestLogExportedOnceAcrossWorkerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	w := newWorld(t, "exported")
	ps := people(120)
	writeHR(t, w.hrPath, ps)
	// The collector holds the export's second batch until the worker is
	// killed; it answers the batch posted again.
	col := logcollector.Start(t)
	holding := make(chan struct{})
	col.Answer = func(_ http.ResponseWriter, r *http.Request, key string, n int) bool {
		if !strings.HasSuffix(key, "/2") || n > 1 {
			return false
		}
		// Read to the end, so the server notices the client going.
		_, _ = io.Copy(io.Discard, r.Body)
		close(holding)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Minute):
		}
		return true
	}
	auditDir := filepath.Join(t.TempDir(), "audit")
	t.Setenv("TEST_AUDIT_TOKEN", "collector-token")

	bin := testenv.Build(t, "./worker")
	state := filepath.Join(t.TempDir(), "state.db")
	startProc := func() *exec.Cmd {
		cmd := exec.Command(bin, "-address", tmp.Server.FrontendHostPort(), "-state", state, "-log-format", "json", "-log-level", "warn",
			"-allow-env", tokenEnv, "-allow-source-dir", filepath.Dir(w.hrPath), "-audit-dir", auditDir, "-audit-http-url", col.URL+"/ingest", "-audit-http-token-env", "TEST_AUDIT_TOKEN", "-audit-http-batch", "25")
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	proc := startProc()
	startJob(t, c, w.job)
	select {
	case <-holding:
	case <-time.After(2 * time.Minute):
		t.Fatal("the cycle's log was not exported")
	}
	require.Empty(t, logFiles(t, auditDir), "a unit's file appears whole or not at all")
	require.NoError(t, proc.Process.Signal(syscall.SIGKILL))
	_, _ = proc.Process.Wait()

	proc = startProc()
	t.Cleanup(func() { _ = proc.Process.Kill(); _, _ = proc.Process.Wait() })
	waitCycle(t, c, w.job.Name, 1, 3*time.Minute)
	hist := entries(t, c, w.job.Name, len(ps))
	require.Len(t, hist, len(ps))
	want := countIDs(hist)
	require.Len(t, want, len(ps), "change IDs are unique")
	require.Equal(t, want, countIDs(readSink(t, auditDir, w.job.Name)), "the folder holds every entry once")
	require.Equal(t, want, col.Kept(), "the collector keeps every entry once")
	for _, auth := range col.Headers("Authorization") {
		require.Equal(t, "Bearer collector-token", auth)
	}
	require.Equal(t, 2, col.Posts()["exported/"+sink.UnitID(hist[0].CycleID, firstCycleRun(t, c, w.job.Name))+"/2"], "the batch in flight was posted again")

	// An object provisioned on demand: its entry is exported before the answer.
	ps = append(ps, person{ID: "E00121", UserName: "user00121@example.com", Given: "New", Family: "Hire", Title: "Engineer", Type: "Employee", Status: "Active"})
	writeHR(t, w.hrPath, ps)
	res := provisionOnDemand(t, c, w.job.Name, api.OnDemandRequest{Type: "User", ID: "E00121"})
	require.Equal(t, audit.Create, res.Object().Action)
	want[res.Object().ChangeID] = 1
	require.Equal(t, want, countIDs(readSink(t, auditDir, w.job.Name)))
	require.Equal(t, want, col.Kept())

	// The histories go, as with the namespace's retention; the trail stays.
	ctx := context.Background()
	require.NoError(t, c.TerminateWorkflow(ctx, api.JobWorkflowID(w.job.Name), "", "the test deletes its histories"))
	for _, id := range []string{api.JobWorkflowID(w.job.Name), api.JobWorkflowID(w.job.Name) + "/cycle-1"} {
		_, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
			Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id},
		})
		require.NoError(t, err, "delete %s", id)
		require.Eventually(t, func() bool { return historyGone(ctx, c, id) }, time.Minute, 200*time.Millisecond, "history of %s deleted", id)
	}

	starter := testenv.Build(t, "./starter")
	out, err := exec.Command(starter, "logs", w.job.Name, "--sink", auditDir, "--format", "json").Output()
	require.NoError(t, err)
	var all []audit.Entry
	require.NoError(t, json.Unmarshal(out, &all))
	require.Equal(t, want, countIDs(all))

	out, err = exec.Command(starter, "logs", w.job.Name, "--sink", auditDir, "--format", "json", "--object", "E00007", "--since", "1h").Output()
	require.NoError(t, err)
	var one []audit.Entry
	require.NoError(t, json.Unmarshal(out, &one))
	require.Len(t, one, 1)
	require.Equal(t, "E00007", one[0].SourceID)
	require.Equal(t, audit.Create, one[0].Action)
}

// logFiles lists the JSON Lines files under a folder.
func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".jsonl") && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, path)
		}
		return err
	})
	if !errors.Is(err, os.ErrNotExist) {
		require.NoError(t, err)
	}
	return out
}

func readSink(t *testing.T, dir, job string) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	require.NoError(t, sink.Read(dir, job, time.Time{}, func(e audit.Entry) error {
		out = append(out, e)
		return nil
	}))
	return out
}

// firstCycleRun returns the run ID of the job's first cycle.
func firstCycleRun(t *testing.T, c client.Client, job string) string {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), api.JobWorkflowID(job)+"/cycle-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	return ev.GetWorkflowExecutionStartedEventAttributes().GetFirstExecutionRunId()
}

func historyGone(ctx context.Context, c client.Client, id string) bool {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	_, err := it.Next()
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
