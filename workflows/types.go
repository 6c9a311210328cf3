package workflows

import (
	"time"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/store"
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

// JobInput starts a job workflow; State is set when a run continues as new.
type JobInput struct {
	Config config.Job `json:"config"`
	State  *JobState  `json:"state,omitempty"`
}

// JobState is everything a job carries from one run to the next.
type JobState struct {
	State          State          `json:"state"`
	CycleNumber    int            `json:"cycleNumber"`
	NextKind       CycleKind      `json:"nextKind"`
	NextRun        time.Time      `json:"nextRun"`
	SyncNow        bool           `json:"syncNow,omitempty"`
	MappingVersion string         `json:"mappingVersion"`
	PausedCycle    *CycleInput    `json:"pausedCycle,omitempty"`
	LastCycle      *CycleSummary  `json:"lastCycle,omitempty"`
	Totals         audit.Counts   `json:"totals"`
	LastError      string         `json:"lastError,omitempty"`
	Quarantine     *Quarantine    `json:"quarantine,omitempty"`
	SteadyState    SteadyState    `json:"steadyState"`
	Current        *CycleProgress `json:"current,omitempty"`
	// HeldDeletes counts deletions waiting for approval.
	HeldDeletes int `json:"heldDeletes,omitempty"`
	// Notified is the condition of the job's last notice (see notify);
	// empty in a state recorded before notices.
	Notified notify.Event `json:"notified,omitempty"`
	// LastSuccess is when the last cycle that succeeded ended.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
}

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
// kind and workflow, with PhaseRunning, unless the cycle (recorded before
// progressQueryChange) signals its progress.
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
	Job            string         `json:"job"`
	Application    string         `json:"application"`
	State          State          `json:"state"`
	Current        *CycleProgress `json:"current,omitempty"`
	LastCycle      *CycleSummary  `json:"lastCycle,omitempty"`
	CycleNumber    int            `json:"cycleNumber"`
	NextKind       CycleKind      `json:"nextKind"`
	NextRun        time.Time      `json:"nextRun,omitempty"`
	Totals         audit.Counts   `json:"totals"`
	LastError      string         `json:"lastError,omitempty"`
	Quarantine     *Quarantine    `json:"quarantine,omitempty"`
	SteadyState    SteadyState    `json:"steadyState"`
	MappingVersion string         `json:"mappingVersion"`
	DryRun         bool           `json:"dryRun,omitempty"`
	HeldDeletes    int            `json:"heldDeletes,omitempty"`
	// HeldCycle is the cycle whose StagedDelete log entries list the held
	// deletes and disables.
	HeldCycle string `json:"heldCycle,omitempty"`
}

// RestartRequest is the argument of the restart signal. Scopes are Azure's
// resetScope flags: Watermark, Escrows, QuarantineState, ConnectorDataStore,
// Full (all of them) and ForceDeletes; none means Watermark, Escrows and
// QuarantineState, as Azure's portal restart does.
type RestartRequest struct {
	Scopes []string `json:"scopes,omitempty"`
}

// OnDemandRequest names the source object to provision on demand: a user,
// or a group with its members.
type OnDemandRequest struct {
	Type connectors.ObjectType `json:"type"`
	ID   string                `json:"id"`
}

// ConnectionsRequest asks a job for its object connections: one object's,
// by source or target ID, or a page of them after a source ID. Delete
// forgets the one object's connection; the job must be stopped.
type ConnectionsRequest struct {
	Type   connectors.ObjectType `json:"type"`
	ID     string                `json:"id,omitempty"`
	After  string                `json:"after,omitempty"`
	Limit  int                   `json:"limit,omitempty"`
	Delete bool                  `json:"delete,omitempty"`
}

// CycleInput starts (or continues) one cycle workflow.
type CycleInput struct {
	Job    config.Job  `json:"job"`
	Cycle  store.Cycle `json:"cycle"`
	Number int         `json:"number"`
	Kind   CycleKind   `json:"kind"`
	// Parent is the job workflow's ID, which cycles recorded before
	// progressQueryChange signal their progress to.
	Parent string     `json:"parent"`
	State  CycleState `json:"state"`
	// ForceDeletes lets the cycle deprovision more than the job's deletion
	// threshold: an operator approved the held deletions.
	ForceDeletes bool `json:"forceDeletes,omitempty"`
}

// CycleState is a cycle's resume point, carried through continue-as-new and
// through a stop.
type CycleState struct {
	Started time.Time              `json:"started"`
	Fetched bool                   `json:"fetched"`
	Fetch   activities.FetchResult `json:"fetch"`
	// Indexed is set once the target index step is behind the cycle, run
	// or not needed.
	Indexed   bool         `json:"indexed,omitempty"`
	NextSeq   int          `json:"nextSeq"`
	Processed int          `json:"processed"`
	Counts    audit.Counts `json:"counts"`
	// Failed counts the objects that failed, but for malformed source
	// records; ReferenceFailed the references and memberships. They decide
	// the escrow threshold.
	Failed          int `json:"failed,omitempty"`
	ReferenceFailed int `json:"referenceFailed,omitempty"`
	// Memberships and References are where the phases that follow the
	// object batches are.
	Memberships PhaseState `json:"memberships,omitempty"`
	References  PhaseState `json:"references,omitempty"`
	// HeldNext is the first staged item not yet looked at for the log of
	// removals held by the deletion guard.
	HeldNext int `json:"heldNext,omitempty"`
	// Left are items before NextSeq that batches whose results were full
	// left to later batches.
	Left []ItemRange `json:"left,omitempty"`
}

// PhaseState is how far a phase after the object batches has come.
type PhaseState struct {
	Done   bool                   `json:"done,omitempty"`
	Cursor activities.PhaseCursor `json:"cursor,omitempty"`
}

// CycleResult is how a cycle workflow ends.
type CycleResult struct {
	// Paused is true when the cycle stopped on request; Resume continues it.
	Paused bool       `json:"paused,omitempty"`
	Resume CycleInput `json:"resume,omitempty"`
	// QuarantineReason is set when the target consistently refused the calls.
	QuarantineReason string `json:"quarantineReason,omitempty"`
	// HeldDeletes is set when the deletion threshold stopped the cycle
	// before it pushed anything; Resume continues it once approved.
	HeldDeletes int `json:"heldDeletes,omitempty"`
	// HeldReason is the guard's verdict on the held cycle.
	HeldReason string       `json:"heldReason,omitempty"`
	Summary    CycleSummary `json:"summary"`
}
