package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/store"
)

// endOfTime is a retry time every escrow is due by: the store lists all
// escrows as those due then.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// EscrowsInput asks for a page of a job's escrows of one type.
type EscrowsInput struct {
	Job   string                `json:"job"`
	Type  connectors.ObjectType `json:"type"`
	After string                `json:"after,omitempty"`
	Limit int                   `json:"limit,omitempty"`
}

// ListEscrows lists the objects of one type awaiting retry, in source ID
// order, and counts them all.
func (a *Activities) ListEscrows(ctx context.Context, in EscrowsInput) (_ api.EscrowsResult, err error) {
	defer classify(&err)
	limit := min(max(in.Limit, 1), api.MaxEscrowsPage)
	res := api.EscrowsResult{Escrows: []api.Escrow{}}
	err = a.Store.DueEscrows(ctx, in.Job, in.Type, endOfTime, func(st store.ObjectState) error {
		res.Total++
		switch {
		case st.SourceID <= in.After:
		case len(res.Escrows) == limit:
			res.Next = res.Escrows[limit-1].SourceID
		default:
			res.Escrows = append(res.Escrows, escrowOf(st))
		}
		return nil
	})
	if err != nil {
		return api.EscrowsResult{}, fmt.Errorf("list escrows: %w", err)
	}
	return res, nil
}

// EscrowSummary is what a job shows of its escrows: how many objects of
// each type await retry, and the first few.
type EscrowSummary struct {
	Count int          `json:"count"`
	First []api.Escrow `json:"first,omitempty"`
}

// escrowsShown is how many escrows a summary carries, and
// escrowReasonShown how much of each reason: the summary is in the job's
// history and current details, which stay small.
const (
	escrowsShown      = 5
	escrowReasonShown = 200
)

// SummarizeEscrows counts a job's escrows of every type and returns the
// first few.
func (a *Activities) SummarizeEscrows(ctx context.Context, job string) (_ EscrowSummary, err error) {
	defer classify(&err)
	var s EscrowSummary
	for _, t := range escrowTypes {
		err := a.Store.DueEscrows(ctx, job, t, endOfTime, func(st store.ObjectState) error {
			s.Count++
			if len(s.First) < escrowsShown {
				e := escrowOf(st)
				if r := []rune(e.Reason); len(r) > escrowReasonShown {
					e.Reason = string(r[:escrowReasonShown]) + "…"
				}
				s.First = append(s.First, e)
			}
			return nil
		})
		if err != nil {
			return EscrowSummary{}, fmt.Errorf("count escrows: %w", err)
		}
	}
	return s, nil
}

func escrowOf(st store.ObjectState) api.Escrow {
	e := api.Escrow{Type: st.Type, SourceID: st.SourceID, TargetID: st.TargetID, Action: string(audit.Update)}
	switch {
	case !st.Linked():
		e.Action = string(audit.Create)
	case st.Operation != nil:
		e.Action = string(st.Operation.Action)
	}
	if esc := st.Escrow; esc != nil {
		e.Code, e.Reason, e.Attempts, e.RetryAfter = esc.Code, esc.Reason, esc.Attempts, esc.RetryAfter
		e.DisplayName = nameOf(st.Pushed, esc.Object.Attributes)
	}
	return e
}

// nameOf is an object's name for people: from the values last pushed,
// else from the source record kept in escrow.
func nameOf(sets ...connectors.Attributes) string {
	for _, attrs := range sets {
		for _, k := range []string{"displayName", "userName", "mail", "email"} {
			if s := engine.Canon(attrs[k]); s != "" {
				return s
			}
		}
	}
	return ""
}
