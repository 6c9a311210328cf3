package api

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
)

// State is where a job is in its life.
type State string

// Job states.
const (
	Running     State = "Running"
	Paused      State = "Paused"
	Quarantined State = "Quarantined"
	// Disabled is where a job ends after too long in quarantine; start,
	// release or restart bring it back.
	Disabled State = "Disabled"
	// Validating is what status reports of a new job while the worker
	// checks its configuration, before the first cycle; no job is saved
	// in it.
	Validating State = "Validating"
)

// CycleKind says whether a cycle reads every source object or only changes.
type CycleKind string

// Cycle kinds.
const (
	Initial     CycleKind = "Initial"
	Incremental CycleKind = "Incremental"
)

// Quarantine says why a job is quarantined and when it tries again.
type Quarantine struct {
	Reason      string    `json:"reason"`
	Since       time.Time `json:"since"`
	NextAttempt time.Time `json:"nextAttempt"`
}

// SteadyState records when a cycle last found nothing to change.
type SteadyState struct {
	FirstAchieved time.Time `json:"firstAchieved,omitempty"`
	LastAchieved  time.Time `json:"lastAchieved,omitempty"`
}

// CycleSummary is the provisioning summary of one finished cycle.
type CycleSummary struct {
	Number   int          `json:"number"`
	ID       string       `json:"id"`
	Kind     CycleKind    `json:"kind"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Read     int          `json:"read"`
	Staged   int          `json:"staged"`
	Counts   audit.Counts `json:"counts"`
	Error    string       `json:"error,omitempty"`
}

// CycleProgress is how far a running cycle is. The cycle answers it to
// the progress query; the job's status knows only the cycle's number,
// kind and workflow, with PhaseRunning, unless the cycle (one recorded
// before cycles answered the query) signals its progress.
type CycleProgress struct {
	Number    int          `json:"number"`
	Kind      CycleKind    `json:"kind"`
	Phase     string       `json:"phase"`
	Started   time.Time    `json:"started"`
	Total     int          `json:"total"`
	Processed int          `json:"processed"`
	Counts    audit.Counts `json:"counts"`
	// Workflow is the cycle's workflow ID, which answers the progress query.
	Workflow string `json:"workflow,omitempty"`
}

// PhaseRunning is the phase a job's status gives a cycle whose progress
// only the cycle knows.
const PhaseRunning = "Running"

// Status answers the status query.
type Status struct {
	Job         string         `json:"job"`
	Application string         `json:"application"`
	State       State          `json:"state"`
	Current     *CycleProgress `json:"current,omitempty"`
	LastCycle   *CycleSummary  `json:"lastCycle,omitempty"`
	CycleNumber int            `json:"cycleNumber"`
	NextKind    CycleKind      `json:"nextKind"`
	NextRun     time.Time      `json:"nextRun,omitempty"`
	// Schedule describes when the job may start cycles by itself, when
	// its configuration confines them (config.Schedule).
	Schedule       string       `json:"schedule,omitempty"`
	Totals         audit.Counts `json:"totals"`
	LastError      string       `json:"lastError,omitempty"`
	Quarantine     *Quarantine  `json:"quarantine,omitempty"`
	SteadyState    SteadyState  `json:"steadyState"`
	MappingVersion string       `json:"mappingVersion"`
	DryRun         bool         `json:"dryRun,omitempty"`
	HeldDeletes    int          `json:"heldDeletes,omitempty"`
	// HeldCycle is the cycle whose StagedDelete log entries list the held
	// deletes and disables.
	HeldCycle string `json:"heldCycle,omitempty"`
	// Escrows counts the objects awaiting retry after a failed attempt,
	// as the last cycle left them (the escrows update lists them).
	Escrows int `json:"escrows,omitempty"`
}

// JobStatus answers a job's status query and, while a cycle runs, asks the
// cycle how far it is: the job knows only which cycle runs. When the cycle
// cannot answer (it just ended, or a worker of an earlier release runs
// it), the job's own account of the cycle stands.
func JobStatus(ctx context.Context, c client.Client, job string) (Status, error) {
	var st Status
	resp, err := c.QueryWorkflow(ctx, JobWorkflowID(job), "", QueryStatus)
	if err == nil {
		err = resp.Get(&st)
	}
	if err != nil {
		return st, fmt.Errorf("status of job %s: %w", job, err)
	}
	if cur := st.Current; cur != nil && cur.Workflow != "" {
		var p CycleProgress
		if resp, err := c.QueryWorkflow(ctx, cur.Workflow, "", QueryProgress); err == nil && resp.Get(&p) == nil && p.Number == cur.Number {
			p.Workflow = cur.Workflow
			st.Current = &p
		}
	}
	return st, nil
}
