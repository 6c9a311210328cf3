package api

import (
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// Connection is what the job knows of one source object. The values last
// pushed stay out: some are hidden by Redact(), and history keeps this.
type Connection struct {
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	TargetID string                `json:"targetId,omitempty"`
	Active   bool                  `json:"active"`
	// Escrow says why the object's last attempt failed, when it did.
	Escrow    *ConnectionEscrow `json:"escrow,omitempty"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// ConnectionEscrow is an object's failed attempt, waiting to be retried.
type ConnectionEscrow struct {
	Attempts   int       `json:"attempts"`
	RetryAfter time.Time `json:"retryAfter"`
	Code       string    `json:"code"`
	Reason     string    `json:"reason"`
}

// ConnectionsResult holds the connections found and, after a page, where
// the next starts ("" when none is left).
type ConnectionsResult struct {
	Connections []Connection `json:"connections"`
	Next        string       `json:"next,omitempty"`
	Deleted     bool         `json:"deleted,omitempty"`
}

// MaxConnectionsPage bounds a page of connections, so a result stays a
// small part of the job's history.
const MaxConnectionsPage = 1000
