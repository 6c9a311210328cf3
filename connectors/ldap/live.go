package ldap

import (
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// maxLiveReads bounds the unfinished reads a Directory keeps connections
// for; the least recently used is closed first (its cursor still resumes,
// by searching again).
const maxLiveReads = 8

// liveRead is an unfinished read's connection and position.
type liveRead struct {
	conn  *goldap.Conn
	pager *pager // nil between base DNs
	// base and count are the cursor position the pager stands at.
	base, count int
	used        time.Time
	// ids caches DN (folded) → ID for the member and reference DNs the
	// read meets; "" for DNs that have no ID.
	ids map[string]string
	// kept is set when the connection was kept from an earlier page.
	kept bool
	// skipping is set while a resumed search looks for the cursor's anchor;
	// skipped counts the entries passed meanwhile.
	skipping bool
	skipped  int
}

func (lr *liveRead) close() {
	if lr != nil {
		lr.conn.Close()
	}
}

// checkout takes the read's live connection if it stands exactly where the
// cursor does; a stale one is closed.
func (d *Directory) checkout(cur cursor) *liveRead {
	d.mu.Lock()
	lr := d.reads[cur.Session]
	delete(d.reads, cur.Session)
	d.mu.Unlock()
	if lr != nil && (lr.base != cur.Base || lr.count != cur.Count || lr.conn.IsClosing()) {
		lr.close()
		return nil
	}
	if lr != nil {
		lr.kept = true
	}
	return lr
}

// checkin keeps the read's connection for the next page.
func (d *Directory) checkin(cur cursor, lr *liveRead) {
	if lr == nil {
		return
	}
	lr.base, lr.count, lr.used = cur.Base, cur.Count, time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		lr.close()
		return
	}
	d.reads[cur.Session] = lr
	for len(d.reads) > maxLiveReads {
		oldest := ""
		for s, r := range d.reads {
			if oldest == "" || r.used.Before(d.reads[oldest].used) {
				oldest = s
			}
		}
		d.reads[oldest].close()
		delete(d.reads, oldest)
	}
}

// skipTo drops the entries a resumed read returned before, those up to and
// including the cursor's anchor, and updates the cursor's count to the
// anchor's position. It reports restart when the anchor is not among the
// first cur.Count entries: entries were deleted or reordered, so positions
// cannot be trusted.
func (lr *liveRead) skipTo(entries []*goldap.Entry, cur *cursor) (rest []*goldap.Entry, restart bool) {
	if !lr.skipping {
		return entries, false
	}
	for i, e := range entries {
		lr.skipped++
		if strings.EqualFold(e.DN, cur.Anchor) {
			lr.skipping = false
			cur.Count = lr.skipped
			return entries[i+1:], false
		}
		if lr.skipped >= cur.Count {
			return nil, true
		}
	}
	return nil, false
}
