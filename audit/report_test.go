package audit_test

import (
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
