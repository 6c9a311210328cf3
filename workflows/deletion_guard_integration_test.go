package workflows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/mapping"
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
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.HeldDeletes > 0
	}, time.Minute, 100*time.Millisecond)
	st := status(t, c, w.job.Name)
	require.Equal(t, api.Paused, st.State)
	require.Contains(t, st.LastError, "TooManyDeletes")
	for _, u := range w.users(t) {
		require.True(t, active(u), "nothing is disabled while deletions are held")
	}
	require.Zero(t, w.app.Stats().Requests["PATCH /Users"])

	signal(t, c, w.job.Name, api.SignalRestart, api.RestartRequest{Scopes: []string{"ForceDeletes"}})
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Running, st.State)
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
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.HeldDeletes > 0
	}, time.Minute, 100*time.Millisecond)
	st := status(t, c, w.job.Name)
	require.Equal(t, api.Paused, st.State)
	require.Equal(t, inScope(ps[:50]), st.HeldDeletes, "the employees who would leave scope")
	require.Contains(t, st.LastError, "out of scope")
	require.Zero(t, w.app.Stats().Requests["PATCH /Users"])

	writeHR(t, w.hrPath, ps)
	signal(t, c, w.job.Name, api.SignalRestart, nil)
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Running, st.State)
	for _, u := range w.users(t) {
		require.True(t, active(u), "the fixed export disables nobody")
	}
	require.Len(t, w.users(t), inScope(ps))
}

// heldBy waits until the job holds a cycle's removals and returns its status.
func heldBy(t *testing.T, c client.Client, job string) api.Status {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, job)
		return err == nil && s.HeldDeletes > 0
	}, time.Minute, 100*time.Millisecond)
	return status(t, c, job)
}

// stagedDeletes returns the held cycle's StagedDelete log entries.
func stagedDeletes(t *testing.T, c client.Client, st api.Status, want int) []audit.Entry {
	t.Helper()
	f := audit.Filter{CycleID: st.HeldCycle, Action: audit.StagedDelete}
	var held []audit.Entry
	for _, e := range entries(t, c, st.Job, want) {
		if f.Match(e) {
			held = append(held, e)
		}
	}
	return held
}

// With default options, an HR export that arrives with its header only
// disables nobody: the job pauses with the reason in status, every held
// disable is in the log as a StagedDelete entry, and ForceDeletes then
// applies them.
func TestDeletionGuardDefaultHoldsEmptyAndTruncatedExports(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	for _, tc := range []struct {
		name   string
		keep   int
		reason string
	}{
		{"empty", 0, "the source returned no User objects"},
		{"truncated", 40, "over the threshold of 20%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "guard-default-"+tc.name)
			require.Nil(t, w.job.Options.DeletionThreshold, "default options")
			ps := people(100)
			writeHR(t, w.hrPath, ps)
			startJob(t, c, w.job)
			st := waitCycle(t, c, w.job.Name, 1, time.Minute)
			created := st.LastCycle.Counts.Of(audit.Create, audit.Success)
			require.Equal(t, inScope(ps), created)

			writeHR(t, w.hrPath, ps[:tc.keep])
			w.app.ResetStats()
			signal(t, c, w.job.Name, api.SignalSyncNow, nil)
			st = heldBy(t, c, w.job.Name)
			want := inScope(ps) - inScope(ps[:tc.keep])
			require.Equal(t, api.Paused, st.State)
			require.Equal(t, want, st.HeldDeletes)
			require.Contains(t, st.LastError, "TooManyDeletes")
			require.Contains(t, st.LastError, tc.reason)
			for _, u := range w.users(t) {
				require.True(t, active(u), "nothing is disabled while removals are held")
			}
			require.Zero(t, w.app.Stats().Requests["PATCH /Users"])

			held := stagedDeletes(t, c, st, created+want)
			require.Len(t, held, want, "every held disable is listed")
			for _, e := range held {
				require.Equal(t, audit.Skipped, e.Status)
				require.NotEmpty(t, e.TargetID)
				require.Contains(t, e.Reason, "Disable held by the accidental-deletion guard")
			}

			signal(t, c, w.job.Name, api.SignalRestart, api.RestartRequest{Scopes: []string{"ForceDeletes"}})
			st = waitCycle(t, c, w.job.Name, 2, time.Minute)
			require.Equal(t, api.Running, st.State)
			require.Zero(t, st.HeldDeletes)
			disabled := 0
			for _, u := range w.users(t) {
				if !active(u) {
					disabled++
				}
			}
			require.Equal(t, want, disabled, "the approved disables are applied")
			require.Equal(t, want, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
		})
	}
}

