package api

import (
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// JobStart is what a client starts a job workflow (JobWorkflow) with. A
// run the job continues as new also carries the job's state, which only
// the workflow reads.
type JobStart struct {
	Config config.Job `json:"config"`
}

// RestartRequest is the argument of the restart signal. Scopes are Azure's
// resetScope flags: Watermark, Escrows, QuarantineState, ConnectorDataStore,
// Full (all of them) and ForceDeletes; none means Watermark, Escrows and
// QuarantineState, as Azure's portal restart does.
type RestartRequest struct {
	Scopes []string `json:"scopes,omitempty"`
}

// Reset scopes of a RestartRequest, Azure's resetScope flags; a job reads
// them whatever their case.
const (
	// ScopeWatermark reads the source from the start again.
	ScopeWatermark = "Watermark"
	// ScopeEscrows forgets failed objects' escrows: their attempts and back-off.
	ScopeEscrows = "Escrows"
	// ScopeQuarantineState lifts quarantine.
	ScopeQuarantineState = "QuarantineState"
	// ScopeConnectorDataStore forgets the object connections and the values
	// last pushed: every object is matched again.
	ScopeConnectorDataStore = "ConnectorDataStore"
	// ScopeFull is Watermark, Escrows, ConnectorDataStore and QuarantineState.
	ScopeFull = "Full"
	// ScopeForceDeletes approves the deletions a cycle holds over the
	// job's deletion threshold.
	ScopeForceDeletes = "ForceDeletes"
)

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

// CycleStart starts a cycle workflow (CycleWorkflow) alone, outside any
// job: `starter preview` runs a dry-run initial cycle so. The workflow's
// input has more fields, which only a job sets.
type CycleStart struct {
	Job   config.Job  `json:"job"`
	Cycle store.Cycle `json:"cycle"`
	Kind  CycleKind   `json:"kind"`
}

// CycleOutcome is what a client reads of a cycle workflow's result; the
// rest is the cycle's resume point, for its job.
type CycleOutcome struct {
	// QuarantineReason is set when the target consistently refused the calls.
	QuarantineReason string `json:"quarantineReason,omitempty"`
	// HeldDeletes is set when the deletion threshold stopped the cycle
	// before it pushed anything.
	HeldDeletes int `json:"heldDeletes,omitempty"`
	// HeldReason is the guard's verdict on the held cycle.
	HeldReason string       `json:"heldReason,omitempty"`
	Summary    CycleSummary `json:"summary"`
}
