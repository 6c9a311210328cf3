package ldap

import (
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// expandTemplate replaces each {attr} of a DN template with value(attr),
// DN-escaped. An attribute without a value is an error: a DN cannot have an
// empty RDN value.
func expandTemplate(tmpl string, value func(attr string) string) (string, error) {
	var b strings.Builder
	for rest := tmpl; ; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", errors.New("unclosed {")
		}
		attr := rest[open+1 : open+end]
		if !attrName.MatchString(attr) {
			return "", fmt.Errorf("{%s} does not name an attribute", attr)
		}
		v := value(attr)
		if v == "" {
			return "", fmt.Errorf("attribute %s has no value for the DN", attr)
		}
		b.WriteString(rest[:open])
		b.WriteString(goldap.EscapeDN(v))
		rest = rest[open+end+1:]
	}
}

// checkTemplate validates a template by expanding it with a sample value.
func checkTemplate(tmpl string) error {
	if tmpl == "" {
		return errors.New("required")
	}
	if !strings.Contains(tmpl, "{") {
		return errors.New("uses no {attribute}, so every entry would get the same DN")
	}
	dn, err := expandTemplate(tmpl, func(string) string { return "x" })
	if err != nil {
		return err
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		return fmt.Errorf("%q is not a DN: %v", tmpl, err)
	}
	return nil
}

// dnFor computes an entry's DN from the object type's template and the
// entry's attributes (names matched case-insensitively), under the parent
// attribute's DN when it has a value.
func (o ObjectConfig) dnFor(op string, attrs connectors.Attributes) (string, error) {
	value := func(attr string) string {
		for name, v := range attrs {
			if strings.EqualFold(name, attr) {
				if vs, err := encodeValues(v); err == nil && len(vs) > 0 {
					return vs[0]
				}
			}
		}
		return ""
	}
	dn, err := expandTemplate(o.DNTemplate, value)
	if err != nil {
		return "", invalid(op, "dnTemplate: %v", err)
	}
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return "", invalid(op, "dnTemplate: %q is not a DN: %v", dn, err)
	}
	container, _ := goldap.ParseDN(o.Container) // validated with the configuration
	if o.ParentAttribute != "" {
		if parent := value(o.ParentAttribute); parent != "" {
			p, err := goldap.ParseDN(parent)
			if err != nil {
				return "", invalid(op, "%s: %q is not a DN", o.ParentAttribute, parent)
			}
			// Entries are looked for under the container: one put
			// elsewhere would be lost to the job.
			if !container.EqualFold(p) && !container.AncestorOfFold(p) {
				return "", invalid(op, "%s: %q is not within the container %s", o.ParentAttribute, parent, o.Container)
			}
			return dn + "," + parent, nil
		}
	}
	if container.AncestorOfFold(parsed) {
		return dn, nil
	}
	return dn + "," + o.Container, nil
}

// names reports whether the DN template uses the attribute.
func (o ObjectConfig) names(attr string) bool {
	return strings.Contains(strings.ToLower(o.DNTemplate), "{"+strings.ToLower(attr)+"}")
}

// splitDN returns a DN's first RDN and its parent's DN, as written.
func splitDN(dn string) (rdn, parent string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++ // the escaped character cannot end the RDN
		case ',':
			return dn[:i], dn[i+1:]
		}
	}
	return dn, ""
}

// sameDN compares DNs the way directories do for names: case-insensitively
// and ignoring escaping differences.
func sameDN(a, b string) bool {
	pa, errA := goldap.ParseDN(a)
	pb, errB := goldap.ParseDN(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return pa.EqualFold(pb)
}
