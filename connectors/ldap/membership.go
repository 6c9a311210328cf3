package ldap

import (
	"context"
	"errors"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// memberBatch is how many IDs one search translates into DNs.
const memberBatch = 200

// AddMembers adds users or groups, by target ID, to a group's member
// attribute. Members already there are not an error; members that do not
// exist are a NotFound error, after the others were added.
func (t *Target) AddMembers(ctx context.Context, groupID string, memberIDs []string) error {
	group, dns, missing, placeholder, err := t.membership(ctx, groupID, memberIDs)
	if err != nil {
		return err
	}
	if len(dns) > 0 {
		if err := t.addValues(ctx, group, dns); err != nil {
			return err
		}
		if placeholder {
			err := t.modifyMembers(ctx, group, nil, []string{""})
			if err != nil && resultCode(err) != goldap.LDAPResultNoSuchAttribute {
				return err
			}
		}
	}
	if len(missing) > 0 {
		return &connectors.Error{Kind: connectors.KindNotFound, Op: "LDAP modify " + group,
			Detail: "no member with ID " + strings.Join(missing, ", ")}
	}
	return nil
}

// RemoveMembers removes members, by target ID, from a group. Members that
// are not there, or no longer exist, are not an error.
func (t *Target) RemoveMembers(ctx context.Context, groupID string, memberIDs []string) error {
	group, dns, _, placeholder, err := t.membership(ctx, groupID, memberIDs)
	if err != nil || len(dns) == 0 {
		return err
	}
	return t.removeValues(ctx, group, dns, placeholder)
}

// membership finds the group's DN and the members' DNs; missing lists the
// member IDs found nowhere.
func (t *Target) membership(ctx context.Context, groupID string, memberIDs []string) (group string, members, missing []string, placeholder bool, err error) {
	o, err := t.cfg.objectConfig(connectors.Group)
	if err != nil || len(memberIDs) == 0 {
		return "", nil, nil, false, err
	}
	group, err = t.c.findDN(ctx, []string{o.Container}, o.classFilter(), t.id, groupID)
	if err != nil {
		return "", nil, nil, false, err
	}
	members, missing, err = t.memberDNs(ctx, memberIDs)
	return group, members, missing, o.needsPlaceholder(), err
}

// addValues adds member DNs; when some are there already, which fails the
// whole request, it adds them one by one.
func (t *Target) addValues(ctx context.Context, group string, dns []string) error {
	err := t.modifyMembers(ctx, group, dns, nil)
	if resultCode(err) != goldap.LDAPResultAttributeOrValueExists {
		return err
	}
	if len(dns) > 1 {
		for _, dn := range dns {
			if err := t.addValues(ctx, group, []string{dn}); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeValues deletes member DNs. Removing the last member of a group that
// must have one puts the placeholder in its place in the same request.
func (t *Target) removeValues(ctx context.Context, group string, dns []string, placeholder bool) error {
	err := t.modifyMembers(ctx, group, nil, dns)
	if placeholder && resultCode(err) == goldap.LDAPResultObjectClassViolation {
		err = t.modifyMembers(ctx, group, []string{""}, dns)
	}
	if resultCode(err) != goldap.LDAPResultNoSuchAttribute {
		return err
	}
	if len(dns) > 1 {
		for _, dn := range dns {
			if err := t.removeValues(ctx, group, []string{dn}, placeholder); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Target) modifyMembers(ctx context.Context, group string, add, del []string) error {
	req := goldap.NewModifyRequest(group, nil)
	if len(add) > 0 {
		req.Add(t.cfg.MemberAttribute, add)
	}
	if len(del) > 0 {
		req.Delete(t.cfg.MemberAttribute, del)
	}
	return t.c.do(ctx, "LDAP modify "+group, func(conn *goldap.Conn) error { return conn.Modify(req) })
}

// memberDNs translates target IDs into DNs, searching the user and group
// containers with OR filters of up to memberBatch IDs; missing lists the IDs
// found nowhere.
func (t *Target) memberDNs(ctx context.Context, ids []string) (dns, missing []string, err error) {
	var containers []string
	for _, o := range []ObjectConfig{t.cfg.Users, t.cfg.Groups} {
		if o.Container != "" {
			containers = append(containers, o.Container)
		}
	}
	found := map[string]string{}
	for start := 0; start < len(ids); start += memberBatch {
		batch := ids[start:min(start+memberBatch, len(ids))]
		var filter strings.Builder
		filter.WriteString("(|")
		for _, id := range batch {
			f, err := t.id.filter(id)
			if err != nil {
				return nil, nil, invalid("LDAP search", "member %v", err)
			}
			filter.WriteString(f)
		}
		filter.WriteString(")")
		for _, c := range containers {
			entries, err := t.c.search(ctx, c, goldap.ScopeWholeSubtree, filter.String(), []string{t.cfg.IDAttribute}, 0)
			if err != nil {
				return nil, nil, err
			}
			for _, e := range entries {
				if id, err := t.id.of(e); err == nil {
					found[strings.ToLower(id)] = e.DN
				}
			}
		}
	}
	for _, id := range ids {
		if dn := found[strings.ToLower(id)]; dn != "" {
			dns = append(dns, dn)
		} else {
			missing = append(missing, id)
		}
	}
	return dns, missing, nil
}

// resultCode is the LDAP result code of a connector error, or 0.
func resultCode(err error) int {
	var ce *connectors.Error
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}
