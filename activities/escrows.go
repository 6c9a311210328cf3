package activities

import (
	"context"
	"fmt"
	"strings"
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

// EscrowSummary is what a job shows of its escrows and held removals:
// how many objects await retry, and the first few of each.
type EscrowSummary struct {
	Count int          `json:"count"`
	First []api.Escrow `json:"first,omitempty"`
	// Held are the first removals the deletion guard holds.
	Held []HeldRemoval `json:"held,omitempty"`
}

// HeldRemoval is a delete or disable the deletion guard holds.
type HeldRemoval struct {
	Type        connectors.ObjectType `json:"type"`
	SourceID    string                `json:"sourceId"`
	TargetID    string                `json:"targetId,omitempty"`
	DisplayName string                `json:"displayName,omitempty"`
	// What says what is held ("Disable held by the accidental-deletion
	// guard").
	What string `json:"what"`
}

// SummaryInput asks for a job's escrow summary; Held names the held cycle
// whose first removals to add, when the job holds one.
type SummaryInput struct {
	Job  string     `json:"job"`
	Held *HeldInput `json:"held,omitempty"`
}

// escrowsShown is how many escrows and held removals a summary carries,
// and escrowReasonShown how much of each reason: the summary is in the
// job's history and current details, which stay small. heldChunk is how
// many staged items are looked at before checking whether enough held
// removals are found.
const (
	escrowsShown      = 5
	escrowReasonShown = 200
	heldChunk         = 500
)

// SummarizeEscrows counts a job's escrows of every type and returns the
// first few, with the first removals of its held cycle.
func (a *Activities) SummarizeEscrows(ctx context.Context, in SummaryInput) (_ EscrowSummary, err error) {
	defer classify(&err)
	var s EscrowSummary
	for _, t := range escrowTypes {
		err := a.Store.DueEscrows(ctx, in.Job, t, endOfTime, func(st store.ObjectState) error {
			s.Count++
			if len(s.First) < escrowsShown {
				e := escrowOf(st)
				e.Reason = shorten(e.Reason)
				s.First = append(s.First, e)
			}
			return nil
		})
		if err != nil {
			return EscrowSummary{}, fmt.Errorf("count escrows: %w", err)
		}
	}
	if h := in.Held; h != nil {
		eng := a.engine(&h.Job, nil, nil)
		for next := max(h.From, 1); next <= h.To && len(s.Held) < escrowsShown; {
			entries, n, err := eng.HeldRemovals(ctx, h.Cycle, next, min(next+heldChunk-1, h.To), h.Reason, time.Now().UTC())
			if err != nil {
				return EscrowSummary{}, fmt.Errorf("list held removals: %w", err)
			}
			for _, e := range entries[:min(len(entries), escrowsShown-len(s.Held))] {
				what, _, _ := strings.Cut(e.Reason, ":")
				s.Held = append(s.Held, HeldRemoval{Type: connectors.ObjectType(e.ObjectType), SourceID: e.SourceID, TargetID: e.TargetID, DisplayName: e.DisplayName, What: shorten(what)})
			}
			next = n
		}
	}
	return s, nil
}

// shorten keeps the start of a reason shown in a summary.
func shorten(s string) string {
	if r := []rune(s); len(r) > escrowReasonShown {
		return string(r[:escrowReasonShown]) + "…"
	}
	return s
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
