package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

// HeldInput asks for the removals the accidental-deletion guard held in a
// cycle, among its staged items From..To.
type HeldInput struct {
	Job   config.Job  `json:"job"`
	Cycle store.Cycle `json:"cycle"`
	From  int         `json:"from"`
	To    int         `json:"to"`
	// Reason is the guard's verdict, repeated in every entry.
	Reason string `json:"reason"`
}

// HeldResult lists held removals as StagedDelete log entries, so the
// trail shows what an approval would do. Next is the first staged item
// not looked at yet; past To once all were.
type HeldResult struct {
	Entries []audit.Entry `json:"entries"`
	Next    int           `json:"next"`
}

// ListHeldRemovals records the removals a held cycle would make, as
// StagedDelete entries. It reads the staged items in pages and stops once
// its result holds enough entries; the cycle calls it again from Next.
func (a *Activities) ListHeldRemovals(ctx context.Context, in HeldInput) (HeldResult, error) {
	entries, next, err := a.engine(&in.Job, nil, nil).HeldRemovals(ctx, in.Cycle, in.From, in.To, in.Reason, activity.GetInfo(ctx).StartedTime.UTC())
	res := HeldResult{Entries: entries, Next: next}
	if err != nil {
		return res, err
	}
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}
