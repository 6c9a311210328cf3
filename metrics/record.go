package metrics

import (
	"time"

	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
)

// orNop returns h, or a handler that records nothing when h is nil.
func orNop(h client.MetricsHandler) client.MetricsHandler {
	if h == nil {
		return client.MetricsNopHandler
	}
	return h
}

// CountEntries counts a job's log entries by object type, action and
// status. Dry-run entries changed nothing and are not counted.
func CountEntries(h client.MetricsHandler, job string, entries []audit.Entry) {
	type key struct{ objectType, action, status string }
	counts := map[key]int64{}
	for _, e := range entries {
		if !e.DryRun {
			counts[key{e.ObjectType, string(e.Action), string(e.Status)}]++
		}
	}
	h = orNop(h)
	for k, n := range counts {
		h.WithTags(map[string]string{LabelJob: job, LabelObjectType: k.objectType, LabelAction: k.action, LabelStatus: k.status}).Counter(Objects).Inc(n)
	}
}

// Escrowed records how many of a job's objects of one type wait in escrow.
func Escrowed(h client.MetricsHandler, job, objectType string, n int, now time.Time) {
	h = orNop(h).WithTags(map[string]string{LabelJob: job})
	h.WithTags(map[string]string{LabelObjectType: objectType}).Gauge(EscrowedObjects).Update(float64(n))
	h.Gauge(EscrowCounted).Update(unixSeconds(now))
}

// Job is what a job workflow reports of itself.
type Job struct {
	Name string
	// State is the job's state, one of States.
	State  string
	States []string
	// HeldDeletions counts the deletes and disables waiting for approval.
	HeldDeletions int
	// LastSuccess is when its last successful cycle ended; zero when none
	// did yet.
	LastSuccess time.Time
	// Now is the workflow's time.
	Now time.Time
}

// RecordJob records a job's gauges. It is called from workflow code, with
// the workflow's metrics handler, which records nothing during replays.
func RecordJob(h client.MetricsHandler, j Job) {
	h = orNop(h).WithTags(map[string]string{LabelJob: j.Name})
	for _, s := range j.States {
		v := 0.0
		if s == j.State {
			v = 1
		}
		h.WithTags(map[string]string{LabelState: s}).Gauge(JobState).Update(v)
	}
	h.Gauge(HeldDeletions).Update(float64(j.HeldDeletions))
	if !j.LastSuccess.IsZero() {
		h.Gauge(LastSuccess).Update(unixSeconds(j.LastSuccess))
	}
	h.Gauge(JobObserved).Update(unixSeconds(j.Now))
}

// RecordCycle times a cycle of a job that ended with outcome.
func RecordCycle(h client.MetricsHandler, job, kind, outcome string, d time.Duration) {
	orNop(h).WithTags(map[string]string{LabelJob: job, LabelKind: kind, LabelOutcome: outcome}).Timer(CycleDuration).Record(d)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
