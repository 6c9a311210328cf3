package ldap

import (
	"context"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// flipAttempts bounds the read-modify-writes of a disable flag that others
// keep changing between our read and our write.
const flipAttempts = 5

// isParent reports whether attr is the type's parent attribute.
func (o ObjectConfig) isParent(attr string) bool {
	return o.ParentAttribute != "" && strings.EqualFold(attr, o.ParentAttribute)
}

// active reads an entry's disable flag under DisableMask; an entry without
// the attribute, or with one that is not a number, counts as active.
func (o ObjectConfig) active(e *goldap.Entry) bool {
	n, err := strconv.ParseInt(e.GetEqualFoldAttributeValue(o.DisableAttribute), 10, 64)
	return err != nil || n&o.DisableMask == 0
}

// flipByID sets or clears the disable bits of the entry with the ID.
func (t *Target) flipByID(ctx context.Context, o ObjectConfig, id string, active bool) error {
	var err error
	for range flipAttempts {
		var e *goldap.Entry
		e, err = t.c.findEntry(ctx, []string{o.Container}, o.classFilter(), t.id, id, []string{o.DisableAttribute})
		if err != nil {
			return err
		}
		if err = t.flip(ctx, o, e.DN, e, active); resultCode(err) != goldap.LDAPResultNoSuchAttribute {
			return err
		}
	}
	return err
}

// flip sets or clears the disable bits of an entry read as e, keeping every
// other bit. The modify deletes the value read and adds the new one, so
// it fails (noSuchAttribute) instead of undoing a change made since the
// read; flipByID reads again then.
func (t *Target) flip(ctx context.Context, o ObjectConfig, dn string, e *goldap.Entry, active bool) error {
	op := "LDAP modify " + dn
	old := e.GetEqualFoldAttributeValue(o.DisableAttribute)
	n, err := strconv.ParseInt(old, 10, 64)
	if old != "" && err != nil {
		return &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: op, Detail: o.DisableAttribute + " " + strconv.Quote(old) + " is not an integer"}
	}
	next := n | o.DisableMask
	if active {
		next = n &^ o.DisableMask
	}
	if old != "" && next == n {
		return nil
	}
	req := goldap.NewModifyRequest(dn, nil)
	if old != "" {
		req.Delete(o.DisableAttribute, []string{old})
	}
	req.Add(o.DisableAttribute, []string{strconv.FormatInt(next, 10)})
	return t.c.do(ctx, op, func(conn *goldap.Conn) error { return conn.Modify(req) })
}

// encodeAttr is encodeValues, with AD's unicodePwd encoded as AD takes it.
// The value is a secret: errors never show it.
func encodeAttr(name string, v any) ([]string, error) {
	vs, err := encodeValues(v)
	if err != nil || !strings.EqualFold(name, "unicodePwd") {
		return vs, err
	}
	for i, s := range vs {
		if vs[i], err = unicodePwd(s); err != nil {
			return nil, err
		}
	}
	return vs, nil
}