// `deletionThreshold: off` turns the guard off: the empty export disables
// everyone without a pause, as the operator asked.
func TestDeletionGuardOff(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "guard-off")
	w.job.Options.DeletionThreshold = &config.DeletionThreshold{Off: true}
	ps := people(30)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)

	writeHR(t, w.hrPath, nil)
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st := waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Running, st.State)
	require.Equal(t, inScope(ps), st.LastCycle.Counts.Of(audit.Disable, audit.Success))
}

// With an LDAP delta source, the guard's percentage is taken over the
// objects the job has linked, not over the cycle's delta: one leaver in a
// quiet cycle is the whole delta, yet one of many accounts, and is
// disabled without a pause.
func TestDeletionGuardOneLeaverFromDeltaSource(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := slapd.Start(t, slapd.Options{})
	var ldif strings.Builder
	for i := 1; i <= 30; i++ {
		ldif.WriteString(personLDIF(fmt.Sprintf("u%02d", i), "Given", fmt.Sprintf("Family%02d", i), "Employee", fmt.Sprintf("employeeNumber: %d", 1000+i)))
	}
	dir.Modify(t, ldif.String())
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "guard-ldap-leaver")
	w.job.Source = peopleSource(dir)
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1},
		{Target: "name.familyName", Type: mapping.Direct, Source: "sn"},
	}
	// The default's percentage, written out: before it was taken over
	// what the job knows, this one leaver was 100% of the cycle.
	w.job.Options.DeletionThreshold = &config.DeletionThreshold{Percent: config.DefaultDeletionPercent}
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Len(t, w.users(t), 30)

	dir.Modify(t, "dn: uid=u07,"+slapd.People+"\nchangetype: modify\nadd: businessCategory\nbusinessCategory: disabled\n\n")
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st := waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Running, st.State)
	require.Zero(t, st.HeldDeletes)
	require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
	require.False(t, active(w.users(t)["u07@example.org"]))
}

// A group gone from a snapshot source is deleted in the target only when
// the job deletes what is absent; otherwise it is left in place, no
// longer managed, and the log says so.
func TestAbsentGroupsDeletedOnlyWithDeleteAbsent(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	for _, deleteAbsent := range []bool{false, true} {
		t.Run(fmt.Sprint("deleteAbsent=", deleteAbsent), func(t *testing.T) {
			name := fmt.Sprint("absent-groups-", deleteAbsent)
			target, app := sampleTarget(t, name)
			w := newGroupWorld(t, name, target, false)
			w.job.Options.DeleteAbsent = deleteAbsent
			for i := 1; i <= 20; i++ {
				w.emps = append(w.emps, employee{ID: fmt.Sprintf("E%d", i), UserName: fmt.Sprintf("u%d@example.com", i)})
			}
			for i := 1; i <= 20; i++ {
				w.grps = append(w.grps, sourceGroup{ID: fmt.Sprintf("G%d", i), Name: fmt.Sprintf("Team %d", i), Members: []string{"E1"}})
			}
			st := w.sync(t, c, 1)
			require.Len(t, st.Groups, 20)

			w.grps = w.grps[1:]
			app.ResetStats()
			st = w.sync(t, c, 2)
			if !deleteAbsent {
				require.Zero(t, app.Stats().Requests["DELETE /Groups"], "groups are never hard-deleted")
				require.Equal(t, []string{"u1@example.com"}, st.Groups["Team 1"], "left in place")
				var left *audit.Entry
				for _, e := range entries(t, c, w.job.Name, 1) {
					if e.ObjectType == "Group" && e.SourceID == "G1" && e.CycleID != "" && strings.Contains(e.Reason, "left in place") {
						left = &e
					}
				}
				require.NotNil(t, left, "the log says the group was left in place")
				return
			}
			require.Equal(t, 1, app.Stats().Requests["DELETE /Groups"])
			require.NotContains(t, st.Groups, "Team 1")
		})
	}
}
