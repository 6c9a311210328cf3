package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// Seen marks are runs (see store.SeenMarks).

// MarkSeen records source IDs read in a cycle, as one run.
func (s *Store) MarkSeen(ctx context.Context, c store.Cycle, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO seen_runs (job, cycle, type, ids) VALUES (?, ?, ?, ?)`,
		c.Job, c.ID, string(t), store.EncodeSeenRun(ids)); err != nil {
		return fmt.Errorf("mark objects seen: %w", err)
	}
	return nil
}

// Unseen lists known objects not read in a cycle: their IDs are listed a
// page at a time and merged with the marks, and the states of those not
// seen read by ID.
func (s *Store) Unseen(ctx context.Context, c store.Cycle, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.db, c, t)
	if err != nil {
		return err
	}
	return store.EachUnseen(marks, objectPage, func(after string, first bool) ([]string, error) {
		op := ">"
		if first {
			op = ">=" // ">=" "" lets the first page include an empty ID
		}
		rows, err := s.db.QueryContext(ctx, `SELECT source_id FROM objects WHERE job = ? AND type = ? AND source_id `+op+` ? ORDER BY source_id LIMIT `+strconv.Itoa(objectPage),
			c.Job, string(t), after)
		if err != nil {
			return nil, err
		}
		return scanStrings(rows)
	}, func(ids []string) (map[string]store.ObjectState, error) { return s.Objects(ctx, c.Job, t, ids) }, fn)
}

// UnseenDueEscrows lists escrowed objects whose retry time has come and
// that a cycle has not marked seen.
func (s *Store) UnseenDueEscrows(ctx context.Context, c store.Cycle, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.db, c, t)
	if err != nil {
		return err
	}
	// DueEscrows lists in source ID order, as marks are asked.
	return s.DueEscrows(ctx, c.Job, t, now, marks.Unseen(fn))
}

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadSeen reads a cycle's seen marks of a type: its runs, and the rows
// an earlier version wrote, as one run more.
func loadSeen(ctx context.Context, q querier, c store.Cycle, t connectors.ObjectType) (*store.SeenMarks, error) {
	rows, err := q.QueryContext(ctx, `SELECT ids FROM seen_runs WHERE job = ? AND cycle = ? AND type = ?`, c.Job, c.ID, string(t))
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	var m store.SeenMarks
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read seen marks: %w", err)
		}
		if err := m.Add(b); err != nil {
			rows.Close()
			return nil, err
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT source_id FROM seen WHERE job = ? AND cycle = ? AND type = ? ORDER BY source_id`, c.Job, c.ID, string(t))
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	earlier, err := scanStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	if len(earlier) > 0 {
		if err := m.Add(store.EncodeSeenRun(earlier)); err != nil {
			return nil, err
		}
	}
	return &m, nil
}
