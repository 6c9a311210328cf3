package sqlite

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// A cycle's seen marks are kept as runs: each MarkSeen call writes one row
// holding its IDs sorted, and the listings of what was not seen merge the
// runs with the known objects, both in source ID order. A row per ID cost a
// snapshot read of a million objects a million B-tree inserts, and the
// listings a probe of that tree per known object; runs cost one insert per
// page read and one pass over the marks.

// MarkSeen records source IDs read in a cycle, as one run.
func (s *Store) MarkSeen(ctx context.Context, c store.Cycle, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO seen_runs (job, cycle, type, ids) VALUES (?, ?, ?, ?)`,
		c.Job, c.ID, string(t), encodeRun(ids)); err != nil {
		return fmt.Errorf("mark objects seen: %w", err)
	}
	return nil
}

// encodeRun writes the IDs in byte order, which is SQLite's order of
// source IDs, each as its length (a uvarint) and its bytes.
func encodeRun(ids []string) []byte {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	n := 0
	for _, id := range sorted {
		n += binary.MaxVarintLen32 + len(id)
	}
	b := make([]byte, 0, n)
	for _, id := range sorted {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	return b
}

// Unseen lists known objects not read in a cycle: their IDs are listed a
// page at a time and merged with the marks, and the states of those not
// seen read by ID.
func (s *Store) Unseen(ctx context.Context, c store.Cycle, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.db, c, t)
	if err != nil {
		return err
	}
	after, op := "", ">=" // ">=" "" lets the first page include an empty ID
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT source_id FROM objects WHERE job = ? AND type = ? AND source_id `+op+` ? ORDER BY source_id LIMIT `+strconv.Itoa(objectPage),
			c.Job, string(t), after)
		if err != nil {
			return fmt.Errorf("list unseen objects: %w", err)
		}
		ids, err := scanStrings(rows)
		if err != nil {
			return fmt.Errorf("list unseen objects: %w", err)
		}
		unseen := slices.DeleteFunc(slices.Clone(ids), marks.has)
		if len(unseen) > 0 {
			states, err := s.Objects(ctx, c.Job, t, unseen)
			if err != nil {
				return err
			}
			for _, id := range unseen {
				if o, ok := states[id]; ok {
					if err := fn(o); err != nil {
						return err
					}
				}
			}
		}
		if len(ids) < objectPage {
			return nil
		}
		after, op = ids[len(ids)-1], ">"
	}
}

// UnseenDueEscrows lists escrowed objects whose retry time has come and
// that a cycle has not marked seen.
func (s *Store) UnseenDueEscrows(ctx context.Context, c store.Cycle, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.db, c, t)
	if err != nil {
		return err
	}
	return s.DueEscrows(ctx, c.Job, t, now, func(o store.ObjectState) error {
		if marks.has(o.SourceID) {
			return nil
		}
		return fn(o)
	})
}

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadSeen reads a cycle's seen marks of a type: its runs, and the rows
// an earlier version wrote, as one run more.
func loadSeen(ctx context.Context, q querier, c store.Cycle, t connectors.ObjectType) (*seenMarks, error) {
	rows, err := q.QueryContext(ctx, `SELECT ids FROM seen_runs WHERE job = ? AND cycle = ? AND type = ?`, c.Job, c.ID, string(t))
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	var m seenMarks
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read seen marks: %w", err)
		}
		if err := m.add(b); err != nil {
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
		if err := m.add(encodeRun(earlier)); err != nil {
			return nil, err
		}
	}
	heap.Init(&m.runs)
	return &m, nil
}

// seenMarks answers, for IDs asked in ascending order, whether any run
// holds them: each run is read once, front to back.
type seenMarks struct{ runs runHeap }

// add adds a run, checked whole first: a run cut short would make the IDs
// after the cut look unseen, which is to say deleted.
func (m *seenMarks) add(b []byte) error {
	for r := (run{rest: b}); len(r.rest) > 0; {
		if !r.next() {
			return errors.New("read seen marks: a run of marks is damaged")
		}
	}
	r := &run{rest: b}
	if r.next() {
		m.runs = append(m.runs, r)
	}
	return nil
}

// has reports whether id was marked seen; id is not less than the IDs of
// earlier calls.
func (m *seenMarks) has(id string) bool {
	for len(m.runs) > 0 {
		r := m.runs[0]
		if string(r.id) >= id {
			return string(r.id) == id
		}
		if r.next() {
			heap.Fix(&m.runs, 0)
		} else {
			heap.Pop(&m.runs)
		}
	}
	return false
}

// run is one encoded run: id is its current ID, rest what follows.
type run struct{ id, rest []byte }

// next moves to the run's next ID; false at its end, or where it is damaged.
func (r *run) next() bool {
	n, k := binary.Uvarint(r.rest)
	if k <= 0 || uint64(len(r.rest)-k) < n {
		return false
	}
	r.id, r.rest = r.rest[k:k+int(n)], r.rest[k+int(n):]
	return true
}

// runHeap orders runs by their current ID.
type runHeap []*run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return string(h[i].id) < string(h[j].id) }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
