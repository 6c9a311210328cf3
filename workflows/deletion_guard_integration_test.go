package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/workflows"
)

// A truncated HR export (half the rows gone) trips the accidental-deletion
// guard: nothing is disabled and the job pauses until an operator approves
// the deletions with a ForceDeletes restart.
func TestDeletionGuardHoldsTruncatedExport(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "guard")
	w.job.Options.DeletionThreshold = &config.DeletionThreshold{Count: 20, Percent: 10}
	ps := people(100)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	want := inScope(ps)

	writeHR(t, w.hrPath, ps[:50])
	w.app.ResetStats()
	signal(t, c, w.job.Name, workflows.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.HeldDeletes > 0
	}, time.Minute, 100*time.Millisecond)
	st := status(t, c, w.job.Name)
	require.Equal(t, workflows.Paused, st.State)
	require.Contains(t, st.LastError, "TooManyDeletes")
	for _, u := range w.users(t) {
		require.True(t, active(u), "nothing is disabled while deletions are held")
	}
	require.Zero(t, w.app.Stats().Requests["PATCH /Users"])

	signal(t, c, w.job.Name, workflows.SignalRestart, workflows.RestartRequest{Scopes: []string{"ForceDeletes"}})
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, workflows.Running, st.State)
	disabled := 0
	for _, u := range w.users(t) {
		if !active(u) {
			disabled++
		}
	}
	require.Equal(t, want-inScope(ps[:50]), disabled)
	require.Equal(t, disabled, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
}

// An export in which half the staff became contractors, out of scope, trips
// the guard as well: those accounts would be disabled. Once the export is
// fixed, a plain restart runs, and nobody is disabled.
func TestDeletionGuardHoldsMassScopeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "guard-scope")
	w.job.Options.DeletionThreshold = &config.DeletionThreshold{Count: 20}
	ps := people(100)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)

	wrong := append([]person(nil), ps...)
	for i := range wrong[:50] {
		wrong[i].Type = "Contractor"
	}
	writeHR(t, w.hrPath, wrong)
	w.app.ResetStats()
	signal(t, c, w.job.Name, workflows.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.HeldDeletes > 0
	}, time.Minute, 100*time.Millisecond)
	st := status(t, c, w.job.Name)
	require.Equal(t, workflows.Paused, st.State)
	require.Equal(t, inScope(ps[:50]), st.HeldDeletes, "the employees who would leave scope")
	require.Contains(t, st.LastError, "out of scope")
	require.Zero(t, w.app.Stats().Requests["PATCH /Users"])

	writeHR(t, w.hrPath, ps)
	signal(t, c, w.job.Name, workflows.SignalRestart, nil)
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, workflows.Running, st.State)
	for _, u := range w.users(t) {
		require.True(t, active(u), "the fixed export disables nobody")
	}
	require.Len(t, w.users(t), inScope(ps))
}
