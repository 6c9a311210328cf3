package engine

import (
	"context"
	"slices"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// groupGraph answers which source groups contain an object: its direct
// groups, and, when the job flattens nested groups, the groups that contain
// those. It reads the source memberships fetch recorded, and caches them
// for one call.
type groupGraph struct {
	st      store.Store
	job     string
	nested  bool
	parents map[string][]string // looked-up ID → direct parent groups
}

func newGroupGraph(st store.Store, job *config.Job) *groupGraph {
	return &groupGraph{st: st, job: job.Name, nested: job.Options.FlattenNestedGroups, parents: map[string][]string{}}
}

// load looks up the groups of ids (and their ancestors when nested).
func (g *groupGraph) load(ctx context.Context, ids []string) error {
	todo := g.unknown(ids)
	for len(todo) > 0 {
		found, err := g.st.ParentGroups(ctx, g.job, todo)
		if err != nil {
			return err
		}
		var next []string
		for _, id := range todo {
			g.parents[id] = found[id]
			next = append(next, found[id]...)
		}
		if !g.nested {
			return nil
		}
		todo = g.unknown(next)
	}
	return nil
}

func (g *groupGraph) unknown(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := g.parents[id]; !ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// groups returns the loaded groups that contain id, sorted.
func (g *groupGraph) groups(id string) []string {
	out := slices.Clone(g.parents[id])
	if g.nested {
		seen := map[string]bool{id: true}
		for i := 0; i < len(out); i++ {
			seen[out[i]] = true
			for _, p := range g.parents[out[i]] {
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// groupName is the name assignedGroups can use for a source group.
func groupName(attrs connectors.Attributes) string {
	for _, k := range []string{"displayName", "cn", "name"} {
		if s := Canon(attrs[k]); s != "" {
			return s
		}
	}
	return ""
}

// RecordGroups keeps the mirror of the source's groups current with one
// page of a group read and returns the IDs of the groups that changed. A
// dry run records in its own state, to which every group it reads is new.
func (e *Engine) RecordGroups(ctx context.Context, objs []connectors.Object) ([]string, error) {
	job := e.job.Name
	var ids, gone []string
	for _, o := range objs {
		switch {
		case o.ID == "" || o.Invalid != "":
		case o.Deleted:
			gone = append(gone, o.ID)
		default:
			ids = append(ids, o.ID)
		}
	}
	known, err := e.store.SourceGroupHashes(ctx, job, ids)
	if err != nil {
		return nil, err
	}
	var put []store.SourceGroup
	for _, o := range objs {
		if o.ID == "" || o.Invalid != "" || o.Deleted {
			continue
		}
		g := store.SourceGroup{ID: o.ID, Name: groupName(o.Attributes), Members: o.Members}
		g.Hash = Fingerprint(g.Name, g.Members)
		if known[o.ID] != g.Hash {
			put = append(put, g)
		}
	}
	if err := e.store.PutSourceGroups(ctx, job, put); err != nil {
		return nil, err
	}
	if err := e.store.DeleteSourceGroups(ctx, job, gone); err != nil {
		return nil, err
	}
	changed := gone
	for _, g := range put {
		changed = append(changed, g.ID)
	}
	return changed, nil
}

// Reassigns reports whether changed groups change who is assigned: one of
// them is (or was) assigned, or, with nested groups flattened, is inside
// an assigned group. An assigned group no longer found (deleted, renamed)
// reassigns too: a dry run's state does not list among the groups it
// forgets those only the job's state has.
func (e *Engine) Reassigns(ctx context.Context, before, changed []string) (bool, error) {
	job := e.job
	if len(job.Options.AssignedGroups) == 0 || len(changed) == 0 && len(before) == 0 {
		return false, nil
	}
	after, err := e.store.FindSourceGroups(ctx, job.Name, job.Options.AssignedGroups)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(before, func(id string) bool { return !slices.Contains(after, id) }) {
		return true, nil
	}
	assigned := map[string]bool{}
	for _, id := range append(slices.Clone(before), after...) {
		assigned[id] = true
	}
	g := newGroupGraph(e.store, job)
	if err := g.load(ctx, changed); err != nil {
		return false, err
	}
	for _, id := range changed {
		if assigned[id] {
			return true, nil
		}
		if job.Options.FlattenNestedGroups && slices.ContainsFunc(g.groups(id), func(p string) bool { return assigned[p] }) {
			return true, nil
		}
	}
	return false, nil
}
