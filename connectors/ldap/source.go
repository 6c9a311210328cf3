// Package ldap connects the provisioning engine to LDAP directories
// (OpenLDAP, Active Directory): a Directory is a delta source with deletion
// detection (on AD also from the tombstones in Deleted Objects) and
// writeback, a Target is a provisioning target (the cloud-HR architecture).
// Both speak LDAPv3 through go-ldap, with certificate verification on
// unless a configuration turns it off.
package ldap

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

// Directory is an LDAP source. It is safe for concurrent use; reads of users
// and groups may run at once, each on its own connection.
type Directory struct {
	cfg   Config
	c     *client
	id    idCodec
	multi map[string]bool // folded names of Config.MultiValued
	refs  map[string]bool // folded names of Config.ReferenceAttributes

	mu     sync.Mutex
	reads  map[string]*liveRead // by cursor session
	closed bool
}

var (
	_ connectors.Source           = (*Directory)(nil)
	_ connectors.DeletionDetector = (*Directory)(nil)
	_ connectors.Writer           = (*Directory)(nil)
)

// Open checks the configuration, resolves the bind password and binds once,
// so a wrong address or password fails here rather than in the first read.
func (cfg Config) Open(ctx context.Context, log *logrus.Entry) (*Directory, error) {
	if errs := cfg.problems(false); len(errs) > 0 {
		return nil, invalid("LDAP configuration", "%v", errors.Join(errs...))
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	c, err := newClient(cfg.Connection, log.WithField("connector", "ldap-source"))
	if err != nil {
		return nil, err
	}
	d := &Directory{cfg: cfg, c: c, id: idCodec{cfg.IDAttribute}, multi: folded(cfg.MultiValued), refs: folded(cfg.ReferenceAttributes), reads: map[string]*liveRead{}}
	if err := c.do(ctx, "LDAP bind", func(*goldap.Conn) error { return nil }); err != nil {
		return nil, err
	}
	return d, nil
}

// ChangeDetection is Delta unless the configuration turns deltas off.
func (d *Directory) ChangeDetection() connectors.ChangeDetection {
	if d.cfg.Delta == DeltaNone {
		return connectors.Snapshot
	}
	return connectors.Delta
}

// Close ends every connection, abandoning unfinished reads: their cursors
// stay usable and resume by searching again.
func (d *Directory) Close() error {
	d.mu.Lock()
	d.closed = true
	for s, lr := range d.reads {
		lr.close()
		delete(d.reads, s)
	}
	d.mu.Unlock()
	d.c.close()
	return nil
}

// query is what one read searches for.
type query struct {
	filter string
	attrs  []string
	names  map[string]string // folded attribute name → the spelling asked for
	group  bool
}

// query is the search for objects of req.Type changed since the watermark
// value since ("" for all).
func (d *Directory) query(req connectors.ReadRequest, since string) (query, error) {
	filter, err := d.typeFilter(req.Type)
	if err != nil {
		return query{}, err
	}
	if since != "" {
		v, err := parseDelta(d.cfg.Delta, since)
		if err != nil {
			return query{}, invalid("LDAP read", "since: %v", err)
		}
		filter = "(&" + filter + "(" + d.cfg.Delta + ">=" + goldap.EscapeFilter(v.String()) + "))"
	}
	q := query{filter: filter, names: map[string]string{}, group: req.Type == connectors.Group}
	want := req.Attributes
	if len(want) == 0 {
		want = d.cfg.Attributes
	}
	if len(want) == 0 {
		want = []string{"*"}
	}
	// The ID, delta, disabled and member attributes are always read; they
	// are operational or may not be among the mapped ones.
	extra := []string{d.cfg.IDAttribute, d.cfg.DisabledAttribute}
	if d.cfg.Delta != DeltaNone {
		extra = append(extra, d.cfg.Delta)
	}
	if q.group {
		extra = append(extra, d.memberRange(0))
	}
	for _, a := range append(want, extra...) {
		if a == "" || q.names[strings.ToLower(a)] != "" {
			continue
		}
		q.names[strings.ToLower(a)] = a
		q.attrs = append(q.attrs, a)
	}
	return q, nil
}

// memberRange names the member attribute's range of values from low, or
// the whole attribute when the configuration reads it at once.
func (d *Directory) memberRange(low int) string {
	if d.cfg.MemberRangeSize <= 0 {
		return d.cfg.MemberAttribute
	}
	return fmt.Sprintf("%s;range=%d-%d", d.cfg.MemberAttribute, low, low+d.cfg.MemberRangeSize-1)
}

func (d *Directory) typeFilter(t connectors.ObjectType) (string, error) {
	switch t {
	case connectors.User:
		return d.cfg.UserFilter, nil
	case connectors.Group:
		return d.cfg.GroupFilter, nil
	}
	return "", invalid("LDAP", "object type %q is neither User nor Group", t)
}

// Read returns the next page: whole server pages until req.PageSize objects
// (Config.PageSize when unset) are collected or every base DN is read.
//
// Resuming: the connection and paging cookie of an unfinished read stay in
// this Directory, keyed by the cursor's session, and the next Read with the
// latest cursor continues on them. Any other cursor (an older one retried, a
// restarted worker, another process, an expired cookie) searches its base
// DN again and skips entries up to the cursor's anchor, the DN of the last
// entry returned. If the anchor is not among the first Count entries the
// directory changed under the read, and the base is read again from its
// start: objects sent twice are harmless, skipped ones would not be.
func (d *Directory) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	cur, lr, err := d.begin(ctx, req)
	if err != nil {
		return connectors.Page{}, err
	}
	since := d.since(req, cur)
	q, err := d.query(req, since)
	if err != nil {
		lr.close()
		return connectors.Page{}, err
	}
	want := req.PageSize
	if want <= 0 {
		want = d.cfg.PageSize
	}
	var objs []connectors.Object
	for cur.Base < d.bases(cur) && len(objs) < want {
		if lr == nil {
			conn, err := d.c.dial(ctx)
			if err != nil {
				return connectors.Page{}, err
			}
			lr = &liveRead{conn: conn, ids: map[string]string{}, skipping: cur.Count > 0}
			if err := d.sameDC(ctx, lr, &cur, req.Since); err != nil {
				lr.close()
				return connectors.Page{}, err
			}
			if since != d.since(req, cur) {
				since = d.since(req, cur)
				if q, err = d.query(req, since); err != nil {
					lr.close()
					return connectors.Page{}, err
				}
			}
		}
		deletions := cur.Base == len(d.cfg.BaseDNs)
		base := cur.Deleted
		if !deletions {
			base = d.cfg.BaseDNs[cur.Base]
		}
		if lr.pager == nil {
			if deletions {
				lr.pager = newPager(lr.conn, base, tombstoneFilter(req.Type, since), tombstoneAttrs, d.cfg.PageSize, goldap.NewControlMicrosoftShowDeleted())
			} else {
				lr.pager = newPager(lr.conn, base, q.filter, q.attrs, d.cfg.PageSize)
			}
		}
		entries, err := lr.pager.next(ctx)
		if deletions && (goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) || goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights)) {
			// AD hides Deleted Objects from accounts without the right to
			// list it; the engine still finds deletions by absence.
			d.c.log.WithError(err).Warn("the bind account cannot read the Deleted Objects container; deletions are found by absence alone")
			lr.pager = nil
			cur.Base, cur.Count, cur.Anchor = cur.Base+1, 0, ""
			continue
		}
		if err != nil {
			lr.close()
			if lr.kept && ctx.Err() == nil {
				// The directory dropped the idle connection or forgot the
				// cookie: search again from the cursor, once.
				d.c.log.WithError(err).Debug("LDAP paged search lost; searching again from the cursor")
				lr = nil
				continue
			}
			return connectors.Page{}, ctxOr(ctx, classify("LDAP search "+base, err))
		}
		entries, restart := lr.skipTo(entries, &cur)
		if restart || (lr.skipping && lr.pager.done) {
			d.c.log.WithField("base", base).Info("LDAP directory changed under a resumed read; reading the base again")
			lr.close()
			lr, cur.Count, cur.Anchor = nil, 0, ""
			continue
		}
		for _, e := range entries {
			if deletions {
				if o, ok := d.tombstone(e); ok {
					objs = append(objs, o)
				}
			} else {
				o, err := d.object(ctx, lr.ids, q, e)
				if err != nil {
					lr.close()
					return connectors.Page{}, err
				}
				objs = append(objs, o)
			}
			cur.Count, cur.Anchor = cur.Count+1, e.DN
			if d.cfg.Delta != DeltaNone {
				if v := e.GetEqualFoldAttributeValue(d.cfg.Delta); v != "" {
					cur.Max = higher(d.cfg.Delta, cur.Max, v)
				}
			}
		}
		if lr.pager.done {
			lr.pager = nil
			cur.Base, cur.Count, cur.Anchor = cur.Base+1, 0, ""
		}
	}
	page := connectors.Page{Objects: objs}
	if cur.Base >= d.bases(cur) {
		if lr != nil {
			lr.close()
		}
		if d.cfg.Delta != DeltaNone {
			page.Watermark = d.watermark(since, cur)
		}
		return page, nil
	}
	d.checkin(cur, lr)
	page.Cursor = cur.encode()
	return page, nil
}

