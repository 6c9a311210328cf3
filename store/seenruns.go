package store

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// A cycle's seen marks are kept as runs: each MarkSeen call writes one row
// holding its IDs sorted, and the listings of what was not seen merge the
// runs with the known objects, both in source ID order (byte order, which
// is both stores' order of source IDs). A row per ID cost a snapshot read
// of a million objects a million B-tree inserts, and the listings a probe
// of that tree per known object; runs cost one insert per page read and
// one pass over the marks.

// EncodeSeenRun writes the IDs in byte order, each as its length (a
// uvarint) and its bytes.
func EncodeSeenRun(ids []string) []byte {
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

// ErrDamagedSeenRun is returned for a run of seen marks that cannot be read
// to its end.
var ErrDamagedSeenRun = errors.New("read seen marks: a run of marks is damaged")

// SeenMarks answers, for IDs asked in ascending order, whether any run
// holds them: each run is read once, front to back.
type SeenMarks struct{ runs runHeap }

// Add adds an encoded run, checked whole first: a run cut short would make
// the IDs after the cut look unseen, which is to say deleted. Add every
// run before the first call to Has.
func (m *SeenMarks) Add(b []byte) error {
	for r := (run{rest: b}); len(r.rest) > 0; {
		if !r.next() {
			return ErrDamagedSeenRun
		}
	}
	r := &run{rest: b}
	if r.next() {
		heap.Push(&m.runs, r)
	}
	return nil
}

// Has reports whether id was marked seen; id is not less than the IDs of
// earlier calls.
func (m *SeenMarks) Has(id string) bool {
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

// Unseen returns fn for the states whose IDs the marks do not hold, given
// in source ID order.
func (m *SeenMarks) Unseen(fn func(ObjectState) error) func(ObjectState) error {
	return func(o ObjectState) error {
		if m.Has(o.SourceID) {
			return nil
		}
		return fn(o)
	}
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

// EachUnseen calls fn with the state of each known object the marks do not
// hold, in source ID order. ids lists the known IDs in order, a page at a
// time: from the first (after is "" and first is set) or after a given
// one; a page shorter than pageSize is the last. states reads the states
// of some IDs.
func EachUnseen(m *SeenMarks, pageSize int, ids func(after string, first bool) ([]string, error),
	states func(ids []string) (map[string]ObjectState, error), fn func(ObjectState) error) error {
	after, first := "", true
	for {
		page, err := ids(after, first)
		if err != nil {
			return fmt.Errorf("list unseen objects: %w", err)
		}
		unseen := slices.DeleteFunc(slices.Clone(page), m.Has)
		if len(unseen) > 0 {
			known, err := states(unseen)
			if err != nil {
				return err
			}
			for _, id := range unseen {
				if o, ok := known[id]; ok {
					if err := fn(o); err != nil {
						return err
					}
				}
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after, first = page[len(page)-1], false
	}
}
