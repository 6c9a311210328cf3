package ldap

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Lister = (*Target)(nil)

// List calls fn with every entry of the type under its container, read as
// Find reads them: a paged search on its own connection. Entries without
// an ID are left out, as Find's callers could not link them either.
func (t *Target) List(ctx context.Context, typ connectors.ObjectType, fn func(connectors.TargetObject) error) error {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return err
	}
	conn, err := t.c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := newPager(conn, o.Container, o.classFilter(), t.attrs(), defaultPageSize)
	for !p.done {
		entries, err := p.next(ctx)
		if err != nil {
			return ctxOr(ctx, classify("LDAP search "+o.Container, err))
		}
		for _, e := range entries {
			obj := t.targetObject(o, e)
			if obj.ID == "" {
				continue
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}
