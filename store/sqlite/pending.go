package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// MarkPending records objects that need a phase's work.
func (s *Store) MarkPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO pending (job, work, type, source_id) VALUES (?,?,?,?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, job, string(w), string(t), id); err != nil {
				return fmt.Errorf("mark %s pending for %s: %w", id, w, err)
			}
		}
		return nil
	})
}

// Pending returns marked source IDs after a given one, in order.
func (s *Store) Pending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, after string, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_id FROM pending WHERE job = ? AND work = ? AND type = ? AND source_id > ? ORDER BY source_id LIMIT ?`,
		job, string(w), string(t), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pending %s: %w", w, err)
	}
	return scanStrings(rows)
}

// ClearPending removes marks.
func (s *Store) ClearPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, ids []string) error {
	return inList(ids, func(ph string, args []any) error {
		_, err := s.w.ExecContext(ctx, `DELETE FROM pending WHERE job = ? AND work = ? AND type = ? AND source_id IN (`+ph+`)`,
			append([]any{job, string(w), string(t)}, args...)...)
		if err != nil {
			return fmt.Errorf("clear pending %s: %w", w, err)
		}
		return nil
	})
}

// Referrers finds the objects whose references point to sourceIDs.
func (s *Store) Referrers(ctx context.Context, job string, sourceIDs []string) (map[connectors.ObjectType][]string, error) {
	found := map[connectors.ObjectType]map[string]bool{}
	err := inList(sourceIDs, func(ph string, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT o.type, o.source_id FROM objects o, json_each(o.refs) r
			WHERE o.job = ? AND o.refs IS NOT NULL AND r.value IN (`+ph+`)`, append([]any{job}, args...)...)
		if err != nil {
			return fmt.Errorf("find referring objects: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t, id string
			if err := rows.Scan(&t, &id); err != nil {
				return err
			}
			if found[connectors.ObjectType(t)] == nil {
				found[connectors.ObjectType(t)] = map[string]bool{}
			}
			found[connectors.ObjectType(t)][id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out := make(map[connectors.ObjectType][]string, len(found))
	for t, ids := range found {
		out[t] = slices.Sorted(maps.Keys(ids))
	}
	return out, nil
}
