package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// ResetTargetIndex drops what a cycle indexed of a type.
func (s *Store) ResetTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType) error {
	err := s.write(ctx, func(b *pgx.Batch) {
		for _, table := range []string{"target_indexes", "target_objects", "target_keys"} {
			b.Queue(`DELETE FROM `+table+` WHERE job = $1 AND cycle = $2 AND type = $3`, c.Job, c.ID, string(t))
		}
	})
	if err != nil {
		return fmt.Errorf("reset target index: %w", err)
	}
	return nil
}

// AddToTargetIndex records listed objects and their keys. An object listed
// again replaces the copy listed before and keeps its earlier keys.
func (s *Store) AddToTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objs []store.IndexedObject) error {
	if len(objs) == 0 {
		return nil
	}
	var keyAttrs, keyValues, keyTargets []string
	for _, o := range objs {
		for _, k := range o.Keys {
			keyAttrs, keyValues, keyTargets = append(keyAttrs, k.Attribute), append(keyValues, k.Value), append(keyTargets, o.Object.ID)
		}
	}
	objs = latest(objs, func(o store.IndexedObject) string { return o.Object.ID })
	ids, raw := make([]string, len(objs)), make([]string, len(objs))
	for i, o := range objs {
		b, err := json.Marshal(o.Object)
		if err != nil {
			return err
		}
		ids[i], raw[i] = o.Object.ID, string(b)
	}
	err := s.write(ctx, func(b *pgx.Batch) {
		b.Queue(`INSERT INTO target_objects (job, cycle, type, target_id, object)
			SELECT $1::text, $2::text, $3::text, * FROM unnest($4::text[], $5::text[])
			ON CONFLICT (job, cycle, type, target_id) DO UPDATE SET object = excluded.object`, c.Job, c.ID, string(t), ids, raw)
		if len(keyAttrs) > 0 {
			b.Queue(`INSERT INTO target_keys (job, cycle, type, attribute, value, target_id)
				SELECT $1::text, $2::text, $3::text, * FROM unnest($4::text[], $5::text[], $6::text[])
				ON CONFLICT DO NOTHING`, c.Job, c.ID, string(t), keyAttrs, keyValues, keyTargets)
		}
	})
	if err != nil {
		return fmt.Errorf("index target objects: %w", err)
	}
	return nil
}

// CompleteTargetIndex marks a type's index complete.
func (s *Store) CompleteTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, objects int) error {
	err := s.exec(ctx, `INSERT INTO target_indexes (job, cycle, type, objects) VALUES ($1, $2, $3, $4)
		ON CONFLICT (job, cycle, type) DO UPDATE SET objects = excluded.objects`, c.Job, c.ID, string(t), objects)
	if err != nil {
		return fmt.Errorf("complete target index: %w", err)
	}
	return nil
}

// TargetIndexed reports whether a type's index is complete and its size.
func (s *Store) TargetIndexed(ctx context.Context, c store.Cycle, t connectors.ObjectType) (int, bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT objects FROM target_indexes WHERE job = $1 AND cycle = $2 AND type = $3`, c.Job, c.ID, string(t)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read target index: %w", err)
	}
	return n, true, nil
}

// LookupTargetIndex finds the indexed objects under keys, each key's in
// target ID order.
func (s *Store) LookupTargetIndex(ctx context.Context, c store.Cycle, t connectors.ObjectType, keys []store.IndexKey) (map[store.IndexKey][]connectors.TargetObject, error) {
	// A key asked twice would otherwise be joined, and found, twice.
	keys = latest(keys, func(k store.IndexKey) string { return k.Attribute + "\x00" + k.Value })
	attrs, values := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		attrs[i], values[i] = k.Attribute, k.Value
	}
	// One probe of each primary key per key and object found (see probe).
	rows, _ := s.pool.Query(ctx, `SELECT q.attribute, q.value, o.object FROM unnest($4::text[], $5::text[]) AS q(attribute, value)
		CROSS JOIN LATERAL (SELECT k.target_id FROM target_keys k
			WHERE k.job = $1 AND k.cycle = $2 AND k.type = $3 AND k.attribute = q.attribute AND k.value = q.value OFFSET 0) k
		CROSS JOIN LATERAL (SELECT o.object FROM target_objects o
			WHERE o.job = $1 AND o.cycle = $2 AND o.type = $3 AND o.target_id = k.target_id OFFSET 0) o
		ORDER BY q.attribute, q.value, k.target_id`, c.Job, c.ID, string(t), attrs, values)
	out := map[store.IndexKey][]connectors.TargetObject{}
	var (
		k   store.IndexKey
		raw string
	)
	_, err := pgx.ForEachRow(rows, []any{&k.Attribute, &k.Value, &raw}, func() error {
		var obj connectors.TargetObject
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			return fmt.Errorf("indexed target object: %w", err)
		}
		out[k] = append(out[k], obj)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up the target index: %w", err)
	}
	return out, nil
}
