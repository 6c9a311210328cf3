package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// inChunk bounds the IDs bound in one IN (...) list, below SQLite's
// variable limit.
const inChunk = 500

// inList calls fn for each chunk of ids with the placeholders for it.
func inList(ids []string, fn func(placeholders string, args []any) error) error {
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := fn("?"+strings.Repeat(",?", len(part)-1), args); err != nil {
			return err
		}
	}
	return nil
}

// PutSourceGroups records groups and replaces their members.
func (s *Store) PutSourceGroups(ctx context.Context, job string, groups []store.SourceGroup) error {
	if len(groups) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		member, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO source_members (job, group_id, member_id) VALUES (?,?,?)`)
		if err != nil {
			return err
		}
		defer member.Close()
		for _, g := range groups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO source_groups (job, group_id, name, hash, folded) VALUES (?,?,?,?,?)
				ON CONFLICT (job, group_id) DO UPDATE SET name = excluded.name, hash = excluded.hash, folded = excluded.folded`, job, g.ID, g.Name, g.Hash, strings.ToLower(g.Name)); err != nil {
				return fmt.Errorf("record source group %s: %w", g.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM source_members WHERE job = ? AND group_id = ?`, job, g.ID); err != nil {
				return fmt.Errorf("record members of source group %s: %w", g.ID, err)
			}
			for _, m := range g.Members {
				if _, err := member.ExecContext(ctx, job, g.ID, m); err != nil {
					return fmt.Errorf("record members of source group %s: %w", g.ID, err)
				}
			}
		}
		return nil
	})
}

// DeleteSourceGroups forgets groups and their members.
func (s *Store) DeleteSourceGroups(ctx context.Context, job string, ids []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return deleteGroups(ctx, tx, job, ids)
	})
}

func deleteGroups(ctx context.Context, tx *sql.Tx, job string, ids []string) error {
	return inList(ids, func(ph string, args []any) error {
		args = append([]any{job}, args...)
		for _, table := range []string{"source_groups", "source_members"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE job = ? AND group_id IN (`+ph+`)`, args...); err != nil {
				return fmt.Errorf("forget source groups: %w", err)
			}
		}
		return nil
	})
}

// ForgetUnseenGroups forgets the groups a cycle's read did not return.
func (s *Store) ForgetUnseenGroups(ctx context.Context, c store.Cycle) ([]string, error) {
	var gone []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		marks, err := loadSeen(ctx, tx, c, connectors.Group)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT group_id FROM source_groups WHERE job = ? ORDER BY group_id`, c.Job)
		if err != nil {
			return err
		}
		known, err := scanStrings(rows)
		if err != nil {
			return err
		}
		gone = slices.DeleteFunc(known, marks.Has)
		return deleteGroups(ctx, tx, c.Job, gone)
	})
	return gone, err
}

// SourceGroupHashes returns recorded group hashes by ID.
func (s *Store) SourceGroupHashes(ctx context.Context, job string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := inList(ids, func(ph string, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT group_id, hash FROM source_groups WHERE job = ? AND group_id IN (`+ph+`)`, append([]any{job}, args...)...)
		if err != nil {
			return fmt.Errorf("read source groups: %w", err)
		}
		return scanPairs(rows, func(id, hash string) { out[id] = hash })
	})
	return out, err
}

// SourceMembers returns a group's direct members.
func (s *Store) SourceMembers(ctx context.Context, job, groupID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT member_id FROM source_members WHERE job = ? AND group_id = ? ORDER BY member_id`, job, groupID)
	if err != nil {
		return nil, fmt.Errorf("read members of source group %s: %w", groupID, err)
	}
	return scanStrings(rows)
}

// ParentGroups returns the groups each ID is a direct member of.
func (s *Store) ParentGroups(ctx context.Context, job string, memberIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := inList(memberIDs, func(ph string, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT member_id, group_id FROM source_members WHERE job = ? AND member_id IN (`+ph+`) ORDER BY member_id, group_id`, append([]any{job}, args...)...)
		if err != nil {
			return fmt.Errorf("read source group memberships: %w", err)
		}
		return scanPairs(rows, func(member, group string) { out[member] = append(out[member], group) })
	})
	return out, err
}

// GroupsAmong returns which IDs are source groups.
func (s *Store) GroupsAmong(ctx context.Context, job string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inList(ids, func(ph string, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT group_id FROM source_groups WHERE job = ? AND group_id IN (`+ph+`)`, append([]any{job}, args...)...)
		if err != nil {
			return fmt.Errorf("read source groups: %w", err)
		}
		found, err := scanStrings(rows)
		for _, id := range found {
			out[id] = true
		}
		return err
	})
	return out, err
}

// FindSourceGroups finds groups by ID or by name, ignoring the name's case.
func (s *Store) FindSourceGroups(ctx context.Context, job string, keys []string) ([]string, error) {
	folded := make([]string, len(keys))
	for i, k := range keys {
		folded[i] = strings.ToLower(k)
	}
	found := map[string]bool{}
	for _, q := range []struct {
		where string
		keys  []string
	}{{"group_id", keys}, {"folded", folded}} {
		err := inList(q.keys, func(ph string, args []any) error {
			rows, err := s.db.QueryContext(ctx, `SELECT group_id FROM source_groups WHERE job = ? AND `+q.where+` IN (`+ph+`)`, append([]any{job}, args...)...)
			if err != nil {
				return fmt.Errorf("find source groups: %w", err)
			}
			ids, err := scanStrings(rows)
			for _, id := range ids {
				found[id] = true
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(found))
	for id := range found {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, closeRows(rows)
}

func scanPairs(rows *sql.Rows, fn func(a, b string)) error {
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			rows.Close()
			return err
		}
		fn(a, b)
	}
	return closeRows(rows)
}
