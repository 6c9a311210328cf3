package ldap

import (
	"context"

	"github.com/openprovisioning/provisioner/connectors"
)

// Write stores values produced by a target (a generated e-mail address or
// username) on the source entry with that ID: one modify that replaces each
// attribute, and deletes it when the value is nil or empty.
func (d *Directory) Write(ctx context.Context, t connectors.ObjectType, id string, values connectors.Attributes) error {
	if len(values) == 0 {
		return nil
	}
	filter, err := d.typeFilter(t)
	if err != nil {
		return err
	}
	dn, err := d.c.findDN(ctx, d.cfg.BaseDNs, filter, d.id, id)
	if err != nil {
		return err
	}
	return d.c.replace(ctx, dn, values)
}
