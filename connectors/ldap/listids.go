package ldap

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
)

// ListIDs calls fn with the ID of every live object of type t: a paged
// search that reads nothing but the ID attribute, on its own connection.
// The engine compares the IDs with its object connections to find
// deletions, so the listing is complete or it is an error. Entries without
// an ID are left out (they cannot be linked to anything).
func (d *Directory) ListIDs(ctx context.Context, t connectors.ObjectType, fn func(id string) error) error {
	filter, err := d.typeFilter(t)
	if err != nil {
		return err
	}
	conn, err := d.c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, base := range d.cfg.BaseDNs {
		p := newPager(conn, base, filter, []string{d.cfg.IDAttribute}, d.cfg.PageSize)
		for !p.done {
			entries, err := p.next(ctx)
			if err != nil {
				return ctxOr(ctx, classify("LDAP search "+base, err))
			}
			for _, e := range entries {
				id, err := d.id.of(e)
				if err != nil {
					continue
				}
				if err := fn(id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
