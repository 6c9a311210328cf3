package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// ResetTargetIndex drops what a cycle indexed of a type.
func (s *Store) ResetTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"target_indexes", "target_objects", "target_keys"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE job = ? AND cycle = ? AND type = ?`, c.Job, c.ID, string(t)); err != nil {
				return fmt.Errorf("reset target index: %w", err)
			}
		}
		return nil
	})
}

// AddToTargetIndex records listed objects and their keys. An object listed
// again replaces the copy listed before.
func (s *Store) AddToTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objs []store.IndexedObject) error {
	if len(objs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		obj, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO target_objects (job, cycle, type, target_id, object) VALUES (?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer obj.Close()
		key, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO target_keys (job, cycle, type, attribute, value, target_id) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer key.Close()
		for _, o := range objs {
			b, err := json.Marshal(o.Object)
			if err != nil {
				return err
			}
			if _, err := obj.ExecContext(ctx, c.Job, c.ID, string(t), o.Object.ID, string(b)); err != nil {
				return fmt.Errorf("index target object %s: %w", o.Object.ID, err)
			}
			for _, k := range o.Keys {
				if _, err := key.ExecContext(ctx, c.Job, c.ID, string(t), k.Attribute, k.Value, o.Object.ID); err != nil {
					return fmt.Errorf("index target object %s: %w", o.Object.ID, err)
				}
			}
		}
		return nil
	})
}

// CompleteTargetIndex marks a type's index complete.
func (s *Store) CompleteTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objects int) error {
	_, err := s.w.ExecContext(ctx, `INSERT OR REPLACE INTO target_indexes (job, cycle, type, objects) VALUES (?,?,?,?)`, c.Job, c.ID, string(t), objects)
	return err
}

// TargetIndexed reports whether a type's index is complete and its size.
func (s *Store) TargetIndexed(ctx context.Context, c store.Cycle, t connectors.ObjectType) (int, bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT objects FROM target_indexes WHERE job = ? AND cycle = ? AND type = ?`, c.Job, c.ID, string(t)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return n, err == nil, err
}

// LookupTargetIndex finds the indexed objects under keys.
func (s *Store) LookupTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, keys []store.IndexKey) (map[store.IndexKey][]connectors.TargetObject, error) {
	byAttr := map[string][]string{}
	for _, k := range keys {
		byAttr[k.Attribute] = append(byAttr[k.Attribute], k.Value)
	}
	out := map[store.IndexKey][]connectors.TargetObject{}
	for attr, values := range byAttr {
		err := inList(values, func(ph string, args []any) error {
			rows, err := s.db.QueryContext(ctx, `SELECT k.value, o.object FROM target_keys k
				JOIN target_objects o ON o.job = k.job AND o.cycle = k.cycle AND o.type = k.type AND o.target_id = k.target_id
				WHERE k.job = ? AND k.cycle = ? AND k.type = ? AND k.attribute = ? AND k.value IN (`+ph+`)
				ORDER BY k.value, k.target_id`, append([]any{c.Job, c.ID, string(t), attr}, args...)...)
			if err != nil {
				return fmt.Errorf("look up the target index: %w", err)
			}
			for rows.Next() {
				var (
					value, raw string
					obj        connectors.TargetObject
				)
				if err := rows.Scan(&value, &raw); err != nil {
					rows.Close()
					return err
				}
				if err := json.Unmarshal([]byte(raw), &obj); err != nil {
					rows.Close()
					return fmt.Errorf("indexed target object: %w", err)
				}
				k := store.IndexKey{Attribute: attr, Value: value}
				out[k] = append(out[k], obj)
			}
			return closeRows(rows)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
