package ldap

import (
	"context"
	"errors"
	"maps"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
)

// Target provisions users and groups into an LDAP directory. It is safe for
// concurrent use.
type Target struct {
	cfg  TargetConfig
	c    *client
	id   idCodec
	refs map[string]bool // folded names of TargetConfig.ReferenceAttributes
}

var (
	_ connectors.Target           = (*Target)(nil)
	_ connectors.MembershipTarget = (*Target)(nil)
)

// Open checks the configuration, resolves the bind password and binds once.
func (cfg TargetConfig) Open(ctx context.Context, log *logrus.Entry) (*Target, error) {
	if errs := cfg.problems(false); len(errs) > 0 {
		return nil, invalid("LDAP configuration", "%v", errors.Join(errs...))
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	c, err := newClient(cfg.Connection, log.WithField("connector", "ldap-target"))
	if err != nil {
		return nil, err
	}
	if err := c.do(ctx, "LDAP bind", func(*goldap.Conn) error { return nil }); err != nil {
		return nil, err
	}
	return &Target{cfg: cfg, c: c, id: idCodec{cfg.IDAttribute}, refs: folded(cfg.ReferenceAttributes)}, nil
}

// Close ends the connection.
func (t *Target) Close() error {
	t.c.close()
	return nil
}

// Find returns the entries of the type whose attribute equals value.
func (t *Target) Find(ctx context.Context, typ connectors.ObjectType, attribute string, value any) ([]connectors.TargetObject, error) {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return nil, err
	}
	if !attrName.MatchString(attribute) {
		return nil, invalid("LDAP search", "%q is not an attribute name", attribute)
	}
	vs, err := encodeValues(value)
	if err != nil || len(vs) != 1 {
		return nil, invalid("LDAP search", "find by %s needs one value, not %v", attribute, value)
	}
	filter := "(&" + o.classFilter() + "(" + attribute + "=" + goldap.EscapeFilter(vs[0]) + "))"
	entries, err := t.c.search(ctx, o.Container, goldap.ScopeWholeSubtree, filter, t.attrs(), 0)
	if err != nil {
		return nil, err
	}
	out := make([]connectors.TargetObject, 0, len(entries))
	for _, e := range entries {
		out = append(out, t.targetObject(o, e))
	}
	return out, nil
}

// Get returns the entry with the target ID.
func (t *Target) Get(ctx context.Context, typ connectors.ObjectType, id string) (connectors.TargetObject, error) {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return connectors.TargetObject{}, err
	}
	e, err := t.entry(ctx, o, id)
	if err != nil {
		return connectors.TargetObject{}, err
	}
	return t.targetObject(o, e), nil
}

// Create adds an entry named by the type's DN template, enabled, and
// returns the ID the directory gave it.
func (t *Target) Create(ctx context.Context, typ connectors.ObjectType, attrs connectors.Attributes) (string, error) {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return "", err
	}
	dn, err := o.dnFor("LDAP add", attrs)
	if err != nil {
		return "", err
	}
	op := "LDAP add " + dn
	if attrs, err = t.referenceDNs(ctx, op, attrs); err != nil {
		return "", err
	}
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", o.ObjectClasses)
	has := map[string]bool{}
	for name, v := range attrs {
		if o.isParent(name) {
			continue
		}
		vs, err := encodeAttr(name, v)
		if err != nil {
			return "", invalid(op, "%s: %v", name, err)
		}
		if len(vs) > 0 && !strings.EqualFold(name, "objectClass") {
			req.Attribute(name, vs)
			has[strings.ToLower(name)] = true
		}
	}
	if o.DisableAttribute != "" && o.EnableValue != "" && !has[strings.ToLower(o.DisableAttribute)] {
		req.Attribute(o.DisableAttribute, []string{o.EnableValue})
	}
	if typ == connectors.Group && o.needsPlaceholder() && !has[strings.ToLower(t.cfg.MemberAttribute)] {
		req.Attribute(t.cfg.MemberAttribute, []string{""})
	}
	if err := t.c.do(ctx, op, func(conn *goldap.Conn) error { return conn.Add(req) }); err != nil {
		return "", err
	}
	attrsBack := []string{t.cfg.IDAttribute}
	if o.DisableMask != 0 {
		attrsBack = append(attrsBack, o.DisableAttribute)
	}
	entries, err := t.c.search(ctx, dn, goldap.ScopeBaseObject, "(objectClass=*)", attrsBack, 0)
	if err != nil {
		return "", err
	}
	if len(entries) != 1 {
		return "", &connectors.Error{Kind: connectors.KindServerError, Op: op, Detail: "the new entry cannot be read back"}
	}
	id, err := t.id.of(entries[0])
	if err != nil {
		return "", &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: op, Detail: err.Error()}
	}
	if o.DisableMask != 0 && !o.active(entries[0]) {
		// AD makes accounts disabled unless told otherwise: a new account
		// is enabled, its other bits as the directory set them.
		if err := t.flip(ctx, o, dn, entries[0], true); err != nil {
			return "", err
		}
	}
	return id, nil
}

