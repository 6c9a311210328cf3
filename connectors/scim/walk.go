package scim

import (
	"context"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"strconv"

	"github.com/openprovisioning/provisioner/connectors"
)

// How a listing is read.
//
// SCIM lists by position (startIndex, RFC 7644 §3.4.2.4), and what is
// listed is taken for everything the service holds: a source's absent
// users are deleted, a target's unlisted objects created again. So a
// listing is read until a page comes back empty, whatever totalResults
// says (some services count only the page), and checked as it goes:
//   - when totalResults shrank, resources already read were deleted and the
//     rest moved towards the start: the page is read again that many
//     positions earlier, and what comes twice is dropped;
//   - a page that holds only resources already read, before the end the
//     service itself counts, is an earlier page answered again: the service
//     ignores startIndex, or its order changes between requests
//     (ServiceIncompatible);
//   - at the end, fewer distinct resources than totalResults (at the start
//     or the end, whichever is lower: resources created during the read
//     need not be in it) means the service lost some between pages, as one
//     whose order changes between requests does (ServerError: a read at a
//     quieter time may succeed).
//
// A read stays exposed to one race no client of positional paging can see:
// a resource deleted before the read's position while another is created
// after it moves the rest back unnoticed.
type walk struct {
	t    connectors.ObjectType
	ep   string
	q    url.Values
	next int // startIndex of the next page
	// first and last are the totalResults of the first and the latest
	// page; first is -1 before the first page.
	first, last int
	seed        maphash.Seed
	// seen holds hashes of the ids read. A collision drops a resource as
	// read before, which the count at the end then refuses.
	seen map[uint64]struct{}
	// refused is set when read found the listing inconsistent: the walk
	// cannot go on, and a read of the whole listing again may succeed.
	refused error
}

// walkPage is one page of a walk, read but not yet taken into it.
type walkPage struct {
	// fresh are the page's resources not read before, in its order.
	fresh []map[string]any
	start int // the startIndex read
	n     int // resources in the page, read before or not
	total int
	// end is set when the listing is complete.
	end bool
}

func newWalk(t connectors.ObjectType, q url.Values) (*walk, error) {
	ep, err := endpoint(t)
	if err != nil {
		return nil, err
	}
	return &walk{t: t, ep: ep, q: q, next: 1, first: -1, seed: maphash.MakeSeed(), seen: map[uint64]struct{}{}}, nil
}

func (w *walk) key(id string) uint64 { return maphash.String(w.seed, id) }

// read reads the next page. It does not change the walk but to mark it
// refused: take does, once the caller has what it needs of the page.
func (w *walk) read(ctx context.Context, c *Client) (walkPage, error) {
	start := w.next
	lr, err := w.list(ctx, c, start)
	if err != nil {
		return walkPage{}, err
	}
	total := *lr.TotalResults
	if w.first >= 0 && total < w.last && start > 1 {
		back := max(1, start-(w.last-total))
		again, err := w.list(ctx, c, back)
		if err != nil {
			return walkPage{}, err
		}
		// Only a page that brings resources not read yet is taken: the
		// walk moves on, also past a service whose totalResults jumps.
		if len(w.fresh(again)) > 0 {
			lr, start, total = again, back, *again.TotalResults
		}
	}
	p := walkPage{fresh: w.fresh(lr), start: start, n: len(lr.Resources), total: total}
	distinct := len(w.seen) + len(p.fresh)
	switch {
	case p.n == 0:
		p.end = true
	case len(p.fresh) > 0:
	case start > total && distinct >= total:
		// Past its end, a service may answer with its last page again.
		p.end = true
	default:
		w.refused = c.incompatible(w.op(), http.StatusOK, fmt.Sprintf(
			"the page at startIndex=%d holds only resources read from earlier pages, before the end of %d: the service does not page by startIndex, or does not keep its order between requests; the listing is refused rather than taken for all there is", start, total))
		return walkPage{}, w.refused
	}
	if p.end {
		need := total
		if w.first >= 0 {
			need = min(w.first, total)
		}
		if distinct < need {
			w.refused = &connectors.Error{Kind: connectors.KindServerError, Op: w.op(), Status: http.StatusOK, Detail: fmt.Sprintf(
				"the listing ended at startIndex=%d with %d distinct resources where the service counts %d: it lost some between pages (its order changed between requests, or it does not page by startIndex); nothing missing is taken for deleted", start, distinct, need)}
			return walkPage{}, w.refused
		}
	}
	return p, nil
}

// fresh returns the resources of a page not read before, each once.
func (w *walk) fresh(lr listResponse) []map[string]any {
	var out []map[string]any
	inPage := map[uint64]struct{}{}
	for _, r := range lr.Resources {
		k := w.key(resourceID(r))
		_, read := w.seen[k]
		_, dup := inPage[k]
		if !read && !dup {
			inPage[k] = struct{}{}
			out = append(out, r)
		}
	}
	return out
}

// take makes a page read part of the walk.
func (w *walk) take(p walkPage) {
	for _, r := range p.fresh {
		w.seen[w.key(resourceID(r))] = struct{}{}
	}
	if w.first < 0 {
		w.first = p.total
	}
	w.next, w.last = p.start+p.n, p.total
}

// all reads the whole listing and calls fn with every resource once.
func (w *walk) all(ctx context.Context, c *Client, fn func(map[string]any) error) error {
	for {
		p, err := w.read(ctx, c)
		if err != nil {
			return err
		}
		w.take(p)
		for _, r := range p.fresh {
			if err := fn(r); err != nil {
				return err
			}
		}
		if p.end {
			return nil
		}
	}
}

func (w *walk) list(ctx context.Context, c *Client, start int) (listResponse, error) {
	q := url.Values{}
	for k, v := range w.q {
		q[k] = v
	}
	q.Set("startIndex", strconv.Itoa(start))
	return c.list(ctx, w.t, q)
}

func (w *walk) op() string { return http.MethodGet + " " + w.ep }
