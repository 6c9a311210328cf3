package engine

import (
	"math"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/store"
)

// fail records a failure and puts the object in escrow: it is retried in a
// later cycle, after a back-off that doubles with every failed attempt.
func (p *plan) fail(code, reason string) store.Record {
	e := p.entry
	if e.Action == "" || e.Action == audit.Other {
		e.Action = audit.Other
	}
	e.Status, e.ErrorCode, e.Reason = audit.Failure, code, reason
	if p.item.Object.Invalid != "" || p.item.Object.ID == "" {
		return store.Record{}
	}
	st := p.state
	st.Type, st.SourceID = p.item.Type, p.item.Object.ID
	attempts := 1
	if st.Escrow != nil {
		attempts = st.Escrow.Attempts + 1
	}
	st.Escrow = &store.Escrow{Attempts: attempts, RetryAfter: time.Now().Add(escrowBackoff(attempts)), Code: code, Reason: reason, Object: p.item.Object}
	st.UpdatedAt = time.Now()
	return store.Record{State: &st}
}

// escrowBackoff is the wait before retry attempt n+1: one minute, doubling,
// at most a day (Azure retries escrows at 6 h, 12 h, then daily).
func escrowBackoff(attempts int) time.Duration {
	d := time.Minute * time.Duration(math.Pow(2, float64(min(attempts-1, 11))))
	return min(d, 24*time.Hour)
}
