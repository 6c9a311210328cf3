package api

import (
	"github.com/openprovisioning/provisioner/audit"
)

// RollbackResult holds one provisioning log entry per restore, kept in the
// job's history like a cycle's.
type RollbackResult struct {
	Entries []audit.Entry `json:"entries"`
	// Next is the index in the plan of the first restore left undone, the
	// result being full, for the caller to send again; 0 when every
	// restore was done.
	Next int `json:"next,omitempty"`
}
