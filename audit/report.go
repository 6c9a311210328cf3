package audit

import (
	"sort"
	"time"
)

// CycleReport summarises one cycle's log entries: the provisioning summary
// report operators read per cycle.
type CycleReport struct {
	CycleID string `json:"cycleId"`
	// Started and Finished span the cycle's entries.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Counts   Counts    `json:"counts"`
	// Errors counts failures by error code.
	Errors map[string]int `json:"errors,omitempty"`
	// DryRun is true for a preview's entries.
	DryRun bool `json:"dryRun,omitempty"`
}

// Report groups entries by cycle, in the order cycles started.
func Report(entries []Entry) []CycleReport {
	byCycle := map[string]*CycleReport{}
	var order []string
	for _, e := range entries {
		r, ok := byCycle[e.CycleID]
		if !ok {
			r = &CycleReport{CycleID: e.CycleID, Started: e.Time, Counts: Counts{}, DryRun: e.DryRun}
			byCycle[e.CycleID] = r
			order = append(order, e.CycleID)
		}
		r.Counts.Add(e)
		if e.ErrorCode != "" {
			if r.Errors == nil {
				r.Errors = map[string]int{}
			}
			r.Errors[e.ErrorCode]++
		}
		if e.Time.Before(r.Started) {
			r.Started = e.Time
		}
		if end := e.Time.Add(time.Duration(e.DurationMs) * time.Millisecond); end.After(r.Finished) {
			r.Finished = end
		}
	}
	out := make([]CycleReport, 0, len(order))
	for _, id := range order {
		out = append(out, *byCycle[id])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}
