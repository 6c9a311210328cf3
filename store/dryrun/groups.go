package dryrun

import (
	"context"
	"slices"

	"github.com/openprovisioning/provisioner/store"
)

// PutSourceGroups records groups in the overlay.
func (s *Store) PutSourceGroups(ctx context.Context, job string, groups []store.SourceGroup) error {
	if err := s.live.PutSourceGroups(ctx, s.shadow(job), groups); err != nil {
		return err
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return s.live.DeleteSourceGroups(ctx, s.forgottenGroups(job), ids)
}

// DeleteSourceGroups forgets groups in the overlay and hides the job's.
func (s *Store) DeleteSourceGroups(ctx context.Context, job string, ids []string) error {
	if err := s.live.DeleteSourceGroups(ctx, s.shadow(job), ids); err != nil {
		return err
	}
	gone := make([]store.SourceGroup, len(ids))
	for i, id := range ids {
		gone[i] = store.SourceGroup{ID: id}
	}
	return s.live.PutSourceGroups(ctx, s.forgottenGroups(job), gone)
}

// ForgetUnseenGroups forgets the overlay's groups the dry run did not see
// and from then on hides the job's groups whole: the read that listed
// every group recorded each of them in the overlay (SourceGroupHashes
// sees to that). It returns the overlay's groups it forgot; the job's
// cannot be listed, so the groups only the job had are not among them.
func (s *Store) ForgetUnseenGroups(ctx context.Context, c store.Cycle) ([]string, error) {
	gone, err := s.live.ForgetUnseenGroups(ctx, s.shadowCycle(c))
	if err != nil {
		return nil, err
	}
	return gone, s.addMasks(ctx, c.Job, maskGroups)
}

// SourceGroupHashes returns the hashes of the groups the overlay holds
// only: every group a dry run reads is then new to it and recorded in the
// overlay, which holds every group the source has once the read is
// complete.
func (s *Store) SourceGroupHashes(ctx context.Context, job string, ids []string) (map[string]string, error) {
	return s.live.SourceGroupHashes(ctx, s.shadow(job), ids)
}

// groupsHidden reports whether the job's source groups are hidden whole.
func (s *Store) groupsHidden(ctx context.Context, job string) (bool, error) {
	m, err := s.masks(ctx, job)
	return m.has(maskGroups), err
}

// heldGroups returns which of the IDs the overlay holds or forgot: the
// job's groups of these IDs are hidden.
func (s *Store) heldGroups(ctx context.Context, job string, ids []string) (map[string]bool, error) {
	held, err := s.live.GroupsAmong(ctx, s.shadow(job), ids)
	if err != nil {
		return nil, err
	}
	if held == nil {
		held = map[string]bool{}
	}
	gone, err := s.live.GroupsAmong(ctx, s.forgottenGroups(job), missing(ids, held))
	for id := range gone {
		held[id] = true
	}
	return held, err
}

// SourceMembers returns a group's members as the overlay holds them, or
// as the job does.
func (s *Store) SourceMembers(ctx context.Context, job, groupID string) ([]string, error) {
	held, err := s.heldGroups(ctx, job, []string{groupID})
	if err != nil {
		return nil, err
	}
	if held[groupID] {
		return s.live.SourceMembers(ctx, s.shadow(job), groupID)
	}
	if hidden, err := s.groupsHidden(ctx, job); err != nil || hidden {
		return nil, err
	}
	return s.live.SourceMembers(ctx, job, groupID)
}

// ParentGroups returns the overlay's groups that contain each ID, and the
// job's groups the overlay does not hold.
func (s *Store) ParentGroups(ctx context.Context, job string, memberIDs []string) (map[string][]string, error) {
	out, err := s.live.ParentGroups(ctx, s.shadow(job), memberIDs)
	if err != nil {
		return nil, err
	}
	if hidden, err := s.groupsHidden(ctx, job); err != nil || hidden {
		return out, err
	}
	lv, err := s.live.ParentGroups(ctx, job, memberIDs)
	if err != nil {
		return nil, err
	}
	var parents []string
	for _, ps := range lv {
		parents = append(parents, ps...)
	}
	held, err := s.heldGroups(ctx, job, parents)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string][]string{}
	}
	for id, ps := range lv {
		for _, p := range ps {
			if !held[p] {
				out[id] = append(out[id], p)
			}
		}
		if len(out[id]) == 0 {
			delete(out, id)
			continue
		}
		slices.Sort(out[id])
		out[id] = slices.Compact(out[id])
	}
	return out, nil
}

// GroupsAmong returns which IDs are groups of the overlay, or of the job
// and not forgotten.
func (s *Store) GroupsAmong(ctx context.Context, job string, ids []string) (map[string]bool, error) {
	out, err := s.live.GroupsAmong(ctx, s.shadow(job), ids)
	if err != nil {
		return nil, err
	}
	if hidden, err := s.groupsHidden(ctx, job); err != nil || hidden {
		return out, err
	}
	gone, err := s.live.GroupsAmong(ctx, s.forgottenGroups(job), missing(ids, out))
	if err != nil {
		return nil, err
	}
	lv, err := s.live.GroupsAmong(ctx, job, missing(missing(ids, out), gone))
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]bool{}
	}
	for id := range lv {
		out[id] = true
	}
	return out, nil
}

// FindSourceGroups finds groups by ID or name among the overlay's, and
// among the job's the overlay does not hold.
func (s *Store) FindSourceGroups(ctx context.Context, job string, keys []string) ([]string, error) {
	out, err := s.live.FindSourceGroups(ctx, s.shadow(job), keys)
	if err != nil {
		return nil, err
	}
	if hidden, err := s.groupsHidden(ctx, job); err != nil || hidden {
		return out, err
	}
	lv, err := s.live.FindSourceGroups(ctx, job, keys)
	if err != nil {
		return nil, err
	}
	held, err := s.heldGroups(ctx, job, lv)
	if err != nil {
		return nil, err
	}
	out = append(out, missing(lv, held)...)
	slices.Sort(out)
	return slices.Compact(out), nil
}
