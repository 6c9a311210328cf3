package workflows_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/lostanswer"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// matchedExisting is the reason of an existing target object matched and
// left as it was: never one the job created.
const matchedExisting = "matched an existing target object that already has these values"

// requireCreatedOnce checks the provisioning log against the target:
// exactly one Create/Success entry for each account, none for another
// object, and no account logged as an existing object matched. It
// returns how many creates were confirmed after a retry.
func requireCreatedOnce(t *testing.T, log []audit.Entry, users map[string]sampleapp.Resource) int {
	t.Helper()
	created := map[string]int{}
	confirmed := 0
	for _, e := range log {
		require.NotEqual(t, matchedExisting, e.Reason, "an account the job created is logged as matched: %+v", e)
		if e.Action == audit.Create && e.Status == audit.Success {
			created[e.TargetID]++
			if strings.Contains(e.Reason, "confirmed after a retry") {
				confirmed++
			}
		}
	}
	for name, u := range users {
		require.Equal(t, 1, created[u.ID], "Create/Success entries of account %s (%s)", name, u.ID)
		delete(created, u.ID)
	}
	require.Empty(t, created, "Create/Success entries of objects the target does not hold")
	return confirmed
}

// A worker killed with SIGKILL again and again during an initial cycle, and
// the dev server restarted once: the target ends exactly right and the
// log's Create/Success entries match its accounts one to one. From the
// first kill on, a second worker process shares the state store and is
// left running, so that while the killed one's batches wait out their
// heartbeat timeout the cycle goes on. It starts only then: were it
// running from the start, it could hold every batch in flight when the
// kills land, and no kill would end an attempt.
func TestLogTellsTheTruthAcrossCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporalRestartable(t)
	c := tmp.Client
	w := newWorld(t, "crashlog")
	w.job.Options.BatchSize, w.job.Options.Batches, w.job.Options.Concurrency = 50, 10, 8
	// Slow enough for the kills to land mid-cycle.
	w.job.Target.Connector.(*scim.Config).RequestsPerSecond = 120
	ps := people(3000)
	writeHR(t, w.hrPath, ps)
	want := inScope(ps)

	bin := testenv.Build(t, "./worker")
	state := filepath.Join(t.TempDir(), "state.db")
	victim := startWorkerProcess(t, bin, tmp, state)
	startJob(t, c, w.job)

	// Each kill lands while the worker pushes: it ends attempts that made
	// accounts they had not recorded yet. The target's crew has one batch
	// push at a time, mostly, so a kill lands halfway through a batch's
	// accounts: once one ended, its outcomes are in its result.
	perBatch := w.job.Options.BatchSize * want / len(ps)
	for i, batches := range []int{6, 12, 18} {
		require.Eventually(t, func() bool { return w.app.Stats().Users >= batches*perBatch+perBatch/2 }, 90*time.Second, 10*time.Millisecond)
		if i == 1 {
			tmp.Restart(t)
		}
		require.NoError(t, victim.Process.Signal(syscall.SIGKILL))
		_, _ = victim.Process.Wait()
		require.Less(t, w.app.Stats().Users, want, "killed mid-cycle")
		if i == 0 {
			startWorkerProcess(t, bin, tmp, state)
		}
		victim = startWorkerProcess(t, bin, tmp, state)
	}
	waitCycle(t, c, w.job.Name, 1, 3*time.Minute)

	users := w.users(t)
	require.Len(t, users, want, "every account once")
	log := entries(t, c, w.job.Name, len(ps))
	confirmed := requireCreatedOnce(t, log, users)
	require.Positive(t, confirmed, "some accounts were made by attempts the kills ended")
	t.Logf("%d of %d creates confirmed after a retry", confirmed, want)
}

// Users pushed through a proxy that loses 5% of the target's answers after
// the target acted, to a target that answers 15% of requests 503 or 429:
// the target ends exactly right, and the log's Create/Success entries
// match its accounts one to one.
func TestLogTellsTheTruthThroughLostAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "lossy")
	w.app = sampleapp.New(sampleapp.Options{Token: "test-token-lossy", FaultRate: 0.15, FaultSeed: 7})
	var creates atomic.Int64
	lose := lostanswer.Share(0.05, 7)
	srv := httptest.NewServer(lostanswer.New(w.app.Handler(), func(r *http.Request) bool {
		if !lose(r) {
			return false
		}
		if r.Method == http.MethodPost {
			creates.Add(1)
		}
		return true
	}))
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
	w.job.Target.Connector.(*scim.Config).MaxRetries = 8
	ps := people(2000)
	writeHR(t, w.hrPath, ps)
	want := inScope(ps)

	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, 2*time.Minute)
	users := w.users(t)
	require.Len(t, users, want, "every account once")
	require.Positive(t, creates.Load(), "answers to creates were lost")
	log := entries(t, c, w.job.Name, len(ps))
	confirmed := requireCreatedOnce(t, log, users)
	require.Positive(t, confirmed, "creates whose answer was lost are confirmed")
	t.Logf("%d creates lost their answer; %d confirmed after a retry", creates.Load(), confirmed)
}
