package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// memberChunk is how many member changes are sent before the group's
// state is saved, so a retried call repeats little.
const memberChunk = 1000

// SyncMemberships is the membership phase: for one page of the groups
// marked for it, it computes the target IDs of the members the group
// should have — its source members (through nested groups when the job
// flattens them) that are linked and active — and sends the target only
// the difference from the members last pushed, in batches. A group that
// fails stays marked and is tried again next cycle. Groups are taken in
// order while their entries fit the result's budget; the next page starts
// after the last one taken.
func (a *Activities) SyncMemberships(ctx context.Context, in PhaseInput) (_ PhaseResult, err error) {
	defer classify(&err)
	a = a.forCycle(in.Job.Options.DryRun, in.Cycle)
	limit := phasePage(&in.Job)
	ids, err := a.Store.Pending(ctx, in.Job.Name, store.MembershipWork, connectors.Group, in.Cursor.After, limit)
	if err != nil || len(ids) == 0 {
		return PhaseResult{Done: true}, err
	}
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return PhaseResult{}, err
	}
	states, err := a.Store.Objects(ctx, in.Job.Name, connectors.Group, ids)
	if err != nil {
		return PhaseResult{}, err
	}
	m := &membership{a: a, in: in, opts: in.Job.Options.WithDefaults()}
	m.target, _ = tgt.(connectors.MembershipTarget)
	entries := make([]*audit.Entry, len(ids))
	finished := make([]bool, len(ids))
	taken := parallelWithin(ctx, m.opts.Concurrency, len(ids), ResultBudget, func(i int) int {
		entries[i], finished[i] = m.group(ctx, ids[i], states[ids[i]])
		if entries[i] == nil {
			return 0
		}
		return encodedSize(entries[i])
	}, nil)
	if err := ctx.Err(); err != nil {
		return PhaseResult{}, err
	}
	var res PhaseResult
	var clear []string
	for i, id := range ids {
		if entries[i] != nil {
			res.Entries = append(res.Entries, *entries[i])
		}
		if finished[i] {
			clear = append(clear, id)
		}
	}
	if err := a.Store.ClearPending(ctx, in.Job.Name, store.MembershipWork, connectors.Group, clear); err != nil {
		return PhaseResult{}, err
	}
	if refused(res.Entries) {
		a.forgetTarget(&in.Job, tgt)
	}
	res.Next = PhaseCursor{After: ids[taken-1]}
	res.Done = len(ids) < limit && taken == len(ids)
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}

type membership struct {
	a      *Activities
	in     PhaseInput
	opts   config.Options
	target connectors.MembershipTarget
}

// group brings one group's target members in step. It returns the log
// entry (nil when nothing changed) and whether the group's mark can go.
func (m *membership) group(ctx context.Context, id string, st store.ObjectState) (*audit.Entry, bool) {
	if !st.Linked() {
		// Never provisioned, or deleted: a group provisioned later is marked again.
		return nil, true
	}
	start := time.Now()
	e := &audit.Entry{
		Job: m.in.Job.Name, CycleID: m.in.Cycle.ID, ChangeID: m.in.Cycle.ID + "-members-" + id,
		ObjectType: string(connectors.Group), SourceID: id, TargetID: st.TargetID, DisplayName: canon(st.Pushed["displayName"]),
		Action: audit.Update, Time: start.UTC(), DryRun: m.opts.DryRun,
	}
	finish := func(status audit.Status, code, reason string) *audit.Entry {
		e.Status, e.ErrorCode, e.Reason = status, code, reason
		e.DurationMs = time.Since(start).Milliseconds()
		fitEntry(e)
		return e
	}
	if m.target == nil {
		return finish(audit.Failure, string(connectors.KindServiceIncompatible), "the target cannot hold group members"), false
	}
	want, err := m.desired(ctx, id)
	if err != nil {
		return finish(audit.Failure, CodeInternalError, "compute the group's members: "+err.Error()), false
	}
	// The change's operation, recorded by an earlier attempt of it, says
	// what the change is when that attempt pushed some or all of it.
	prior := ofChange(st.Operation, e.ChangeID)
	add, remove := memberDiff(st.Members, want)
	if len(add) == 0 && len(remove) == 0 {
		if prior == nil {
			return nil, true
		}
		confirmed(e, prior, earlierAttempt(prior, e.ChangeID))
		return finish(audit.Success, "", e.Reason), true
	}
	e.Modified = []audit.Property{membersProperty(add, remove)}
	if m.opts.DryRun {
		// Nothing is pushed, so the group stays marked for the real cycle.
		return finish(audit.Success, "", ""), false
	}
	var reason string
	if prior != nil && !prior.Done {
		e.Modified = slices.Clone(prior.Modified)
		reason = "completed after a retry: " + earlierAttempt(prior, e.ChangeID)
	}
	st.Operation = operation(e, st.TargetID)
	st.UpdatedAt = time.Now()
	if err := m.a.Store.PutObject(ctx, m.in.Job.Name, st); err != nil {
		return finish(audit.Failure, CodeInternalError, "record the pending operation: "+err.Error()), false
	}
	current := map[string]bool{}
	for _, t := range st.Members {
		current[t] = true
	}
	chunks := (len(remove)+memberChunk-1)/memberChunk + (len(add)+memberChunk-1)/memberChunk
	apply := func(ids []string, change func(context.Context, string, []string) error, member bool) error {
		for start := 0; start < len(ids); start += memberChunk {
			chunk := ids[start:min(start+memberChunk, len(ids))]
			if err := change(ctx, st.TargetID, chunk); err != nil {
				return err
			}
			for _, t := range chunk {
				current[t] = member
			}
			chunks--
			st.Members = memberList(current)
			st.Operation.Done = chunks == 0
			st.UpdatedAt = time.Now()
			if err := m.a.Store.PutObject(ctx, m.in.Job.Name, st); err != nil {
				return err
			}
			activity.RecordHeartbeat(ctx)
		}
		return nil
	}
	if err := apply(remove, m.target.RemoveMembers, false); err != nil {
		return finish(audit.Failure, codeOf(err), err.Error()), false
	}
	if err := apply(add, m.target.AddMembers, true); err != nil {
		return finish(audit.Failure, codeOf(err), err.Error()), false
	}
	return finish(audit.Success, "", reason), true
}

