package api

import (
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// UpdateEscrows lists the objects of a job awaiting retry after a failed
// attempt (EscrowsRequest, EscrowsResult): failed creates, which have no
// object connection yet, among them.
const UpdateEscrows = "escrows"

// EscrowsRequest asks for a page of a job's escrows of one object type,
// in source ID order, after the source ID After.
type EscrowsRequest struct {
	Type  connectors.ObjectType `json:"type"`
	After string                `json:"after,omitempty"`
	Limit int                   `json:"limit,omitempty"`
}

// EscrowsResult is a page of escrows, how many the type has in all, and
// where the next page starts ("" when none is left).
type EscrowsResult struct {
	Escrows []Escrow `json:"escrows"`
	Total   int      `json:"total"`
	Next    string   `json:"next,omitempty"`
}

// Escrow is an object awaiting retry after a failed attempt.
type Escrow struct {
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	// TargetID is empty for an object never created in the target.
	TargetID    string `json:"targetId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Action is what the failed attempt was to do, as far as the job
	// knows: Create for an object not linked yet, the change recorded
	// before the push when there is one, otherwise Update.
	Action     string    `json:"action"`
	Code       string    `json:"code"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	RetryAfter time.Time `json:"retryAfter"`
}

// MaxEscrowsPage bounds a page of escrows, so a result stays a small part
// of the job's history.
const MaxEscrowsPage = 1000
