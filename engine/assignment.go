package engine

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// assignment is "sync only assigned" for one call: the source
// groups the job's assignedGroups name, and the memberships that decide
// who belongs to them. A nil *assignment means the job syncs all.
type assignment struct {
	groups map[string]bool
	graph  *groupGraph
}

// assignment resolves the job's assigned groups, or returns nil when the
// job syncs all.
func (e *Engine) assignment(ctx context.Context) (*assignment, error) {
	job := e.job
	if len(job.Options.AssignedGroups) == 0 {
		return nil, nil
	}
	ids, err := e.store.FindSourceGroups(ctx, job.Name, job.Options.AssignedGroups)
	if err != nil {
		return nil, err
	}
	as := &assignment{groups: map[string]bool{}, graph: newGroupGraph(e.store, job)}
	for _, id := range ids {
		as.groups[id] = true
	}
	return as, nil
}

// load prepares deciding about the given objects.
func (as *assignment) load(ctx context.Context, t connectors.ObjectType, ids []string) error {
	if as == nil || t == connectors.Group {
		return nil
	}
	return as.graph.load(ctx, ids)
}

// assigned reports whether an object is assigned: a group named by the
// job, or a member of one. Disabled and deleted objects are deprovisioned
// whatever their assignment, so it is false for them.
func (as *assignment) assigned(t connectors.ObjectType, o connectors.Object) bool {
	if as == nil || o.Disabled || o.Deleted || o.Invalid != "" {
		return false
	}
	if t == connectors.Group {
		return as.groups[o.ID]
	}
	for _, g := range as.graph.groups(o.ID) {
		if as.groups[g] {
			return true
		}
	}
	return false
}

// sourceHash fingerprints what decides an object's outcome: its record
// and, in jobs that sync only assigned objects, whether it is assigned, so
// a change of assignment alone provisions or deprovisions it.
func sourceHash(o connectors.Object, assigned bool) string {
	return contentHash(o, o.Attributes, assigned)
}

// stagedHash is sourceHash for a staged item, from the encoding of its
// attributes the store read when it has it: a push then hashes what the
// stage step encoded, rather than encode every object's attributes again.
func stagedHash(it store.StagedItem, assigned bool) string {
	if it.AttributesJSON != "" {
		return contentHash(it.Object, it.AttributesJSON, assigned)
	}
	return sourceHash(it.Object, assigned)
}

// contentHash is sourceHash of o, its attributes given as attrs: the
// attributes themselves or their encoding. No attributes or members hash
// alike whether nil or empty, as the object read back from the stage
// step, which keeps neither empty, has them nil.
func contentHash(o connectors.Object, attrs any, assigned bool) string {
	if a, ok := attrs.(connectors.Attributes); ok && len(a) == 0 {
		attrs = connectors.Attributes(nil)
	}
	members := o.Members
	if len(members) == 0 {
		members = nil
	}
	h := Fingerprint(attrs, o.Disabled, o.Deleted, members)
	if assigned {
		return Fingerprint(h, "assigned")
	}
	return h
}

// notAssigned explains why an object is out of scope in a job that syncs
// only assigned objects.
func notAssigned(t connectors.ObjectType) string {
	if t == connectors.Group {
		return "the group is not assigned: options.assignedGroups does not name it"
	}
	return "the source object is not assigned: it is not a member of a group options.assignedGroups names"
}
