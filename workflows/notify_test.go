package workflows_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/metrics/metricstest"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/workflows"
)

// noticeSuite is the job suite with the notices the job sends recorded;
// each notice takes delay to send.
func noticeSuite(t *testing.T, delay time.Duration) (*jobSuite, *[]notify.Notice) {
	s := new(jobSuite)
	s.SetT(t)
	s.SetupTest()
	var notices []notify.Notice
	s.env.OnActivity(acts.Notify, mock.Anything, mock.Anything).After(delay).Return(func(_ context.Context, n notify.Notice) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		notices = append(notices, n)
		return nil
	})
	return s, &notices
}

func events(ns []notify.Notice) []notify.Event {
	out := make([]notify.Event, len(ns))
	for i, n := range ns {
		out[i] = n.Event
	}
	return out
}

// Quarantine is notified once, however often it is asked for, and so is
// the release that ends it.
func TestNoticeOfQuarantineAndRecovery(t *testing.T) {
	s, notices := noticeSuite(t, 0)
	s.at(time.Minute, func() { s.env.SignalWorkflow(api.SignalQuarantine, nil) })
	s.at(2*time.Minute, func() { s.env.SignalWorkflow(api.SignalQuarantine, nil) })
	s.at(2*time.Hour, func() { s.env.SignalWorkflow(api.SignalRelease, nil) })
	s.at(2*time.Hour+time.Minute, func() { s.env.CancelWorkflow() })
	s.run()

	require.Equal(t, []notify.Event{notify.Quarantined, notify.Recovered}, events(*notices))
	q, r := (*notices)[0], (*notices)[1]
	require.Equal(t, "hr", q.Job)
	require.Equal(t, "app", q.Application)
	require.Equal(t, string(api.Quarantined), q.State)
	require.Equal(t, "QuarantinedOnDemand", q.Reason)
	require.NotEmpty(t, q.Workflow)
	require.Equal(t, notify.Quarantined, r.From)
	require.Equal(t, string(api.Running), r.State)
	require.Equal(t, time.Hour+59*time.Minute, r.Time.Sub(q.Time))
}

// Held deletions are notified with their number, and their approval as a
// recovery.
func TestNoticeOfHeldDeletions(t *testing.T) {
	s, notices := noticeSuite(t, 0)
	s.deleted = 30
	s.at(time.Minute, func() {
		s.mu.Lock()
		s.deleted = 0
		s.mu.Unlock()
		s.env.SignalWorkflow(api.SignalRestart, api.RestartRequest{Scopes: []string{"ForceDeletes"}})
	})
	s.at(2*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()

	require.Equal(t, []notify.Event{notify.DeletionsHeld, notify.Recovered}, events(*notices))
	require.Equal(t, 30, (*notices)[0].HeldDeletions)
	require.Contains(t, (*notices)[0].Reason, "TooManyDeletes")
	require.Equal(t, notify.DeletionsHeld, (*notices)[1].From)
}

// A job quarantined past its limit is disabled, which is notified; stopping
// it then is no new quarantine, and starting it again is its recovery.
func TestNoticeOfDisabledJob(t *testing.T) {
	s, notices := noticeSuite(t, 0)
	s.refuse = true
	job := testJob()
	job.Options.DisableAfterQuarantine = config.Duration(36 * time.Hour)
	s.at(49*time.Hour, func() { s.env.SignalWorkflow(api.SignalStop, nil) })
	s.at(50*time.Hour, func() {
		s.mu.Lock()
		s.refuse = false
		s.mu.Unlock()
		s.env.SignalWorkflow(api.SignalStart, nil)
	})
	s.at(51*time.Hour, func() { s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})
	require.True(t, s.env.IsWorkflowCompleted())

	require.Equal(t, []notify.Event{notify.Quarantined, notify.Disabled, notify.Recovered}, events(*notices))
	require.Contains(t, (*notices)[1].Reason, "disabled after 36h0m0s in quarantine")
	require.Equal(t, notify.Disabled, (*notices)[2].From)
}

// The job continues as new only once its notice is sent: a notice in
// flight would be dropped with the run. The next run carries the
// condition notified, and does not notify it again.
func TestContinueAsNewWaitsForNotices(t *testing.T) {
	s, notices := noticeSuite(t, 10*time.Minute)
	s.at(time.Minute, func() {
		s.env.SetContinueAsNewSuggested(true)
		s.env.SignalWorkflow(api.SignalQuarantine, nil)
	})
	s.run()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(s.env.GetWorkflowError(), &can), "got %v", s.env.GetWorkflowError())
	require.Len(t, *notices, 1, "the notice was sent before the run continued as new")
	var in workflows.JobInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	require.Equal(t, notify.Quarantined, in.State.Notified)
}

// The job's gauges and its cycles' durations reach the metrics handler.
func TestJobMetrics(t *testing.T) {
	exp, err := metrics.NewExporter(func(err error) { t.Error(err) })
	require.NoError(t, err)
	s := new(jobSuite)
	s.SetT(t)
	s.SetMetricsHandler(exp.Handler)
	s.SetupTest()
	s.env.OnActivity(acts.Notify, mock.Anything, mock.Anything).Return(nil)
	var first metricstest.Scrape
	srv := httptest.NewServer(exp.HTTPHandler())
	t.Cleanup(srv.Close)
	s.at(15*time.Minute, func() { first = metricstest.Get(t, srv.URL) })
	s.at(16*time.Minute, func() { s.env.SignalWorkflow(api.SignalQuarantine, nil) })
	s.at(17*time.Minute, func() { s.env.CancelWorkflow() })
	s.run()
	last := metricstest.Get(t, srv.URL)

	job := map[string]string{metrics.LabelJob: "hr"}
	state := func(sc metricstest.Scrape, st api.State) float64 {
		v, ok := sc.Value(metrics.JobState, map[string]string{metrics.LabelJob: "hr", metrics.LabelState: string(st)})
		require.True(t, ok, st)
		return v
	}
	require.EqualValues(t, 1, state(first, api.Running))
	require.EqualValues(t, 0, state(first, api.Quarantined))
	require.EqualValues(t, 0, state(last, api.Running))
	require.EqualValues(t, 1, state(last, api.Quarantined))
	cycles, _ := first.Value(metrics.CycleDuration+"_seconds_count", map[string]string{metrics.LabelJob: "hr", metrics.LabelOutcome: "succeeded"})
	require.EqualValues(t, 2, cycles, "the initial cycle and the incremental one 10 minutes later")
	success, ok := first.Value(metrics.LastSuccess, job)
	require.True(t, ok)
	require.Positive(t, success)
	held, ok := last.Value(metrics.HeldDeletions, job)
	require.True(t, ok)
	require.Zero(t, held)
}
