package audit_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
)

func TestReportGroupsByCycle(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	entries := []audit.Entry{
		{CycleID: "2-a", Action: audit.Update, Status: audit.Success, Time: t0.Add(time.Hour)},
		{CycleID: "1-a", Action: audit.Create, Status: audit.Success, Time: t0, DurationMs: 20},
		{CycleID: "1-a", Action: audit.Create, Status: audit.Failure, ErrorCode: "Conflict", Time: t0.Add(time.Second), DurationMs: 500},
		{CycleID: "1-a", Action: audit.Other, Status: audit.Failure, ErrorCode: "InvalidSourceRecord", Time: t0.Add(2 * time.Second)},
	}
	r := audit.Report(entries)
	require.Len(t, r, 2)
	require.Equal(t, "1-a", r[0].CycleID)
	require.Equal(t, 1, r[0].Counts.Of(audit.Create, audit.Success))
	require.Equal(t, map[string]int{"Conflict": 1, "InvalidSourceRecord": 1}, r[0].Errors)
	require.Equal(t, t0, r[0].Started)
	require.Equal(t, t0.Add(2*time.Second), r[0].Finished)
	require.Equal(t, 1, r[1].Counts.Total())
}

func TestReportTalliesObjectsInScope(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	user := func(cycle, id string, a audit.Action, s audit.Status, target string, sec int) audit.Entry {
		return audit.Entry{CycleID: cycle, ObjectType: "User", SourceID: id, Action: a, Status: s, TargetID: target, Time: at(sec)}
	}
	entries := []audit.Entry{
		user("1-a", "E1", audit.Create, audit.Success, "t1", 1),
		user("1-a", "E2", audit.Create, audit.Success, "t2", 2),
		user("1-a", "E3", audit.Other, audit.Skipped, "t3", 3), // matched, already up to date
		user("1-a", "E4", audit.Create, audit.Failure, "", 4),  // in escrow: not provisioned
		user("1-a", "E5", audit.Other, audit.Skipped, "", 5),   // out of scope, never linked
		{CycleID: "1-a", ObjectType: "Group", SourceID: "G1", Action: audit.Create, Status: audit.Success, TargetID: "g1", Time: at(6)},
		user("2-a", "E1", audit.Disable, audit.Success, "t1", 10),
		user("2-a", "E2", audit.Delete, audit.Failure, "t2", 11), // still there
		user("2-a", "E4", audit.Create, audit.Success, "t4", 12),
		user("3-a", "E1", audit.Other, audit.Skipped, "t1", 20),  // already disabled: stays out
		user("3-a", "E1", audit.Update, audit.Success, "t1", 21), // back in scope
	}
	r := audit.Report(entries)
	require.Len(t, r, 3)
	require.Equal(t, map[string]int{"User": 3, "Group": 1}, r[0].InScope)
	require.Equal(t, map[string]int{"User": 3, "Group": 1}, r[1].InScope)
	require.Equal(t, map[string]int{"User": 4, "Group": 1}, r[2].InScope)
}

func TestReporterTopErrors(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r := audit.NewReporter()
	fail := func(cycle, code, reason, name string, sec int) {
		r.Add(audit.Entry{CycleID: cycle, SourceID: name, DisplayName: name, Action: audit.Create, Status: audit.Failure, ErrorCode: code, Reason: reason, Time: t0.Add(time.Duration(sec) * time.Second)})
	}
	for i := range 5 {
		fail("1-a", "Conflict", "userName taken", "u"+strconv.Itoa(i), i)
	}
	fail("1-a", "Conflict", "other reason", "v", 10)
	fail("2-a", "Conflict", "userName taken", "w", 20)
	for i := range 104 {
		fail("2-a", "InvalidSourceRecord", "row "+strconv.Itoa(i), "r"+strconv.Itoa(i), 30+i)
	}
	fail("2-a", "Timeout", "deadline", "x", 200)

	top := audit.NewReporter().TopErrors(5)
	require.Empty(t, top)
	top = r.TopErrors(2)
	require.Len(t, top, 2)
	require.Equal(t, "InvalidSourceRecord", top[0].Code)
	require.Equal(t, 104, top[0].Count)
	require.Len(t, top[0].Reasons, 3)
	require.Equal(t, 101, top[0].OtherReasons, "reasons past the kept ones still count")
	require.Equal(t, audit.ErrorSummary{
		Code: "Conflict", Count: 7, Cycles: 2, LastSeen: t0.Add(20 * time.Second), LastObject: "w",
		Reasons: []audit.ReasonCount{{Reason: "userName taken", Count: 6}, {Reason: "other reason", Count: 1}},
	}, top[1])
}

func TestReportTakesCycleSpansAndQuietCyclesFromTheJob(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r := audit.NewReporter()
	r.Add(audit.Entry{CycleID: "1-a", ObjectType: "User", SourceID: "E1", TargetID: "t1", Action: audit.Create, Status: audit.Success, Time: t0.Add(2 * time.Second), DurationMs: 10})
	r.AddCycles([]audit.CycleRun{
		{ID: "1-a", Number: 1, Kind: "Initial", Started: t0, Finished: t0.Add(5 * time.Second), Read: 3, Staged: 1},
		{ID: "2-a", Number: 2, Kind: "Incremental", Started: t0.Add(time.Hour), Finished: t0.Add(time.Hour + time.Second)},
	})
	cycles := r.Cycles()
	require.Len(t, cycles, 2)
	require.Equal(t, audit.CycleReport{CycleID: "1-a", Started: t0, Finished: t0.Add(5 * time.Second), Counts: audit.Counts{"Create/Success": 1},
		Kind: "Initial", Read: 3, Staged: 1, InScope: map[string]int{"User": 1}}, cycles[0])
	require.Equal(t, audit.CycleReport{CycleID: "2-a", Started: t0.Add(time.Hour), Finished: t0.Add(time.Hour + time.Second), Counts: audit.Counts{},
		Kind: "Incremental", InScope: map[string]int{"User": 1}}, cycles[1], "a cycle with nothing to do is reported, its objects in scope unchanged")
}
