package ldap

import (
	"context"

	goldap "github.com/go-ldap/ldap/v3"
)

// pager walks one search with the Simple Paged Results control (RFC 2696),
// one server page per call, so a read never holds more than a page.
type pager struct {
	conn   *goldap.Conn
	req    *goldap.SearchRequest
	paging *goldap.ControlPaging
	done   bool
}

func newPager(conn *goldap.Conn, base, filter string, attrs []string, size int, controls ...goldap.Control) *pager {
	paging := goldap.NewControlPaging(uint32(size))
	req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, filter, attrs, append([]goldap.Control{paging}, controls...))
	return &pager{conn: conn, req: req, paging: paging}
}

// next returns the next page's entries; done is set after the last page.
// Referrals (AD's continuation references) are ignored. Cancelling ctx
// closes the connection: go-ldap requests take no context.
func (p *pager) next(ctx context.Context) ([]*goldap.Entry, error) {
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	res, err := p.conn.Search(p.req)
	stop()
	if err != nil {
		return nil, err
	}
	cookie := []byte(nil)
	if c, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging); ok {
		cookie = c.Cookie
	}
	if len(cookie) == 0 {
		p.done = true
	}
	p.paging.SetCookie(cookie)
	return res.Entries, nil
}
