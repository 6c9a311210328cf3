package ldap

import (
	"context"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// Active Directory numbers changes per domain controller: uSNChanged is the
// local update sequence number of the DC that served the read, meaningless
// on another DC, and on the same DC restored from a backup (which AD gives
// a new invocationId). So a uSNChanged watermark names the DC database it
// counts in, "invocationId:usn", and a read served by any other starts
// over with a full read. Directories that publish no invocationId (an
// imitation on OpenLDAP) keep plain numbers.

// dcState is what a read learns from the DC serving it before reading.
type dcState struct {
	// invocationID names the DC's database; "" when not published.
	invocationID string
	// highestUSN is the rootDSE's highestCommittedUSN plus one, or "".
	highestUSN string
	// deletedObjects is the domain's Deleted Objects container, "" when
	// the directory has no default naming context.
	deletedObjects string
}

// dcStateOf reads the rootDSE, and the invocationId of the DC's NTDS
// Settings object (dsServiceName), on the read's own connection: a paged
// read through a load balancer must learn about the DC its pages come from.
func dcStateOf(ctx context.Context, conn *goldap.Conn) (dcState, error) {
	root, err := searchOn(ctx, conn, "", "(objectClass=*)", []string{"highestCommittedUSN", "dsServiceName", "defaultNamingContext"}, nil)
	if err != nil || root == nil {
		return dcState{}, err
	}
	var s dcState
	if n, err := parseDelta(DeltaUSNChanged, root.GetAttributeValue("highestCommittedUSN")); err == nil {
		s.highestUSN = n.above().String()
	}
	if nc := root.GetAttributeValue("defaultNamingContext"); nc != "" {
		s.deletedObjects = "CN=Deleted Objects," + nc
	}
	if service := root.GetAttributeValue("dsServiceName"); service != "" {
		ntds, err := searchOn(ctx, conn, service, "(objectClass=*)", []string{"invocationId"}, nil)
		if err != nil {
			return dcState{}, err
		}
		if ntds != nil {
			if raw := ntds.GetRawAttributeValue("invocationId"); len(raw) == 16 {
				s.invocationID, _ = formatGUID(raw)
			}
		}
	}
	return s, nil
}

// searchOn reads one entry with a base search on conn; nil when the
// directory has none there.
func searchOn(ctx context.Context, conn *goldap.Conn, dn, filter string, attrs []string, controls []goldap.Control) (*goldap.Entry, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	res, err := conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls))
	stop()
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, ctxOr(ctx, classify("LDAP search "+dn, err))
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// splitUSNWatermark separates a uSNChanged watermark's DC from its USN.
func splitUSNWatermark(w string) (dc, usn string) {
	if i := strings.LastIndexByte(w, ':'); i >= 0 {
		return w[:i], w[i+1:]
	}
	return "", w
}

// start fixes what a new read needs before its first entry: the cap of its
// watermark and, for uSNChanged, the DC it reads from, whether the
// watermark since counts on that DC (if not, the read is full), and
// whether deletions are read from the Deleted Objects container.
func (d *Directory) start(ctx context.Context, conn *goldap.Conn, cur *cursor, since string) error {
	switch d.cfg.Delta {
	case DeltaModifyTimestamp, DeltaEntryCSN:
		cur.Limit = timeLimit(d.cfg.Delta, time.Now())
		return nil
	case DeltaUSNChanged:
	default:
		return nil
	}
	s, err := dcStateOf(ctx, conn)
	if err != nil {
		return err
	}
	cur.Limit, cur.DC = s.highestUSN, s.invocationID
	if since == "" {
		return nil
	}
	dc, usn := splitUSNWatermark(since)
	switch {
	case dc != s.invocationID:
		d.c.log.WithFields(map[string]any{"watermarkDC": dc, "dc": s.invocationID}).
			Info("the watermark counts changes on another domain controller (or a restored one); reading everything")
		cur.Full = true
	case behind(usn, s.highestUSN):
		// The DC has not reached the watermark: its database went back
		// without a new invocationId; only a full read is safe.
		d.c.log.WithField("highestCommittedUSN", s.highestUSN).Info("the domain controller is behind the watermark; reading everything")
		cur.Full = true
	case s.invocationID != "" && s.deletedObjects != "":
		cur.Deleted = s.deletedObjects
	}
	return nil
}

