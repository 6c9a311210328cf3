package scim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
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

// clockSkew is how far the service's clock may lag ours. A read's
// watermark is capped at its start less clockSkew, as the LDAP source's
// is: taking the highest meta.lastModified seen would lose a change made
// during a long read to a resource the read had passed, whenever one read
// later changed after it.
const clockSkew = 5 * time.Minute

// cursor is where a read stands. It travels through heartbeats, so it
// holds what must outlive the process; the read's walk (what it read, to
// drop what comes twice and count at the end) stays in the Client that
// began it, under Session.
type cursor struct {
	Session string `json:"s"`
	// Page counts the pages returned: only a session's latest cursor
	// continues its walk.
	Page int `json:"p"`
	// Mark is the highest meta.lastModified seen (the watermark read
	// from, to begin with); Limit caps the next watermark.
	Mark  string `json:"m,omitempty"`
	Limit string `json:"l,omitempty"`
}

func (k cursor) String() string {
	b, _ := json.Marshal(k) // a struct of strings and an int always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor decodes a cursor. One of the earlier form, position|total|mark,
// decodes without a session: its read lists again from the start.
func parseCursor(s string) (cursor, error) {
	if parts := strings.SplitN(s, "|", 3); len(parts) == 3 {
		if _, err := strconv.Atoi(parts[0]); err == nil {
			return cursor{Mark: parts[2]}, nil
		}
	}
	var k cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil || k.Session == "" || k.Page < 1 {
		return cursor{}, fmt.Errorf("cursor %q is not one of this connector's", s)
	}
	return k, nil
}

// Read lists one page of users or groups, by startIndex and count. With a
// watermark (Since) and a service that supports it, only objects modified
// since are listed. The listing is read until a page comes back empty and
// checked (see walk): a service that ignores startIndex or loses objects
// between pages fails the read, which then never ends in deletions. A
// group listed without members is read in full. The last page's Watermark
// is the highest meta.lastModified seen, capped at the read's start less
// clockSkew.
//
// A cursor that is not the latest of a read this Client holds (another
// process, a retried page) lists again from the start: objects already
// returned come again, which is harmless; skipping some would not be.
func (c *Client) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	ep, err := endpoint(req.Type)
	if err != nil {
		return connectors.Page{}, err
	}
	cur := cursor{Mark: req.Since, Limit: c.now().Add(-clockSkew).UTC().Format(time.RFC3339)}
	if req.Cursor != "" {
		if cur, err = parseCursor(req.Cursor); err != nil {
			return connectors.Page{}, invalid(http.MethodGet+" "+ep, err.Error())
		}
	}
	size := req.PageSize
	if size <= 0 {
		size = c.cfg.PageSize
	}
	w := c.reads.take(cur)
	held := w != nil
	if !held {
		if req.Cursor != "" {
			c.log.WithField("objectType", req.Type).Info("resuming a SCIM read this process does not hold: listing again from the start")
		}
		q := url.Values{"count": {strconv.Itoa(size)}}
		if req.Since != "" && c.ChangeDetection() == connectors.Delta {
			q.Set("filter", deltaFilter(req.Since))
		}
		if w, err = newWalk(req.Type, q); err != nil {
			return connectors.Page{}, err
		}
		cur.Session, cur.Page = rand.Text(), 0
	}

	var page connectors.Page
	for probed := false; ; probed = true {
		p, err := w.read(ctx, c)
		if err == nil && req.Type == connectors.Group {
			p.fresh, err = c.withMembers(ctx, p.fresh)
		}
		if err != nil && len(page.Objects) > 0 {
			break // the next call asks again
		}
		if err != nil {
			if held && w.refused == nil {
				c.reads.put(cur, w) // a retry resumes
			}
			return connectors.Page{}, err
		}
		w.take(p)
		for _, r := range p.fresh {
			page.Objects = append(page.Objects, sourceObject(req.Type, ep, r))
			cur.Mark = later(cur.Mark, lastModified(r))
		}
		if p.end {
			page.Watermark = later(req.Since, capped(cur.Mark, cur.Limit))
			return page, nil
		}
		// A page that reaches the end the service counts is followed at
		// once by the page that confirms it, once: a service that counts
		// only its page would otherwise have the whole listing read here.
		if w.next <= p.total || probed {
			break
		}
	}
	cur.Page++
	c.reads.put(cur, w)
	page.Cursor = cur.String()
	return page, nil
}

