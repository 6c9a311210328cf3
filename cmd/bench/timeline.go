package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
)

// timeline is where a cycle's time went, read back from the histories of
// its runs: the fetch, the batches (queued and executing), the workflow
// tasks between them and the hand-over between runs.
type timeline struct {
	runs         int
	span         time.Duration // first run's start to last run's close
	fetch        time.Duration // FetchChanges, scheduled to closed
	finish       time.Duration // FinishCycle, scheduled to closed
	batches      int
	batchQueued  time.Duration // sum over batches, scheduled to started
	batchRunning time.Duration // sum over batches, started to closed
	batchSpan    time.Duration // first batch scheduled to last batch closed
	wfTasks      int
	wfTaskTime   time.Duration // sum over workflow tasks, scheduled to completed
	handOver     time.Duration // sum of gaps between a run's close and the next run's start
}

type activityTimes struct {
	kind                     string
	scheduled, started, done time.Time
}

// cycleTimeline reads every run of cycle n; runs must be sorted by start.
func cycleTimeline(ctx context.Context, c client.Client, runs []runSize, n int) (timeline, error) {
	id := fmt.Sprintf("%s/cycle-%d", api.JobWorkflowID(jobName), n)
	var (
		t                      timeline
		first, last, lastClose time.Time
		batchFirst, batchLast  time.Time
	)
	for _, r := range runs {
		if r.workflowID != id {
			continue
		}
		t.runs++
		acts := map[int64]*activityTimes{}
		wfScheduled := map[int64]time.Time{}
		var runStart, runEnd time.Time
		it := c.GetWorkflowHistory(ctx, r.workflowID, r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return t, fmt.Errorf("history of %s: %w", id, err)
			}
			at := ev.GetEventTime().AsTime()
			if runStart.IsZero() {
				runStart = at
			}
			runEnd = at
			switch {
			case ev.GetActivityTaskScheduledEventAttributes() != nil:
				acts[ev.GetEventId()] = &activityTimes{kind: ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(), scheduled: at}
			case ev.GetActivityTaskStartedEventAttributes() != nil:
				if a := acts[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; a != nil {
					a.started = at
				}
			case ev.GetActivityTaskCompletedEventAttributes() != nil:
				if a := acts[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]; a != nil {
					a.done = at
				}
			case ev.GetActivityTaskFailedEventAttributes() != nil:
				if a := acts[ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()]; a != nil {
					a.done = at
				}
			case ev.GetWorkflowTaskScheduledEventAttributes() != nil:
				wfScheduled[ev.GetEventId()] = at
			case ev.GetWorkflowTaskCompletedEventAttributes() != nil:
				if s, ok := wfScheduled[ev.GetWorkflowTaskCompletedEventAttributes().GetScheduledEventId()]; ok {
					t.wfTasks++
					t.wfTaskTime += at.Sub(s)
				}
			}
		}
		if !lastClose.IsZero() {
			t.handOver += runStart.Sub(lastClose)
		}
		lastClose = runEnd
		if first.IsZero() {
			first = runStart
		}
		last = runEnd
		for _, a := range acts {
			if a.done.IsZero() {
				continue
			}
			switch a.kind {
			case "FetchChanges":
				t.fetch += a.done.Sub(a.scheduled)
			case "FinishCycle":
				t.finish += a.done.Sub(a.scheduled)
			case "ProvisionBatch":
				t.batches++
				if !a.started.IsZero() {
					t.batchQueued += a.started.Sub(a.scheduled)
					t.batchRunning += a.done.Sub(a.started)
				}
				if batchFirst.IsZero() || a.scheduled.Before(batchFirst) {
					batchFirst = a.scheduled
				}
				if a.done.After(batchLast) {
					batchLast = a.done
				}
			}
		}
	}
	if t.runs == 0 {
		return t, fmt.Errorf("no run of %s listed", id)
	}
	t.span, t.batchSpan = last.Sub(first), batchLast.Sub(batchFirst)
	return t, nil
}