// behind reports whether a DC whose next USN is next has not reached the
// watermark usn.
func behind(usn, next string) bool {
	w, errW := parseDelta(DeltaUSNChanged, usn)
	n, errN := parseDelta(DeltaUSNChanged, next)
	return errW == nil && errN == nil && n.less(w)
}

// sameDC checks that a connection dialled to resume a read reaches the DC
// the read started on; when it does not, the read starts over on this one.
func (d *Directory) sameDC(ctx context.Context, lr *liveRead, cur *cursor, since string) error {
	if d.cfg.Delta != DeltaUSNChanged || cur.DC == "" {
		return nil
	}
	s, err := dcStateOf(ctx, lr.conn)
	if err != nil || s.invocationID == cur.DC {
		return err
	}
	d.c.log.Info("a resumed read reached another domain controller; reading again from the start")
	*cur = cursor{Session: cur.Session}
	lr.skipping = false
	return d.start(ctx, lr.conn, cur, since)
}

// since is the watermark value a read filters on: none in a full read.
func (d *Directory) since(req connectors.ReadRequest, cur cursor) string {
	if cur.Full || d.cfg.Delta == DeltaNone {
		return ""
	}
	if d.cfg.Delta == DeltaUSNChanged {
		_, usn := splitUSNWatermark(req.Since)
		return usn
	}
	return req.Since
}

// watermark is the read's next watermark, naming its DC for uSNChanged.
func (d *Directory) watermark(since string, cur cursor) string {
	w := nextWatermark(d.cfg.Delta, since, cur.Max, cur.Limit)
	if d.cfg.Delta == DeltaUSNChanged && cur.DC != "" && w != "" {
		return cur.DC + ":" + w
	}
	return w
}

// tombstoneFilter matches the deleted objects of a type: a tombstone keeps
// its objectClass, objectGUID and uSNChanged, not objectCategory nor most
// attributes a configured filter may test. Computers are users too.
func tombstoneFilter(t connectors.ObjectType, since string) string {
	class := "(objectClass=user)(!(objectClass=computer))"
	if t == connectors.Group {
		class = "(objectClass=group)"
	}
	return "(&(isDeleted=TRUE)" + class + "(" + DeltaUSNChanged + ">=" + goldap.EscapeFilter(since) + "))"
}

// tombstoneAttrs are what a deletion needs.
var tombstoneAttrs = []string{"objectGUID", "uSNChanged", "lastKnownParent", "isDeleted"}

// tombstone converts a deleted entry into a deletion, or reports false for
// one that lived outside the base DNs. A tombstone whose last parent was
// deleted too cannot be placed, and is passed on: the engine ignores IDs
// it does not know.
func (d *Directory) tombstone(e *goldap.Entry) (connectors.Object, bool) {
	id, err := d.id.of(e)
	if err != nil {
		return connectors.Object{}, false
	}
	parent := e.GetAttributeValue("lastKnownParent")
	if p, err := goldap.ParseDN(parent); err == nil && !strings.Contains(parent, "\\0ADEL:") && !strings.Contains(parent, "\nDEL:") {
		in := false
		for _, b := range d.cfg.BaseDNs {
			if bd, err := goldap.ParseDN(b); err == nil && (bd.EqualFold(p) || bd.AncestorOfFold(p)) {
				in = true
			}
		}
		if !in {
			return connectors.Object{}, false
		}
	}
	return connectors.Object{ID: id, Locator: e.DN, Deleted: true}, true
}
