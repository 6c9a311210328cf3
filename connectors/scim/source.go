package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// ChangeDetection says whether reads can be deltas. With "auto" the first
// call asks the service once for users filtered on meta.lastModified: a
// ListResponse means Delta; a refusal (400 and the like) means Snapshot. A
// probe that gets no answer is not remembered and means Snapshot for now.
func (c *Client) ChangeDetection() connectors.ChangeDetection {
	switch c.cfg.ChangeDetection {
	case ChangeDetectionDelta:
		return connectors.Delta
	case ChangeDetectionSnapshot:
		return connectors.Snapshot
	}
	c.detectMu.Lock()
	defer c.detectMu.Unlock()
	if c.detected != nil {
		return *c.detected
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.cfg.Timeout))
	defer cancel()
	_, err := c.list(ctx, connectors.User, url.Values{"filter": {deltaFilter("1970-01-01T00:00:00Z")}, "count": {"1"}})
	var d connectors.ChangeDetection
	switch connectors.KindOf(err) {
	case "":
		d = connectors.Delta
	case connectors.KindInvalidRequest, connectors.KindServiceIncompatible, connectors.KindNotFound:
		d = connectors.Snapshot
	default:
		c.log.WithError(err).Warn("cannot tell whether the SCIM service filters on meta.lastModified; reading everything")
		return connectors.Snapshot
	}
	c.detected = &d
	return d
}

// deltaFilter selects what changed at or after the watermark. It is "ge",
// not "gt": services commonly keep whole seconds, so "gt" would miss a
// change made later in the watermark's second. Objects changed in that
// second come again; the engine compares content.
func deltaFilter(since string) string {
	lit, _ := literal(since)
	return "meta.lastModified ge " + lit
}

// cursor is where a read resumes: the next startIndex, the totalResults
// the read began with, and the highest meta.lastModified seen so far.
type cursor struct {
	next  int
	total int
	mark  string
}

func (k cursor) String() string {
	return strconv.Itoa(k.next) + "|" + strconv.Itoa(k.total) + "|" + k.mark
}

func parseCursor(s string) (cursor, error) {
	parts := strings.SplitN(s, "|", 3)
	if len(parts) != 3 {
		return cursor{}, fmt.Errorf("cursor %q is not one of this connector's", s)
	}
	next, err1 := strconv.Atoi(parts[0])
	total, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || next < 1 {
		return cursor{}, fmt.Errorf("cursor %q is not one of this connector's", s)
	}
	return cursor{next: next, total: total, mark: parts[2]}, nil
}

// Read lists one page of users or groups, by startIndex and count. With a
// watermark (Since) and a service that supports it, only objects modified
// since are listed. The last page's Watermark is the highest
// meta.lastModified seen.
func (c *Client) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	ep, err := endpoint(req.Type)
	if err != nil {
		return connectors.Page{}, err
	}
	cur := cursor{next: 1, mark: req.Since}
	if req.Cursor != "" {
		if cur, err = parseCursor(req.Cursor); err != nil {
			return connectors.Page{}, invalid(http.MethodGet+" "+ep, err.Error())
		}
	}
	size := req.PageSize
	if size <= 0 {
		size = c.cfg.PageSize
	}
	q := url.Values{"count": {strconv.Itoa(size)}}
	if req.Since != "" && c.ChangeDetection() == connectors.Delta {
		q.Set("filter", deltaFilter(req.Since))
	}
	lr, start, err := c.page(ctx, req.Type, q, cur.next, cur.total)
	if err != nil {
		return connectors.Page{}, err
	}

	page := connectors.Page{Objects: make([]connectors.Object, 0, len(lr.Resources))}
	for _, r := range lr.Resources {
		page.Objects = append(page.Objects, sourceObject(req.Type, ep, r))
		cur.mark = later(cur.mark, lastModified(r))
	}
	total, next := *lr.TotalResults, start+len(lr.Resources)
	if len(lr.Resources) == 0 || next > total {
		page.Watermark = cur.mark
		return page, nil
	}
	page.Cursor = cursor{next: next, total: total, mark: cur.mark}.String()
	return page, nil
}

// page reads the list page at startIndex start. SCIM paging is by position:
// when objects listed earlier were deleted meanwhile (the total shrank),
// the rest moved towards the start, so the page is read again that many
// positions earlier. Some objects then come twice; none is skipped, which
// would read as a deletion. It returns the startIndex actually read.
func (c *Client) page(ctx context.Context, t connectors.ObjectType, q url.Values, start, total int) (listResponse, int, error) {
	q.Set("startIndex", strconv.Itoa(start))
	lr, err := c.list(ctx, t, q)
	if err != nil {
		return listResponse{}, 0, err
	}
	if now := *lr.TotalResults; total > 0 && now < total && start > 1 {
		start = max(1, start-(total-now))
		q.Set("startIndex", strconv.Itoa(start))
		if lr, err = c.list(ctx, t, q); err != nil {
			return listResponse{}, 0, err
		}
	}
	return lr, start, nil
}

// ListIDs calls fn with the id of every user or group, once each.
func (c *Client) ListIDs(ctx context.Context, t connectors.ObjectType, fn func(id string) error) error {
	q := url.Values{"count": {strconv.Itoa(c.cfg.PageSize)}, "attributes": {"id"}}
	seen := map[string]struct{}{}
	for start, total := 1, 0; ; {
		lr, at, err := c.page(ctx, t, q, start, total)
		if err != nil {
			return err
		}
		for _, r := range lr.Resources {
			id := resourceID(r)
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if err := fn(id); err != nil {
				return err
			}
		}
		total = *lr.TotalResults
		start = at + len(lr.Resources)
		if len(lr.Resources) == 0 || start > total {
			return nil
		}
	}
}

// Write writes values back to an object (a generated e-mail address). It
// reads the object first: whether a value exists decides the operation.
func (c *Client) Write(ctx context.Context, t connectors.ObjectType, id string, values connectors.Attributes) error {
	current, err := c.Get(ctx, t, id)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var changes []connectors.Change
	for _, k := range keys {
		old, _ := lookup(current.Attributes, k)
		if fmt.Sprint(old) == fmt.Sprint(values[k]) && (old == nil) == (values[k] == nil) {
			continue
		}
		changes = append(changes, connectors.Change{Attribute: k, Old: old, New: values[k]})
	}
	return c.Update(ctx, t, id, changes)
}

func sourceObject(t connectors.ObjectType, ep string, r map[string]any) connectors.Object {
	id := resourceID(r)
	obj := connectors.Object{ID: id, Locator: ep + "/" + id, Attributes: flatten(r)}
	if t == connectors.User {
		obj.Disabled = !isActive(r)
	} else {
		obj.Members = members(r)
	}
	return obj
}

func lastModified(r map[string]any) string {
	meta, _ := r["meta"].(map[string]any)
	s, _ := meta["lastModified"].(string)
	return s
}

// later returns the later of two RFC 3339 times, keeping a unparsable b out.
func later(a, b string) string {
	tb, err := time.Parse(time.RFC3339Nano, b)
	if err != nil {
		return a
	}
	ta, err := time.Parse(time.RFC3339Nano, a)
	if err != nil || tb.After(ta) {
		return b
	}
	return a
}
