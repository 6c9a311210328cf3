package dryrun

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// cleared is the work under which the overlay keeps the marks the dry run
// cleared, which the job still has.
func cleared(w store.Work) store.Work { return w + "/cleared by the dry run" }

// MarkPending marks objects in the overlay.
func (s *Store) MarkPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, sourceIDs []string) error {
	if err := s.live.MarkPending(ctx, s.shadow(job), w, t, sourceIDs); err != nil {
		return err
	}
	return s.live.ClearPending(ctx, s.shadow(job), cleared(w), t, sourceIDs)
}

// ClearPending removes the overlay's marks and hides the job's.
func (s *Store) ClearPending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, sourceIDs []string) error {
	if err := s.live.ClearPending(ctx, s.shadow(job), w, t, sourceIDs); err != nil {
		return err
	}
	return s.live.MarkPending(ctx, s.shadow(job), cleared(w), t, sourceIDs)
}

// Pending returns up to limit IDs after the given one that the overlay
// marked, or the job marked and the overlay did not clear, in order.
func (s *Store) Pending(ctx context.Context, job string, w store.Work, t connectors.ObjectType, after string, limit int) ([]string, error) {
	m, err := s.masks(ctx, job)
	if err != nil {
		return nil, err
	}
	if m.has(maskPending) {
		return s.live.Pending(ctx, s.shadow(job), w, t, after, limit)
	}
	var out []string
	for len(out) < limit {
		over, err := s.live.Pending(ctx, s.shadow(job), w, t, after, limit)
		if err != nil {
			return nil, err
		}
		lv, err := s.live.Pending(ctx, job, w, t, after, limit)
		if err != nil {
			return nil, err
		}
		// A full page may have more after its last ID: the merged page
		// ends where the first full one does.
		bound, bounded := "", false
		for _, page := range [][]string{over, lv} {
			if len(page) == limit && (!bounded || page[limit-1] < bound) {
				bound, bounded = page[limit-1], true
			}
		}
		marked := map[string]bool{}
		for _, id := range over {
			marked[id] = true
		}
		page := union(over, lv, bound, bounded)
		if len(page) == 0 {
			break
		}
		hidden, err := s.clearedUpTo(ctx, job, w, t, after, page[len(page)-1])
		if err != nil {
			return nil, err
		}
		for _, id := range page {
			if (marked[id] || !hidden[id]) && len(out) < limit {
				out = append(out, id)
			}
		}
		if !bounded {
			break
		}
		after = page[len(page)-1]
	}
	return out, nil
}

// union merges two sorted lists, without the IDs past bound when bounded.
func union(a, b []string, bound string, bounded bool) []string {
	var out []string
	for len(a) > 0 || len(b) > 0 {
		var id string
		switch {
		case len(b) == 0 || len(a) > 0 && a[0] < b[0]:
			id, a = a[0], a[1:]
		case len(a) == 0 || b[0] < a[0]:
			id, b = b[0], b[1:]
		default:
			id, a, b = a[0], a[1:], b[1:]
		}
		if bounded && id > bound {
			break
		}
		out = append(out, id)
	}
	return out
}

// clearedPage is how many cleared marks are read at once.
const clearedPage = 1000

// clearedUpTo returns the marks the overlay cleared after one ID up to another.
func (s *Store) clearedUpTo(ctx context.Context, job string, w store.Work, t connectors.ObjectType, after, last string) (map[string]bool, error) {
	out := map[string]bool{}
	for {
		page, err := s.live.Pending(ctx, s.shadow(job), cleared(w), t, after, clearedPage)
		if err != nil {
			return nil, err
		}
		for _, id := range page {
			if id > last {
				return out, nil
			}
			out[id] = true
		}
		if len(page) < clearedPage {
			return out, nil
		}
		after = page[len(page)-1]
	}
}
