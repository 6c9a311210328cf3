package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
		_, err := s.db.ExecContext(ctx, `DELETE FROM pending WHERE job = ? AND work = ? AND type = ? AND source_id IN (`+ph+`)`,
			append([]any{job, string(w), string(t)}, args...)...)
		if err != nil {
			return fmt.Errorf("clear pending %s: %w", w, err)
		}
		return nil
	})
}
