package ldap

import (
	"context"
	"errors"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Getter = (*Directory)(nil)

// Get reads the user or group with that ID as Read returns it: the same
// attributes, member and reference DNs as IDs, the same Invalid for a
// malformed entry. Each base DN is searched in turn with the type's filter
// and the ID; the first entry found is returned, as Read lists it first.
// An ID that is not there (or, for objectGUID, is not a GUID) is NotFound.
func (d *Directory) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	q, err := d.query(connectors.ReadRequest{Type: t, Attributes: attributes}, "")
	if err != nil {
		return connectors.Object{}, err
	}
	idFilter, err := d.id.filter(id)
	if err != nil {
		return connectors.Object{}, &connectors.Error{Kind: connectors.KindNotFound, Op: "LDAP search", Detail: err.Error()}
	}
	for _, base := range d.cfg.BaseDNs {
		// No size limit: an ID attribute that is not unique (a configured
		// employeeNumber) would fail a limit of one instead of being found.
		entries, err := d.c.search(ctx, base, goldap.ScopeWholeSubtree, "(&"+q.filter+idFilter+")", q.attrs, 0)
		var ce *connectors.Error
		if errors.As(err, &ce) && ce.Status == goldap.LDAPResultNoSuchObject {
			// The base DN is missing, not the object: NotFound would tell
			// the caller that the source has no such object.
			return connectors.Object{}, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: ce.Op, Status: ce.Status, Detail: "base DN not found: " + ce.Detail}
		}
		if err != nil {
			return connectors.Object{}, err
		}
		if len(entries) > 0 {
			return d.object(ctx, map[string]string{}, q, entries[0])
		}
	}
	return connectors.Object{}, &connectors.Error{Kind: connectors.KindNotFound, Op: "LDAP search", Detail: "no " + string(t) + " entry with " + idFilter}
}
