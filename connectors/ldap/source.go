// Package ldap connects the provisioning engine to LDAP directories
// (OpenLDAP, Active Directory): a Directory is a delta source with deletion
// detection and writeback, a Target is a provisioning target (the cloud-HR
// architecture). Both speak LDAPv3 through go-ldap, with certificate
// verification on unless a configuration turns it off.
package ldap

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"time"

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

func (d *Directory) query(req connectors.ReadRequest) (query, error) {
	filter, err := d.typeFilter(req.Type)
	if err != nil {
		return query{}, err
	}
	if req.Since != "" && d.cfg.Delta != DeltaNone {
		v, err := parseDelta(d.cfg.Delta, req.Since)
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
		extra = append(extra, d.cfg.MemberAttribute)
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
	q, err := d.query(req)
	if err != nil {
		return connectors.Page{}, err
	}
	cur, err := d.begin(ctx, req.Cursor)
	if err != nil {
		return connectors.Page{}, err
	}
	want := req.PageSize
	if want <= 0 {
		want = d.cfg.PageSize
	}
	lr := d.checkout(cur)
	var objs []connectors.Object
	for cur.Base < len(d.cfg.BaseDNs) && len(objs) < want {
		if lr == nil {
			conn, err := d.c.dial(ctx)
			if err != nil {
				return connectors.Page{}, err
			}
			lr = &liveRead{conn: conn, ids: map[string]string{}, skipping: cur.Count > 0}
		}
		base := d.cfg.BaseDNs[cur.Base]
		if lr.pager == nil {
			lr.pager = newPager(lr.conn, base, q.filter, q.attrs, d.cfg.PageSize)
		}
		entries, err := lr.pager.next(ctx)
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
			o, err := d.object(ctx, lr.ids, q, e)
			if err != nil {
				lr.close()
				return connectors.Page{}, err
			}
			objs = append(objs, o)
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
	if cur.Base >= len(d.cfg.BaseDNs) {
		if lr != nil {
			lr.close()
		}
		if d.cfg.Delta != DeltaNone {
			page.Watermark = nextWatermark(d.cfg.Delta, req.Since, cur.Max, cur.Limit)
		}
		return page, nil
	}
	d.checkin(cur, lr)
	page.Cursor = cur.encode()
	return page, nil
}

// begin decodes a cursor, or starts a read: a new session and the cap of
// its watermark, taken before the first entry is read.
func (d *Directory) begin(ctx context.Context, s string) (cursor, error) {
	if s != "" {
		cur, err := decodeCursor(s)
		if err != nil || cur.Base > len(d.cfg.BaseDNs) {
			return cursor{}, invalid("LDAP read", "cursor: %v", errBadCursor)
		}
		return cur, nil
	}
	cur := cursor{Session: rand.Text()}
	switch d.cfg.Delta {
	case DeltaModifyTimestamp, DeltaEntryCSN:
		cur.Limit = timeLimit(d.cfg.Delta, time.Now())
	case DeltaUSNChanged:
		usn, err := d.highestCommittedUSN(ctx)
		if err != nil {
			return cursor{}, err
		}
		cur.Limit = usn
	}
	return cur, nil
}

// highestCommittedUSN returns AD's rootDSE counter plus one, or "" when the
// directory does not publish it.
func (d *Directory) highestCommittedUSN(ctx context.Context) (string, error) {
	entries, err := d.c.search(ctx, "", goldap.ScopeBaseObject, "(objectClass=*)", []string{"highestCommittedUSN"}, 0)
	if err != nil || len(entries) != 1 {
		return "", err
	}
	n, err := parseDelta(DeltaUSNChanged, entries[0].GetAttributeValue("highestCommittedUSN"))
	if err != nil {
		return "", nil // not published: the watermark falls back to the highest value seen
	}
	return n.above().String(), nil
}

func folded(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
