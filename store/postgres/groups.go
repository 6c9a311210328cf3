package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// PutSourceGroups records groups and replaces their members; of groups
// with the same ID the last wins.
func (s *Store) PutSourceGroups(ctx context.Context, job string, groups []store.SourceGroup) error {
	groups = latest(groups, func(g store.SourceGroup) string { return g.ID })
	if len(groups) == 0 {
		return nil
	}
	var (
		ids, names, folded, hashes = make([]string, len(groups)), make([]string, len(groups)), make([]string, len(groups)), make([]string, len(groups))
		memberOf, members          []string
	)
	for i, g := range groups {
		// Names are folded here rather than with SQL's lower(), which
		// depends on the database's locale.
		ids[i], names[i], folded[i], hashes[i] = g.ID, g.Name, strings.ToLower(g.Name), g.Hash
		for _, m := range sortedIDs(g.Members) {
			memberOf, members = append(memberOf, g.ID), append(members, m)
		}
	}
	// The group's row, written first, is locked until the end: a worker
	// putting the same group waits, so members are never mixed.
	err := s.write(ctx, func(b *pgx.Batch) {
		b.Queue(`INSERT INTO source_groups (job, group_id, name, folded_name, hash)
			SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
			ON CONFLICT (job, group_id) DO UPDATE SET name = excluded.name, folded_name = excluded.folded_name, hash = excluded.hash`,
			job, ids, names, folded, hashes)
		b.Queue(`DELETE FROM source_members WHERE job = $1 AND group_id = ANY($2)`, job, ids)
		if len(members) > 0 {
			b.Queue(`INSERT INTO source_members (job, group_id, member_id) SELECT $1::text, * FROM unnest($2::text[], $3::text[])`, job, memberOf, members)
		}
	})
	if err != nil {
		return fmt.Errorf("record source groups: %w", err)
	}
	return nil
}

// DeleteSourceGroups forgets groups and their members.
func (s *Store) DeleteSourceGroups(ctx context.Context, job string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(b *pgx.Batch) { queueGroupDeletes(b, job, ids) })
	if err != nil {
		return fmt.Errorf("forget source groups: %w", err)
	}
	return nil
}

// queueGroupDeletes queues the deletion of groups and their members.
func queueGroupDeletes(b *pgx.Batch, job string, ids []string) {
	ids = sortedIDs(ids)
	b.Queue(`DELETE FROM source_groups WHERE job = $1 AND group_id = ANY($2)`, job, ids)
	b.Queue(`DELETE FROM source_members WHERE job = $1 AND group_id = ANY($2)`, job, ids)
}

// ForgetUnseenGroups forgets the groups a cycle's read did not return.
func (s *Store) ForgetUnseenGroups(ctx context.Context, c store.Cycle) ([]string, error) {
	var gone []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		marks, err := loadSeen(ctx, tx, c, connectors.Group)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT group_id FROM source_groups WHERE job = $1 ORDER BY group_id FOR UPDATE`, c.Job)
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if gone = slices.DeleteFunc(known, marks.Has); len(gone) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		queueGroupDeletes(b, c.Job, gone)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("forget unseen source groups: %w", err)
	}
	return gone, nil
}

// SourceGroupHashes returns recorded group hashes by ID.
func (s *Store) SourceGroupHashes(ctx context.Context, job string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := s.pairs(ctx, func(id, hash string) { out[id] = hash },
		`SELECT group_id, hash FROM source_groups WHERE job = $1 AND group_id = ANY($2)`, job, ids)
	if err != nil {
		return nil, fmt.Errorf("read source groups: %w", err)
	}
	return out, nil
}

// SourceMembers returns a group's direct members.
func (s *Store) SourceMembers(ctx context.Context, job, groupID string) ([]string, error) {
	members, err := s.strings(ctx, `SELECT member_id FROM source_members WHERE job = $1 AND group_id = $2 ORDER BY member_id`, job, groupID)
	if err != nil {
		return nil, fmt.Errorf("read members of source group %s: %w", groupID, err)
	}
	return members, nil
}

// ParentGroups returns the groups each ID is a direct member of.
func (s *Store) ParentGroups(ctx context.Context, job string, memberIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.pairs(ctx, func(member, group string) { out[member] = append(out[member], group) },
		`SELECT member_id, group_id FROM source_members WHERE job = $1 AND member_id = ANY($2) ORDER BY member_id, group_id`, job, memberIDs)
	if err != nil {
		return nil, fmt.Errorf("read source group memberships: %w", err)
	}
	return out, nil
}

// GroupsAmong returns which IDs are source groups.
func (s *Store) GroupsAmong(ctx context.Context, job string, ids []string) (map[string]bool, error) {
	found, err := s.strings(ctx, `SELECT group_id FROM source_groups WHERE job = $1 AND group_id = ANY($2)`, job, ids)
	if err != nil {
		return nil, fmt.Errorf("read source groups: %w", err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// FindSourceGroups finds groups by ID or by name, ignoring the name's case.
func (s *Store) FindSourceGroups(ctx context.Context, job string, keys []string) ([]string, error) {
	folded := make([]string, len(keys))
	for i, k := range keys {
		folded[i] = strings.ToLower(k)
	}
	ids, err := s.strings(ctx, `SELECT group_id FROM source_groups WHERE job = $1 AND group_id = ANY($2)
		UNION SELECT group_id FROM source_groups WHERE job = $1 AND folded_name = ANY($3)
		ORDER BY 1`, job, keys, folded)
	if err != nil {
		return nil, fmt.Errorf("find source groups: %w", err)
	}
	return ids, nil
}

func (s *Store) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, _ := s.pool.Query(ctx, query, args...)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (s *Store) pairs(ctx context.Context, fn func(a, b string), query string, args ...any) error {
	rows, _ := s.pool.Query(ctx, query, args...)
	var a, b string
	_, err := pgx.ForEachRow(rows, []any{&a, &b}, func() error {
		fn(a, b)
		return nil
	})
	return err
}