// bases is how many searches the read makes: one per base DN, and one of
// the Deleted Objects container when it reads tombstones.
func (d *Directory) bases(cur cursor) int {
	if cur.Deleted != "" {
		return len(d.cfg.BaseDNs) + 1
	}
	return len(d.cfg.BaseDNs)
}

// begin decodes a cursor and takes its live connection when this process
// kept one, or starts a read: a new session on a new connection, and what
// start fixes before the first entry is read.
func (d *Directory) begin(ctx context.Context, req connectors.ReadRequest) (cursor, *liveRead, error) {
	if _, err := d.typeFilter(req.Type); err != nil {
		return cursor{}, nil, err
	}
	if req.Cursor != "" {
		cur, err := decodeCursor(req.Cursor)
		if err != nil || cur.Base > d.bases(cur) {
			return cursor{}, nil, invalid("LDAP read", "cursor: %v", errBadCursor)
		}
		return cur, d.checkout(cur), nil
	}
	cur := cursor{Session: rand.Text()}
	conn, err := d.c.dial(ctx)
	if err != nil {
		return cursor{}, nil, err
	}
	lr := &liveRead{conn: conn, ids: map[string]string{}}
	if err := d.start(ctx, conn, &cur, req.Since); err != nil {
		lr.close()
		return cursor{}, nil, err
	}
	return cur, lr, nil
}

func folded(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
