package workflows

import (
	"time"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/store"
)

// JobInput starts a job workflow; State is set when a run continues as new.
type JobInput struct {
	Config config.Job `json:"config"`
	State  *JobState  `json:"state,omitempty"`
}

// JobState is everything a job carries from one run to the next.
type JobState struct {
	State          api.State          `json:"state"`
	CycleNumber    int                `json:"cycleNumber"`
	NextKind       api.CycleKind      `json:"nextKind"`
	NextRun        time.Time          `json:"nextRun"`
	SyncNow        bool               `json:"syncNow,omitempty"`
	MappingVersion string             `json:"mappingVersion"`
	PausedCycle    *CycleInput        `json:"pausedCycle,omitempty"`
	LastCycle      *api.CycleSummary  `json:"lastCycle,omitempty"`
	Totals         audit.Counts       `json:"totals"`
	LastError      string             `json:"lastError,omitempty"`
	Quarantine     *api.Quarantine    `json:"quarantine,omitempty"`
	SteadyState    api.SteadyState    `json:"steadyState"`
	Current        *api.CycleProgress `json:"current,omitempty"`
	// HeldDeletes counts deletions waiting for approval.
	HeldDeletes int `json:"heldDeletes,omitempty"`
	// Notified is the condition of the job's last notice (see notify);
	// empty in a state recorded before notices.
	Notified notify.Event `json:"notified,omitempty"`
	// LastSuccess is when the last cycle that succeeded ended.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// Escrows is what the job shows of its escrows, counted after cycle
	// EscrowsCounted ended; nil before escrowsShownChange.
	Escrows        *activities.EscrowSummary `json:"escrows,omitempty"`
	EscrowsCounted int                       `json:"escrowsCounted,omitempty"`
}

// CycleInput starts (or continues) one cycle workflow.
type CycleInput struct {
	Job    config.Job    `json:"job"`
	Cycle  store.Cycle   `json:"cycle"`
	Number int           `json:"number"`
	Kind   api.CycleKind `json:"kind"`
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
	HeldReason string           `json:"heldReason,omitempty"`
	Summary    api.CycleSummary `json:"summary"`
}
