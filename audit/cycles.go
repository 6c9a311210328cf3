package audit

import (
	"sort"
	"time"
)

// CycleRun is how a job's cycle ended, as the cycle workflow returned it
// to the job: its span from start to end, which its log entries do not
// have (the read before the first entry, the saving after the last), and
// what it read, including a cycle that found nothing to change and so
// logged nothing.
type CycleRun struct {
	ID       string    `json:"id"`
	Number   int       `json:"number"`
	Kind     string    `json:"kind"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Read     int       `json:"read"`
	Staged   int       `json:"staged"`
	// Paused is set when the cycle stopped on request or held its
	// deletions: it resumes under the same ID, and its last return wins.
	Paused bool `json:"paused,omitempty"`
}

// CycleResult is the part of a cycle workflow's result the report reads;
// the workflows package defines the whole, and imports this one.
type CycleResult struct {
	Paused      bool     `json:"paused"`
	HeldDeletes int      `json:"heldDeletes"`
	Summary     CycleRun `json:"summary"`
}

// CycleRuns makes one CycleRun per cycle ID of the results, which come in
// the order the job received them, and orders them by start.
func CycleRuns(results []CycleResult) []CycleRun {
	byID := map[string]int{}
	var out []CycleRun
	for _, res := range results {
		cy := res.Summary
		if cy.ID == "" {
			continue
		}
		cy.Paused = res.Paused || res.HeldDeletes > 0
		i, seen := byID[cy.ID]
		if !seen {
			byID[cy.ID] = len(out)
			out = append(out, cy)
			continue
		}
		// A resumed cycle keeps its start; its last return has the rest.
		if !out[i].Started.IsZero() && out[i].Started.Before(cy.Started) {
			cy.Started = out[i].Started
		}
		out[i] = cy
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}