// withMembers reads in full the groups listed without members: services
// leave them out of lists, and such a group is not an empty one. A group
// gone meanwhile is left out.
func (c *Client) withMembers(ctx context.Context, groups []map[string]any) ([]map[string]any, error) {
	full := make([]map[string]any, len(groups))
	errs := make([]error, len(groups))
	slots := make(chan struct{}, c.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	for i, g := range groups {
		if hasMembers(g) {
			full[i] = g
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			full[i], errs[i] = c.resource(ctx, connectors.Group, resourceID(g))
		})
	}
	wg.Wait()
	out := full[:0]
	for i, g := range full {
		switch {
		case connectors.KindOf(errs[i]) == connectors.KindNotFound:
		case errs[i] != nil:
			return nil, errs[i]
		default:
			out = append(out, g)
		}
	}
	return out, nil
}

func hasMembers(group map[string]any) bool {
	for k := range group {
		if strings.EqualFold(k, "members") {
			return true
		}
	}
	return false
}

// resource reads one user or group as the service holds it.
func (c *Client) resource(ctx context.Context, t connectors.ObjectType, id string) (map[string]any, error) {
	path, err := resourcePath(t, id)
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := c.call(ctx, http.MethodGet, path, nil, nil, &res); err != nil {
		return nil, err
	}
	if resourceID(res) == "" {
		return nil, c.incompatible(http.MethodGet+" "+path, http.StatusOK, "the resource has no id")
	}
	return res, nil
}

// ListIDs calls fn with the id of every user or group, once each. The
// listing is checked as Read's is: the engine deletes what it does not
// list.
func (c *Client) ListIDs(ctx context.Context, t connectors.ObjectType, fn func(id string) error) error {
	w, err := newWalk(t, url.Values{"count": {strconv.Itoa(c.cfg.PageSize)}, "attributes": {"id"}})
	if err != nil {
		return err
	}
	return w.all(ctx, c, func(r map[string]any) error { return fn(resourceID(r)) })
}

// reads holds the walks of unfinished Reads, by session.
type reads struct {
	mu sync.Mutex
	m  map[string]readSession
}

type readSession struct {
	w    *walk
	page int
	used time.Time
}

// maxReads bounds the walks kept: one abandoned (its job stopped, its
// worker's activity moved elsewhere) is dropped once newer ones need room.
const maxReads = 8

// take removes and returns the walk a cursor continues, or nil.
func (r *reads) take(k cursor) *walk {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[k.Session]
	if !ok {
		return nil
	}
	delete(r.m, k.Session)
	if s.page != k.Page {
		return nil
	}
	return s.w
}

// put keeps a walk for the cursor's next Read.
func (r *reads) put(k cursor, w *walk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]readSession{}
	}
	for len(r.m) >= maxReads {
		var oldest string
		for id, s := range r.m {
			if oldest == "" || s.used.Before(r.m[oldest].used) {
				oldest = id
			}
		}
		delete(r.m, oldest)
	}
	r.m[k.Session] = readSession{w: w, page: k.Page, used: time.Now()}
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

// capped returns the RFC 3339 time t, or limit when that is earlier; a t
// that does not parse stays as it is.
func capped(t, limit string) string {
	tt, err1 := time.Parse(time.RFC3339Nano, t)
	tl, err2 := time.Parse(time.RFC3339Nano, limit)
	if err1 == nil && err2 == nil && tl.Before(tt) {
		return limit
	}
	return t
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
