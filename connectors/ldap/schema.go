package ldap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.AttributeChecker = (*Directory)(nil)

// sampleSize is how many entries stand in for a schema that cannot be read.
const sampleSize = 100

// CheckAttributes compares names with the attribute types of the
// directory's schema (the subschema entry the root DSE names), without
// regard to case, as LDAP compares them; attribute options (";binary") are
// not part of the name. A name that is another name of a type (surname for
// sn) is refused too: the directory returns the values under the type's
// first name, where the mapping would not find them.
//
// When the schema cannot be read (access refused, no subschema entry),
// up to sampleSize entries of the type are read instead. As a sample may
// lack attributes that are merely rare, a name absent from it is refused
// only when it is close to one the entries have (a likely typo), and is
// otherwise left unchecked.
func (d *Directory) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	filter, err := d.typeFilter(t)
	if err != nil || len(names) == 0 {
		return connectors.AttributeCheck{}, err
	}
	types, subschema, err := d.schemaTypes(ctx)
	if err == nil {
		return checkSchema(names, types, fmt.Sprintf("the schema of %s (%s)", d.cfg.URL, subschema)), nil
	}
	if !schemaUnreadable(err) {
		return connectors.AttributeCheck{}, err
	}
	have, n, serr := d.sample(ctx, filter)
	if serr != nil {
		return connectors.AttributeCheck{}, serr
	}
	if n == 0 {
		return connectors.AttributeCheck{}, fmt.Errorf("%w: the schema of %s cannot be read (%v) and no %s entry was found to compare with",
			connectors.ErrAttributesUnknown, d.cfg.URL, err, t)
	}
	return checkSample(names, have, fmt.Sprintf("%d %s entries of %s, read because its schema cannot be (%v)", n, t, d.cfg.URL, err)), nil
}

// checkSample compares names with the attributes of sampled entries, by
// folded name: names close to one of them are refused, other absent ones
// are left unchecked.
func checkSample(names []string, have map[string]string, against string) connectors.AttributeCheck {
	check := connectors.AttributeCheck{Against: against}
	known := slices.Sorted(maps.Values(have))
	for _, name := range names {
		base := attributeType(name)
		if _, ok := have[strings.ToLower(base)]; ok {
			continue
		}
		if s := connectors.Closest(base, known); s != "" {
			check.Unknown = append(check.Unknown, connectors.UnknownAttribute{Name: name, Suggestion: s})
		} else {
			check.Unchecked = append(check.Unchecked, name)
		}
	}
	return check
}

// attributeType is an attribute description without its options.
func attributeType(name string) string {
	base, _, _ := strings.Cut(name, ";")
	return base
}

// checkSchema compares names with the schema's types, by folded name.
func checkSchema(names []string, types map[string]string, against string) connectors.AttributeCheck {
	check := connectors.AttributeCheck{Against: against}
	var known []string
	for _, name := range names {
		base := attributeType(name)
		canonical, ok := types[strings.ToLower(base)]
		switch {
		case !ok && strings.EqualFold(base, "dn"):
			// The DN is not an attribute; OpenLDAP offers it as entryDN,
			// Active Directory as distinguishedName.
			u := connectors.UnknownAttribute{Name: name, Reason: "the DN is not an attribute of the entry"}
			for _, alt := range []string{"entryDN", "distinguishedName"} {
				if c, ok := types[strings.ToLower(alt)]; ok {
					u.Suggestion = c
					break
				}
			}
			check.Unknown = append(check.Unknown, u)
		case !ok:
			if known == nil {
				known = slices.Sorted(maps.Values(types))
				known = slices.Compact(known)
			}
			check.Unknown = append(check.Unknown, connectors.UnknownAttribute{Name: name, Suggestion: connectors.Closest(base, known)})
		case !strings.EqualFold(canonical, base):
			check.Unknown = append(check.Unknown, connectors.UnknownAttribute{Name: name, Suggestion: canonical,
				Reason: fmt.Sprintf("%s is another name of %s, under which the directory returns the values", base, canonical)})
		}
	}
	return check
}

// schemaUnreadable reports whether a failure to read the schema leaves the
// directory usable: anything but a connection that failed or credentials
// that were refused.
func schemaUnreadable(err error) bool {
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		return true
	}
	switch ce.Kind {
	case connectors.KindUnavailable, connectors.KindTimeout, connectors.KindTooManyRequests:
		return false
	}
	return ce.Status != goldap.LDAPResultInvalidCredentials
}

// typeNames reads the NAME of an attributeTypes value:
// ( 2.5.4.4 NAME ( 'sn' 'surname' ) … ) or ( … NAME 'uid' … ).
var (
	typeNames = regexp.MustCompile(`\sNAME\s+(?:'([^']+)'|\(([^)]*)\))`)
	quoted    = regexp.MustCompile(`'([^']+)'`)
)

// schemaTypes reads the attribute types of the directory's schema: every
// folded name (aliases included) to the type's first name. It names the
// subschema entry it read.
func (d *Directory) schemaTypes(ctx context.Context) (map[string]string, string, error) {
	root, err := d.c.search(ctx, "", goldap.ScopeBaseObject, "(objectClass=*)", []string{"subschemaSubentry"}, 0)
	if err != nil {
		return nil, "", err
	}
	dn := ""
	if len(root) == 1 {
		dn = root[0].GetEqualFoldAttributeValue("subschemaSubentry")
	}
	if dn == "" {
		return nil, "", errors.New("the root DSE names no subschema entry")
	}
	entries, err := d.c.search(ctx, dn, goldap.ScopeBaseObject, "(objectClass=subschema)", []string{"attributeTypes"}, 0)
	if err != nil {
		return nil, "", err
	}
	types := map[string]string{}
	for _, e := range entries {
		for _, def := range e.GetEqualFoldAttributeValues("attributeTypes") {
			m := typeNames.FindStringSubmatch(def)
			if m == nil {
				continue
			}
			names := []string{m[1]}
			if m[1] == "" {
				names = nil
				for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
					names = append(names, q[1])
				}
			}
			for _, n := range names {
				if _, dup := types[strings.ToLower(n)]; !dup {
					types[strings.ToLower(n)] = names[0]
				}
			}
		}
	}
	if len(types) == 0 {
		return nil, "", fmt.Errorf("the subschema entry %s lists no attribute types that can be read", dn)
	}
	return types, dn, nil
}

// sample reads the attribute names of up to sampleSize entries that match
// filter, user and operational attributes, by folded name; the attributes
// the source always reads are counted as present.
func (d *Directory) sample(ctx context.Context, filter string) (map[string]string, int, error) {
	have := map[string]string{}
	for _, a := range []string{d.cfg.IDAttribute, d.cfg.DisabledAttribute, d.cfg.MemberAttribute, d.cfg.Delta} {
		if a != "" && a != DeltaNone {
			have[strings.ToLower(a)] = a
		}
	}
	n := 0
	for _, base := range d.cfg.BaseDNs {
		if n >= sampleSize {
			break
		}
		var entries []*goldap.Entry
		err := d.c.do(ctx, "LDAP search "+base, func(conn *goldap.Conn) error {
			res, err := conn.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
				sampleSize-n, 0, false, filter, []string{"*", "+"}, nil))
			if res != nil {
				entries = res.Entries
			}
			if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
				return nil
			}
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		for _, e := range entries {
			for _, a := range e.Attributes {
				base := attributeType(a.Name)
				have[strings.ToLower(base)] = base
			}
		}
		n += len(entries)
	}
	return have, n, nil
}
