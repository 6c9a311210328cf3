package workflows_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
)

// A job against a real dev server and the sample application, through its
// whole life: initial cycle, incremental changes, scope, deletion, controls.
func TestJobEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "e2e")
	ps := people(120)
	// Row 122 (header is row 1) has too few fields and must fail alone.
	writeHR(t, w.hrPath, ps, `E99999,broken@example.com`)
	startJob(t, c, w.job)

	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	want := inScope(ps)
	users := w.users(t)
	require.Len(t, users, want, "every in-scope user exactly once")
	require.Equal(t, want, w.app.Stats().Requests["POST /Users"], "one POST per in-scope user")
	require.Equal(t, want, st.LastCycle.Counts.Of(audit.Create, audit.Success))
	_, contractor := users[ps[9].UserName]
	require.False(t, contractor, "contractors are out of scope")

	log := entries(t, c, w.job.Name, 121)
	var malformed *audit.Entry
	for i := range log {
		if log[i].Status == audit.Failure {
			malformed = &log[i]
		}
	}
	require.NotNil(t, malformed, "the malformed row has a failed entry")
	require.Contains(t, malformed.Locator+" "+malformed.Reason, "row 122")
	require.Equal(t, "InvalidSourceRecord", malformed.ErrorCode)

	t.Run("incremental cycle sends only changes", func(t *testing.T) {
		w.app.ResetStats()
		ps[0].Title = "Principal Engineer"
		writeHR(t, w.hrPath, ps)
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, 2, time.Minute)
		stats := w.app.Stats()
		require.Equal(t, 1, stats.Requests["PATCH /Users"], "one PATCH for one changed row")
		require.Zero(t, stats.Requests["POST /Users"])
		require.Equal(t, 1, st.LastCycle.Staged)
		require.Equal(t, "Principal Engineer", w.users(t)[ps[0].UserName].Attributes["title"])
	})

	t.Run("out of scope, disabled and deleted rows disable the account", func(t *testing.T) {
		ps[1].Type = "Contractor" // leaves scope
		ps[2].Status = "Inactive" // disabled in HR
		gone := ps[3]             // deleted from the export
		writeHR(t, w.hrPath, append(append([]person{}, ps[:3]...), ps[4:]...))
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, 3, time.Minute)
		users := w.users(t)
		require.False(t, active(users[ps[1].UserName]))
		require.False(t, active(users[ps[2].UserName]))
		require.False(t, active(users[gone.UserName]))
		require.True(t, active(users[ps[4].UserName]))
		require.Equal(t, 3, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
		require.Len(t, users, want, "nothing is deleted")

		// Back in scope: re-enabled, not created again.
		ps[1].Type = "Employee"
		writeHR(t, w.hrPath, ps)
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		waitCycle(t, c, w.job.Name, 4, time.Minute)
		users = w.users(t)
		require.True(t, active(users[ps[1].UserName]))
		require.True(t, active(users[gone.UserName]))
		require.Len(t, users, want)
	})

	t.Run("stop pauses, start resumes, sync-now runs now", func(t *testing.T) {
		signal(t, c, w.job.Name, api.SignalStop, nil)
		require.Eventually(t, func() bool { return status(t, c, w.job.Name).State == api.Paused }, 10*time.Second, 100*time.Millisecond)
		ps[5].Title = "Architect"
		writeHR(t, w.hrPath, ps)
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		time.Sleep(2 * time.Second)
		require.Equal(t, 4, status(t, c, w.job.Name).CycleNumber, "no cycle while paused")
		require.Equal(t, "Engineer", w.users(t)[ps[5].UserName].Attributes["title"])

		signal(t, c, w.job.Name, api.SignalStart, nil)
		waitCycle(t, c, w.job.Name, 5, time.Minute)
		require.Equal(t, "Architect", w.users(t)[ps[5].UserName].Attributes["title"])
	})

	t.Run("restart Full re-runs an initial cycle without duplicates", func(t *testing.T) {
		w.app.ResetStats()
		signal(t, c, w.job.Name, api.SignalRestart, api.RestartRequest{Scopes: []string{"Full"}})
		st := waitCycle(t, c, w.job.Name, 6, time.Minute)
		require.Equal(t, api.Initial, st.LastCycle.Kind)
		require.Zero(t, w.app.Stats().Requests["POST /Users"], "existing accounts are matched, not created")
		require.Len(t, w.users(t), want)
	})
}

