package ldap

import (
	"context"
	"sort"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// search runs a search on the shared connection; sizeLimit 0 means none.
func (c *client) search(ctx context.Context, base string, scope int, filter string, attrs []string, sizeLimit int) ([]*goldap.Entry, error) {
	var entries []*goldap.Entry
	err := c.do(ctx, "LDAP search "+base, func(conn *goldap.Conn) error {
		res, err := conn.Search(goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases,
			sizeLimit, 0, false, filter, attrs, nil))
		if err != nil {
			return err
		}
		entries = res.Entries
		return nil
	})
	return entries, err
}

// findEntry returns the entry under bases that matches filter and has the
// ID, with attrs, or a NotFound error. An ID that more than one entry has
// (a configured ID attribute that is not unique) is a Conflict: writing to
// either would be a guess.
func (c *client) findEntry(ctx context.Context, bases []string, filter string, codec idCodec, id string, attrs []string) (*goldap.Entry, error) {
	idFilter, err := codec.filter(id)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindNotFound, Op: "LDAP search", Detail: err.Error()}
	}
	for _, base := range bases {
		entries, err := c.search(ctx, base, goldap.ScopeWholeSubtree, "(&"+filter+idFilter+")", attrs, 2)
		if len(entries) > 1 || resultCode(err) == goldap.LDAPResultSizeLimitExceeded {
			return nil, &connectors.Error{Kind: connectors.KindConflict, Op: "LDAP search " + base, Detail: "more than one entry has " + idFilter}
		}
		if err != nil {
			return nil, err
		}
		if len(entries) > 0 {
			return entries[0], nil
		}
	}
	return nil, &connectors.Error{Kind: connectors.KindNotFound, Op: "LDAP search", Detail: "no entry with " + idFilter}
}

// findDN is findEntry for the DN alone ("1.1" asks for no attributes).
func (c *client) findDN(ctx context.Context, bases []string, filter string, codec idCodec, id string) (string, error) {
	e, err := c.findEntry(ctx, bases, filter, codec, id, []string{"1.1"})
	if err != nil {
		return "", err
	}
	return e.DN, nil
}

// replace replaces each attribute of the entry with its new values (none
// deletes it) in one modify, in name order so requests are reproducible.
func (c *client) replace(ctx context.Context, dn string, values connectors.Attributes) error {
	op := "LDAP modify " + dn
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	req := goldap.NewModifyRequest(dn, nil)
	for _, name := range names {
		vs, err := encodeAttr(name, values[name])
		if err != nil {
			return invalid(op, "%s: %v", name, err)
		}
		req.Replace(name, vs)
	}
	return c.do(ctx, op, func(conn *goldap.Conn) error { return conn.Modify(req) })
}
