package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A cycle stopped and resumed, or held and approved, returns to the job
// more than once under one ID: it is one cycle, from its first start to
// its last return.
func TestCycleRunsJoinsAResumedCycle(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	got := CycleRuns([]CycleResult{
		{Summary: CycleRun{ID: "1-a", Number: 1, Kind: "Initial", Started: t0, Finished: t0.Add(time.Minute), Read: 10, Staged: 10}},
		{Paused: true, Summary: CycleRun{ID: "2-a", Number: 2, Kind: "Incremental", Started: t0.Add(time.Hour), Finished: t0.Add(61 * time.Minute), Read: 5}},
		{HeldDeletes: 3, Summary: CycleRun{ID: "3-a", Number: 3, Kind: "Incremental", Started: t0.Add(3 * time.Hour), Finished: t0.Add(3*time.Hour + time.Second)}},
		{Summary: CycleRun{ID: "2-a", Number: 2, Kind: "Incremental", Started: t0.Add(62 * time.Minute), Finished: t0.Add(70 * time.Minute), Read: 5, Staged: 2}},
		{Summary: CycleRun{}}, // a result from before cycles returned summaries
	})
	require.Equal(t, []CycleRun{
		{ID: "1-a", Number: 1, Kind: "Initial", Started: t0, Finished: t0.Add(time.Minute), Read: 10, Staged: 10},
		{ID: "2-a", Number: 2, Kind: "Incremental", Started: t0.Add(time.Hour), Finished: t0.Add(70 * time.Minute), Read: 5, Staged: 2},
		{ID: "3-a", Number: 3, Kind: "Incremental", Started: t0.Add(3 * time.Hour), Finished: t0.Add(3*time.Hour + time.Second), Paused: true},
	}, got)
}
