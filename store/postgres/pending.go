package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// Referrers finds the objects whose references point to sourceIDs.
func (s *Store) Referrers(ctx context.Context, job string, sourceIDs []string) (map[connectors.ObjectType][]string, error) {
	out := map[connectors.ObjectType][]string{}
	if len(sourceIDs) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT o.type, o.source_id FROM objects o, jsonb_each_text(o.refs::jsonb) r
		WHERE o.job = $1 AND o.refs IS NOT NULL AND r.value = ANY($2) ORDER BY 1, 2`, job, sortedIDs(sourceIDs))
	_, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var t, id string
		if err := row.Scan(&t, &id); err != nil {
			return struct{}{}, err
		}
		out[connectors.ObjectType(t)] = append(out[connectors.ObjectType(t)], id)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("find referring objects: %w", err)
	}
	return out, nil
}
