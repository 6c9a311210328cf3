package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// memberChunk is how many member changes are sent before the group's
// state is saved, so a retried call repeats little.
const memberChunk = 1000

// SyncMemberships brings the target members of the groups ids in step:
// for each, it computes the target IDs of the members the group should
// have — its source members (through nested groups when the job flattens
// them) that are linked and active — and sends the target only the
// difference from the members last pushed, in chunks. A group done has
// its mark cleared; one that fails stays marked and is tried again next
// cycle. Groups are taken in order while their entries fit budget bytes.
func (e *Engine) SyncMemberships(ctx context.Context, c store.Cycle, ids []string, budget int) (PhasePage, error) {
	states, err := e.store.Objects(ctx, e.job.Name, connectors.Group, ids)
	if err != nil {
		return PhasePage{}, err
	}
	m := e.membership(c)
	return e.page(ctx, store.MembershipWork, connectors.Group, ids, budget, func(i int) (*audit.Entry, bool) {
		return m.group(ctx, ids[i], states[ids[i]])
	})
}

// GroupMembers brings one group's target members in step, as the
// membership phase would, and clears its mark when done. It returns the
// group's entry, nil when nothing changed.
func (e *Engine) GroupMembers(ctx context.Context, c store.Cycle, id string) (*audit.Entry, error) {
	states, err := e.store.Objects(ctx, e.job.Name, connectors.Group, []string{id})
	if err != nil {
		return nil, err
	}
	entry, finished := e.membership(c).group(ctx, id, states[id])
	if finished {
		if err := e.store.ClearPending(ctx, e.job.Name, store.MembershipWork, connectors.Group, []string{id}); err != nil {
			return nil, err
		}
	}
	return entry, nil
}

func (e *Engine) membership(c store.Cycle) *membership {
	m := &membership{e: e, cycle: c}
	m.target, _ = e.target.(connectors.MembershipTarget)
	return m
}

// membership is the membership phase of one cycle.
type membership struct {
	e      *Engine
	cycle  store.Cycle
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
		Job: m.e.job.Name, CycleID: m.cycle.ID, ChangeID: m.cycle.ID + "-members-" + id,
		ObjectType: string(connectors.Group), SourceID: id, TargetID: st.TargetID, DisplayName: Canon(st.Pushed["displayName"]),
		Action: audit.Update, Time: start.UTC(), DryRun: m.e.opts.DryRun,
	}
	finish := func(status audit.Status, code, reason string) *audit.Entry {
		e.Status, e.ErrorCode, e.Reason = status, code, reason
		e.DurationMs = time.Since(start).Milliseconds()
		FitEntry(e)
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
	var reason string
	if prior != nil && !prior.Done {
		e.Modified = slices.Clone(prior.Modified)
		reason = "completed after a retry: " + earlierAttempt(prior, e.ChangeID)
	}
	st.Operation = operation(e, st.TargetID)
	st.UpdatedAt = time.Now()
	if err := m.e.records.PutObject(ctx, m.e.job.Name, st); err != nil {
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
			if err := m.e.records.PutObject(ctx, m.e.job.Name, st); err != nil {
				return err
			}
			m.e.beat.Beat(ctx)
		}
		return nil
	}
	if err := apply(remove, m.target.RemoveMembers, false); err != nil {
		return finish(audit.Failure, CodeOf(err), err.Error()), false
	}
	if err := apply(add, m.target.AddMembers, true); err != nil {
		return finish(audit.Failure, CodeOf(err), err.Error()), false
	}
	return finish(audit.Success, "", reason), true
}

// desired returns the sorted target IDs a group's members should be:
// users that are linked and active, and, unless nested groups are
// flattened, nested groups that are linked. Flattened, a nested group's
// members count as the group's own, at any depth.
func (m *membership) desired(ctx context.Context, groupID string) ([]string, error) {
	st, job := m.e.store, m.e.job.Name
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
			case !m.e.job.Options.FlattenNestedGroups:
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
