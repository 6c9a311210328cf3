package postgres

import (
	"context"
	"fmt"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// MarkPending records objects that need a phase's work.
func (s *Store) MarkPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.exec(ctx, `INSERT INTO pending (job, work, type, source_id) SELECT $1::text, $2::text, $3::text, * FROM unnest($4::text[])
		ON CONFLICT DO NOTHING`, job, string(w), string(t), sortedIDs(ids))
	if err != nil {
		return fmt.Errorf("mark pending for %s: %w", w, err)
	}
	return nil
}

// Pending returns marked source IDs after a given one, in order.
func (s *Store) Pending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, after string, limit int) ([]string, error) {
	ids, err := s.strings(ctx, `SELECT source_id FROM pending WHERE job = $1 AND work = $2 AND type = $3 AND source_id > $4 ORDER BY source_id LIMIT $5`,
		job, string(w), string(t), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pending %s: %w", w, err)
	}
	return ids, nil
}

// ClearPending removes marks.
func (s *Store) ClearPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.exec(ctx, `DELETE FROM pending WHERE job = $1 AND work = $2 AND type = $3 AND source_id = ANY($4)`,
		job, string(w), string(t), sortedIDs(ids))
	if err != nil {
		return fmt.Errorf("clear pending %s: %w", w, err)
	}
	return nil
}