// desired returns the sorted target IDs a group's members should be:
// users that are linked and active, and, unless nested groups are
// flattened, nested groups that are linked. Flattened, a nested group's
// members count as the group's own, at any depth.
func (m *membership) desired(ctx context.Context, groupID string) ([]string, error) {
	st, job := m.a.Store, m.in.Job.Name
	var users, groups []string
	visited := map[string]bool{groupID: true}
	for queue := []string{groupID}; len(queue) > 0; {
		g := queue[0]
		queue = queue[1:]
		members, err := st.SourceMembers(ctx, job, g)
		if err != nil {
			return nil, err
		}
		isGroup, err := st.GroupsAmong(ctx, job, members)
		if err != nil {
			return nil, err
		}
		for _, id := range members {
			switch {
			case !isGroup[id]:
				users = append(users, id)
			case !m.in.Job.Options.FlattenNestedGroups:
				groups = append(groups, id)
			case !visited[id]:
				visited[id] = true
				queue = append(queue, id)
			}
		}
	}
	var out []string
	for _, part := range []struct {
		t       connectors.ObjectType
		ids     []string
		enabled bool // only active objects are members
	}{{connectors.User, users, true}, {connectors.Group, groups, false}} {
		if len(part.ids) == 0 {
			continue
		}
		states, err := st.Objects(ctx, job, part.t, part.ids)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			if s.Linked() && (s.Active || !part.enabled) && s.SourceID != groupID {
				out = append(out, s.TargetID)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// memberDiff returns the members to add and to remove, sorted.
func memberDiff(current, want []string) (add, remove []string) {
	have := map[string]bool{}
	for _, t := range current {
		have[t] = true
	}
	wanted := map[string]bool{}
	for _, t := range want {
		wanted[t] = true
		if !have[t] {
			add = append(add, t)
		}
	}
	for _, t := range current {
		if !wanted[t] {
			remove = append(remove, t)
		}
	}
	slices.Sort(add)
	slices.Sort(remove)
	return add, slices.Compact(remove)
}

func memberList(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for t, in := range set {
		if in {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// listedMembers is how many member IDs a log entry names before it
// gives only their number.
const listedMembers = 20

// membersProperty logs a membership change as the "members" property:
// Old holds the members removed, New those added.
func membersProperty(add, remove []string) audit.Property {
	return audit.Property{Name: "members", Old: describeMembers("removed", remove), New: describeMembers("added", add)}
}

func describeMembers(verb string, ids []string) string {
	switch {
	case len(ids) == 0:
		return ""
	case len(ids) > listedMembers:
		return fmt.Sprintf("%s %d members", verb, len(ids))
	}
	return verb + " " + strings.Join(ids, ", ")
}
