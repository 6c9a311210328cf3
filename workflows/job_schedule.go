package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/config"
)

// onSchedule returns the time when, by the job's schedule, a cycle the
// job starts by itself may start: when(schedule), or due for a job
// without one. Operators' sync-now and release do not ask it.
func (j *jobImpl) onSchedule(ctx workflow.Context, due time.Time, when func(*config.Schedule) time.Time) time.Time {
	s := j.cfg.Schedule
	if s == nil || workflow.GetVersion(ctx, scheduleChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return due
	}
	// Zone rules differ between machines and releases: the time is
	// recorded, so a replay waits as the run did.
	var at time.Time
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return when(s) }).Get(&at); err != nil {
		return due
	}
	return at
}

// firstOnSchedule is the first time at or after t the schedule allows.
func (j *jobImpl) firstOnSchedule(ctx workflow.Context, t time.Time) time.Time {
	return j.onSchedule(ctx, t, func(s *config.Schedule) time.Time { return s.First(t) })
}
