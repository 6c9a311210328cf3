package audit

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/client"
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

// cycleResult is the part of a cycle workflow's result read here; the
// workflows package defines the whole, and imports this one.
type cycleResult struct {
	Paused      bool     `json:"paused"`
	HeldDeletes int      `json:"heldDeletes"`
	Summary     CycleRun `json:"summary"`
}

// ReadCycleRuns returns the cycles a job's history records as returned,
// one per cycle ID, in the order they started. It reads the job's runs
// only, not its cycles'.
func ReadCycleRuns(ctx context.Context, c client.Client, namespace, job string) ([]CycleRun, error) {
	r := &reader{c: c, dc: converterOf(c), namespace: namespace}
	runs, err := r.jobRuns(ctx, jobWorkflowID(job))
	if err != nil {
		return nil, err
	}
	var results []cycleResult
	for _, run := range runs {
		for _, p := range run.ended {
			if len(p.GetPayloads()) == 0 {
				continue
			}
			var res cycleResult
			if err := r.dc.FromPayload(p.GetPayloads()[0], &res); err != nil {
				return nil, fmt.Errorf("decode a cycle's result in workflow %s run %s: %w", jobWorkflowID(job), run.id, err)
			}
			results = append(results, res)
		}
	}
	return cycleRuns(results), nil
}

// cycleRuns makes one CycleRun per cycle ID of the results, which come in
// the order the job received them, and orders them by start.
func cycleRuns(results []cycleResult) []CycleRun {
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