// A worker killed with SIGKILL in the middle of an initial cycle and started
// again leaves no duplicate and no missing account.
func TestWorkerKilledMidCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	w := newWorld(t, "sigkill")
	w.job.Options.BatchSize, w.job.Options.Batches, w.job.Options.Concurrency = 25, 2, 2
	ps := people(1500)
	writeHR(t, w.hrPath, ps)

	bin := testenv.Build(t, "./worker")
	state := filepath.Join(t.TempDir(), "state.db")
	proc := startWorkerProcess(t, bin, tmp, state)
	startJob(t, c, w.job)
	require.Eventually(t, func() bool { return w.app.Stats().Users >= 300 }, time.Minute, 20*time.Millisecond)
	require.NoError(t, proc.Process.Signal(syscall.SIGKILL))
	_, _ = proc.Process.Wait()
	killedAt := w.app.Stats().Users
	require.Less(t, killedAt, inScope(ps), "killed mid-cycle")

	startWorkerProcess(t, bin, tmp, state)
	waitCycle(t, c, w.job.Name, 1, 3*time.Minute)
	users := w.users(t)
	require.Len(t, users, inScope(ps), "no missing account")
	for _, p := range ps {
		if p.Type == "Employee" {
			require.Contains(t, users, p.UserName)
		}
	}
}

// With the dev server suggesting continue-as-new after a few dozen events,
// every run stays small while the cycle still provisions every user once and
// every outcome can be read back from history.
func TestHistoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const threshold = 60
	tmp := testenv.StartTemporal(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60")
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "bounded")
	w.job.Options.BatchSize, w.job.Options.Batches = 20, 2
	ps := people(1000)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, 3*time.Minute)
	require.Len(t, w.users(t), inScope(ps))

	log := entries(t, c, w.job.Name, len(ps))
	require.Len(t, log, len(ps), "one entry per source object across every run")

	ctx := context.Background()
	resp, err := c.ListWorkflow(ctx, listRequest(`ProvisioningJob = "bounded" AND WorkflowType = "ProvisioningCycle"`))
	require.NoError(t, err)
	require.Greater(t, len(resp.Executions), 3, "the cycle continued as new several times")
	for _, ex := range resp.Executions {
		d, err := c.DescribeWorkflow(ctx, ex.Execution.WorkflowId, ex.Execution.RunId)
		require.NoError(t, err)
		info := d.RawResponse.GetWorkflowExecutionInfo()
		// The check runs after each batch, and up to two are in flight.
		require.LessOrEqual(t, info.GetHistoryLength(), int64(threshold+30), "run %s", ex.Execution.RunId)
		if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, info.GetStatus())
		}
	}
}

// Invalid configuration is refused by the starter, naming the field, and
// nothing is pushed.
func TestStarterRefusesInvalidConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the starter")
	}
	bin := testenv.Build(t, "./starter")
	dir := t.TempDir()
	hr := filepath.Join(dir, "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte("employeeId,userName\nE1,a@example.com\n"), 0o600))
	t.Setenv("STARTER_TEST_TOKEN", "x")
	valid := `name: bad
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: app
  scim: {baseURL: "http://127.0.0.1:1/scim/v2", token: {env: STARTER_TEST_TOKEN}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
`
	cases := map[string]struct {
		edit func(string) string
		want string
	}{
		"unknown field":      {func(s string) string { return strings.Replace(s, "name: bad", "name: bad\nintervall: 5m", 1) }, "intervall"},
		"missing target URL": {func(s string) string { return strings.Replace(s, `baseURL: "http://127.0.0.1:1/scim/v2", `, "", 1) }, "baseURL"},
		"missing secret":     {func(s string) string { return strings.Replace(s, "STARTER_TEST_TOKEN", "STARTER_TEST_ABSENT", 1) }, "STARTER_TEST_ABSENT"},
		"unreadable source":  {func(s string) string { return strings.Replace(s, "path: hr.csv", "path: missing.csv", 1) }, "missing.csv"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.edit(valid)), 0o600))
			for _, verb := range []string{"validate", "start"} {
				out, err := exec.Command(bin, verb, path).CombinedOutput()
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, "%s must fail: %s", verb, out)
				require.Equal(t, 2, exit.ExitCode(), "%s", out)
				require.Contains(t, string(out), tc.want)
			}
		})
	}
	path := filepath.Join(dir, "valid.yaml")
	require.NoError(t, os.WriteFile(path, []byte(valid), 0o600))
	out, err := exec.Command(bin, "validate", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
}
