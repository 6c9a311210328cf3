package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// object converts an entry. A malformed entry (no ID, a bad disabled flag,
// a member list it cannot read) becomes an Object with Invalid set, which
// fails alone; only a failure to reach the directory is an error. ids is
// the read's cache of member and reference DNs (see memberIDs).
func (d *Directory) object(ctx context.Context, ids map[string]string, q query, e *goldap.Entry) (connectors.Object, error) {
	o := connectors.Object{Locator: e.DN, Attributes: connectors.Attributes{}}
	var problems []string
	id, err := d.id.of(e)
	if err != nil {
		problems = append(problems, err.Error())
	}
	o.ID = id
	member := strings.ToLower(d.cfg.MemberAttribute)
	var memberDNs []string
	for _, a := range e.Attributes {
		folded := strings.ToLower(a.Name)
		if q.group && folded == member {
			memberDNs = append(memberDNs, a.Values...)
			continue
		}
		if q.group && strings.HasPrefix(folded, member+";range=") {
			// AD splits member lists over 1500 values into ranges; reading
			// only the first range would drop members silently.
			next := d.memberRange
			if d.cfg.MemberRangeSize <= 0 {
				// A directory that ranged a list unasked (AD above its
				// MaxValRange) is asked for the rest.
				next = func(low int) string { return fmt.Sprintf("%s;range=%d-*", d.cfg.MemberAttribute, low) }
			}
			vals, err := rangedValues(ctx, a, next, d.fetchRange(e.DN))
			switch {
			case connectors.KindOf(err) != "":
				return o, err
			case err != nil:
				problems = append(problems, err.Error())
			default:
				memberDNs = append(memberDNs, vals...)
			}
			continue
		}
		name := q.names[folded]
		if name == "" {
			name = a.Name
		}
		vals := decodeValues(a.Name, a.ByteValues)
		if d.refs[folded] {
			// A reference is by the referenced entry's ID, which a reference
			// mapping resolves; a DN would change when the entry moves.
			if vals, err = d.memberIDs(ctx, ids, vals); err != nil {
				return o, err
			}
			if len(vals) == 0 {
				o.Attributes[name] = nil // dangling: the reference is cleared
				continue
			}
		}
		o.Attributes[name] = attrValue(vals, d.multi[folded])
	}
	if o.Disabled, err = d.disabled(e); err != nil {
		problems = append(problems, err.Error())
	}
	if q.group {
		if o.Members, err = d.memberIDs(ctx, ids, memberDNs); err != nil {
			return o, err
		}
	}
	if len(problems) > 0 {
		o.Invalid = e.DN + ": " + strings.Join(problems, "; ")
	}
	return o, nil
}

// disabled applies Config.DisabledAttribute to an entry.
func (d *Directory) disabled(e *goldap.Entry) (bool, error) {
	if d.cfg.DisabledAttribute == "" {
		return false, nil
	}
	vals := e.GetEqualFoldAttributeValues(d.cfg.DisabledAttribute)
	switch {
	case len(vals) == 0:
		return false, nil
	case d.cfg.DisabledMask != 0:
		n, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil {
			return false, fmt.Errorf("%s %q is not an integer", d.cfg.DisabledAttribute, vals[0])
		}
		return n&d.cfg.DisabledMask != 0, nil
	case len(d.cfg.DisabledValues) > 0:
		for _, v := range vals {
			for _, dv := range d.cfg.DisabledValues {
				if strings.EqualFold(v, dv) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return true, nil
}

// memberLookups is how many member DNs are looked up at once.
const memberLookups = 8

// memberIDs translates member or reference DNs into IDs. Each DN not yet in the read's
// cache is looked up with a base-scope search for its ID attribute (portable
// to OpenLDAP and AD, unlike entryDN filters), several at a time; groups
// share members, so the cache makes most lookups free. DNs that do not
// exist (dangling references) or have no ID are left out; the empty DN
// (groupOfNames' placeholder for "no members") is ignored.
func (d *Directory) memberIDs(ctx context.Context, cache map[string]string, dns []string) ([]string, error) {
	var todo []string
	for _, dn := range dns {
		k := strings.ToLower(dn)
		if _, ok := cache[k]; !ok && dn != "" {
			cache[k] = "" // also dedupes todo
			todo = append(todo, dn)
		}
	}
	ids := make([]string, len(todo))
	errs := make([]error, len(todo))
	sem := make(chan struct{}, memberLookups)
	var wg sync.WaitGroup
	for i, dn := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids[i], errs[i] = d.lookupID(ctx, dn)
		})
	}
	wg.Wait()
	for i, dn := range todo {
		if errs[i] != nil {
			for _, dn := range todo {
				delete(cache, strings.ToLower(dn))
			}
			return nil, errs[i]
		}
		cache[strings.ToLower(dn)] = ids[i]
	}
	out := make([]string, 0, len(dns))
	for _, dn := range dns {
		if id := cache[strings.ToLower(dn)]; id != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// lookupID returns the ID of the entry at dn, or "" when there is none.
func (d *Directory) lookupID(ctx context.Context, dn string) (string, error) {
	entries, err := d.c.search(ctx, dn, goldap.ScopeBaseObject, "(objectClass=*)", []string{d.cfg.IDAttribute}, 0)
	switch resultCode(err) {
	case goldap.LDAPResultNoSuchObject, goldap.LDAPResultInvalidDNSyntax, goldap.LDAPResultReferral:
		// A DN that is not there, is malformed or lies in another domain
		// is a dangling member, not a failed read.
		return "", nil
	}
	if err != nil || len(entries) != 1 {
		return "", err
	}
	id, _ := d.id.of(entries[0])
	return id, nil
}