// Update applies the changes with one modify that replaces each attribute
// (a nil New deletes it). When an attribute of the DN template changes, the
// entry is first renamed or moved (modify DN), so the modify never touches
// the old RDN; a retry after a failed modify finds the entry renamed already.
// Other changes leave the DN alone, even where it does not follow the
// template (an entry that existed before and was matched).
func (t *Target) Update(ctx context.Context, typ connectors.ObjectType, id string, changes []connectors.Change) error {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	e, err := t.entry(ctx, o, id)
	if err != nil {
		return err
	}
	after := t.targetObject(o, e).Attributes
	values := connectors.Attributes{}
	naming := false
	for _, ch := range changes {
		for name := range after {
			if strings.EqualFold(name, ch.Attribute) {
				delete(after, name)
			}
		}
		after[ch.Attribute] = ch.New
		naming = naming || o.names(ch.Attribute) || o.isParent(ch.Attribute)
		if !o.isParent(ch.Attribute) {
			values[ch.Attribute] = ch.New
		}
	}
	dn := e.DN
	if values, err = t.referenceDNs(ctx, "LDAP modify "+dn, values); err != nil {
		return err
	}
	if naming {
		newDN, err := o.dnFor("LDAP modify "+dn, after)
		if err != nil {
			return err
		}
		if !sameDN(dn, newDN) {
			if err := t.move(ctx, dn, newDN); err != nil {
				return err
			}
			dn = newDN
		}
	}
	if len(values) == 0 {
		return nil
	}
	return t.c.replace(ctx, dn, values)
}

// move renames an entry and, when its parent changes, moves it.
func (t *Target) move(ctx context.Context, from, to string) error {
	rdn, parent := splitDN(to)
	_, oldParent := splitDN(from)
	newSuperior := ""
	if !sameDN(parent, oldParent) {
		newSuperior = parent
	}
	req := goldap.NewModifyDNRequest(from, rdn, true, newSuperior)
	return t.c.do(ctx, "LDAP modify DN "+from, func(conn *goldap.Conn) error { return conn.ModifyDN(req) })
}

// SetActive writes the type's disable or enable value.
func (t *Target) SetActive(ctx context.Context, typ connectors.ObjectType, id string, active bool) error {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return err
	}
	if o.DisableAttribute == "" {
		return invalid("LDAP modify", "%s has no disableAttribute configured", typ)
	}
	if o.DisableMask != 0 {
		return t.flipByID(ctx, o, id, active)
	}
	dn, err := t.c.findDN(ctx, []string{o.Container}, o.classFilter(), t.id, id)
	if err != nil {
		return err
	}
	value := o.DisableValue
	if active {
		value = o.EnableValue
	}
	return t.c.replace(ctx, dn, connectors.Attributes{o.DisableAttribute: value})
}

// Delete removes the entry; one that is already gone is success.
func (t *Target) Delete(ctx context.Context, typ connectors.ObjectType, id string) error {
	o, err := t.cfg.objectConfig(typ)
	if err != nil {
		return err
	}
	dn, err := t.c.findDN(ctx, []string{o.Container}, o.classFilter(), t.id, id)
	if connectors.KindOf(err) == connectors.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	err = t.c.do(ctx, "LDAP delete "+dn, func(conn *goldap.Conn) error { return conn.Del(goldap.NewDelRequest(dn, nil)) })
	if connectors.KindOf(err) == connectors.KindNotFound {
		return nil
	}
	return err
}

// entry returns the entry of the type with the ID, or a NotFound error.
func (t *Target) entry(ctx context.Context, o ObjectConfig, id string) (*goldap.Entry, error) {
	return t.c.findEntry(ctx, []string{o.Container}, o.classFilter(), t.id, id, t.attrs())
}

// attrs are the attributes read from entries: every user attribute and the
// ID, which is operational in OpenLDAP.
func (t *Target) attrs() []string { return []string{"*", t.cfg.IDAttribute} }

// targetObject converts an entry; a value is a string, or []string when the
// entry holds several.
func (t *Target) targetObject(o ObjectConfig, e *goldap.Entry) connectors.TargetObject {
	obj := connectors.TargetObject{Attributes: connectors.Attributes{}, Active: true}
	obj.ID, _ = t.id.of(e)
	if o.ParentAttribute != "" {
		_, obj.Attributes[o.ParentAttribute] = splitDN(e.DN)
	}
	if o.DisableMask != 0 {
		obj.Active = o.active(e)
	}
	for _, a := range e.Attributes {
		vals := decodeValues(a.Name, a.ByteValues)
		obj.Attributes[a.Name] = attrValue(vals, false)
		if o.DisableAttribute != "" && o.DisableMask == 0 && strings.EqualFold(a.Name, o.DisableAttribute) {
			for _, v := range vals {
				if strings.EqualFold(v, o.DisableValue) {
					obj.Active = false
				}
			}
		}
	}
	return obj
}

// referenceDNs returns attrs with the values of reference attributes, the
// target IDs of the entries they point to, replaced by those entries' DNs.
// An ID no entry has fails the write: the engine writes a reference only
// once its object exists.
func (t *Target) referenceDNs(ctx context.Context, op string, attrs connectors.Attributes) (connectors.Attributes, error) {
	var out connectors.Attributes
	for name, v := range attrs {
		if !t.refs[strings.ToLower(name)] || v == nil {
			continue
		}
		ids, err := encodeValues(v)
		if err != nil || len(ids) == 0 {
			continue // left to the write, which reports a bad value
		}
		dns, missing, err := t.memberDNs(ctx, ids)
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			return nil, invalid(op, "%s: no entry has ID %s", name, strings.Join(missing, ", "))
		}
		if out == nil {
			out = maps.Clone(attrs)
		}
		out[name] = attrValue(dns, len(dns) > 1)
	}
	if out == nil {
		return attrs, nil
	}
	return out, nil
}
