package workflows_test

import (
	"time"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/workflows"
)

// A job with a window starts its first cycle when the window opens and
// later cycles at its interval within it; the next window's opening
// follows the last start that fits.
func (s *jobSuite) TestScheduleWindow() {
	berlin, err := time.LoadLocation("Europe/Berlin")
	s.Require().NoError(err)
	// Friday 2026-12-04 18:00 in Berlin; weekday nights 20:00-21:00.
	start := time.Date(2026, 12, 4, 18, 0, 0, 0, berlin)
	s.env.SetStartTime(start)
	job := testJob()
	job.Interval = config.Duration(25 * time.Minute)
	job.Schedule = &config.Schedule{Window: &config.Window{Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, From: "20:00", To: "21:00"}, TimeZone: "Europe/Berlin"}

	var before, inWindow, after api.Status
	s.at(time.Minute, func() { before = s.status() })
	s.at(2*time.Hour+time.Minute, func() { inWindow = s.status() })
	s.at(3*time.Hour+time.Minute, func() { after = s.status(); s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})
	s.Require().True(s.env.IsWorkflowCompleted())

	s.Equal(0, before.CycleNumber, "nothing runs before the window opens")
	s.True(before.NextRun.Equal(time.Date(2026, 12, 4, 20, 0, 0, 0, berlin)), "next run %s", before.NextRun.In(berlin))
	s.Equal("Mon,Tue,Wed,Thu,Fri 20:00-21:00 (Europe/Berlin)", before.Schedule)
	s.Equal(1, inWindow.CycleNumber)
	// Cycles at 20:00, 20:25 and 20:50; 21:15 is past closing: Monday.
	s.Equal(3, after.CycleNumber)
	s.True(after.NextRun.Equal(time.Date(2026, 12, 7, 20, 0, 0, 0, berlin)), "next run %s", after.NextRun.In(berlin))
	s.Len(s.fetches, 3)
}

// A job with a cron expression starts cycles at the times it names, not
// at its interval; sync-now runs one at once all the same.
func (s *jobSuite) TestScheduleCronAndSyncNow() {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	s.env.SetStartTime(start)
	job := testJob()
	job.Schedule = &config.Schedule{Cron: "0 2 * * *"}

	var waiting, synced, nightly api.Status
	s.at(time.Hour, func() { waiting = s.status() })
	s.at(2*time.Hour, func() { s.env.SignalWorkflow(api.SignalSyncNow, nil) })
	s.at(2*time.Hour+time.Minute, func() { synced = s.status() })
	s.at(16*time.Hour+time.Minute, func() { nightly = s.status(); s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})
	s.Require().True(s.env.IsWorkflowCompleted())

	s.Equal(0, waiting.CycleNumber)
	s.True(waiting.NextRun.Equal(time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)), "next run %s", waiting.NextRun)
	s.Equal(1, synced.CycleNumber, "sync-now does not wait for the schedule")
	s.Equal(api.Initial, synced.LastCycle.Kind)
	s.True(synced.NextRun.Equal(time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)), "the interval is not used: next run %s", synced.NextRun)
	s.Equal(2, nightly.CycleNumber)
	s.True(nightly.NextRun.Equal(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)), "next run %s", nightly.NextRun)
}
