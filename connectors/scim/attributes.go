package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.AttributeChecker = (*Source)(nil)

// commonAttributes are on every resource without a schema listing them
// (RFC 7643 §3.1) and read as attributes; meta is not read.
var commonAttributes = []string{"id", "externalId"}

// CheckAttributes compares flat attribute paths with the resource schemas
// the service publishes (/Schemas), for the type's schema and its
// extensions as /ResourceTypes names them (every published extension when
// it names none). A path must name what a read returns: the attribute as
// the schema spells it (values are keyed by the service's spelling), an
// extension attribute under its schema's URN, a sub-attribute the schema
// lists, and a multi-valued complex attribute's element by
// `[type eq "…"]` or `[primary eq true]`, as reads key them.
//
// A service that does not serve /Schemas (or answers it with something
// else than schemas) has nothing to compare with: ErrAttributesUnknown.
// A service that cannot be reached, or refuses the credentials, is an
// error of its own.
func (s *Source) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	ep, err := endpoint(t)
	if err != nil || len(names) == 0 {
		return connectors.AttributeCheck{}, err
	}
	rs, err := s.resourceSchemas(ctx, t, ep)
	if err != nil {
		return connectors.AttributeCheck{}, err
	}
	ids := []string{rs.core.ID}
	for _, e := range rs.extensions {
		ids = append(ids, e.ID)
	}
	check := connectors.AttributeCheck{Against: fmt.Sprintf("the schemas of %s in %s/Schemas (%s)", ep, s.cfg.BaseURL, strings.Join(ids, ", "))}
	for _, n := range names {
		if u, ok := rs.check(n); !ok {
			check.Unknown = append(check.Unknown, u)
		}
	}
	return check, nil
}

// resourceSchemas are the schemas of one resource type.
type resourceSchemas struct {
	core       Schema
	extensions []Schema
}

// resourceSchemas reads /Schemas, and /ResourceTypes to tell which of them
// describe the type's resources.
func (s *Source) resourceSchemas(ctx context.Context, t connectors.ObjectType, ep string) (resourceSchemas, error) {
	var schemas []Schema
	if err := s.getList(ctx, "/Schemas", &schemas); err != nil {
		return resourceSchemas{}, err
	}
	byID := map[string]Schema{}
	for _, sc := range schemas {
		byID[strings.ToLower(sc.ID)] = sc
	}
	core, other := UserSchema, GroupSchema
	if t == connectors.Group {
		core, other = GroupSchema, UserSchema
	}
	var extensions []string
	var types []struct {
		Name             string `json:"name"`
		Endpoint         string `json:"endpoint"`
		Schema           string `json:"schema"`
		SchemaExtensions []struct {
			Schema string `json:"schema"`
		} `json:"schemaExtensions"`
	}
	known := false
	if s.getList(ctx, "/ResourceTypes", &types) == nil {
		for _, rt := range types {
			if rt.Schema != "" && (strings.EqualFold(rt.Endpoint, ep) || strings.EqualFold(rt.Name, string(t))) {
				core, known = rt.Schema, true
				for _, e := range rt.SchemaExtensions {
					extensions = append(extensions, e.Schema)
				}
				break
			}
		}
	}
	if !known {
		for _, sc := range schemas {
			if !strings.EqualFold(sc.ID, core) && !strings.EqualFold(sc.ID, other) {
				extensions = append(extensions, sc.ID)
			}
		}
	}
	rs := resourceSchemas{}
	var ok bool
	if rs.core, ok = byID[strings.ToLower(core)]; !ok {
		return resourceSchemas{}, fmt.Errorf("%w: %s/Schemas does not describe %s", connectors.ErrAttributesUnknown, s.cfg.BaseURL, core)
	}
	for _, e := range extensions {
		if sc, ok := byID[strings.ToLower(e)]; ok {
			rs.extensions = append(rs.extensions, sc)
		}
	}
	return rs, nil
}

// getList reads the resources of a discovery endpoint: a ListResponse, or
// the bare array some services answer with. Answers that say the service
// has no such endpoint, or that are not what RFC 7644 §4 describes, match
// ErrAttributesUnknown; a service that cannot be reached or refuses the
// credentials is the call's error.
func (s *Source) getList(ctx context.Context, path string, out any) error {
	var raw json.RawMessage
	err := s.call(ctx, http.MethodGet, path, nil, nil, &raw)
	switch connectors.KindOf(err) {
	case "":
		if err != nil {
			return err
		}
	case connectors.KindUnavailable, connectors.KindTimeout, connectors.KindUnauthorized, connectors.KindTooManyRequests:
		return err
	default:
		return fmt.Errorf("%w: %v", connectors.ErrAttributesUnknown, err)
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '[' {
		var lr struct {
			Resources json.RawMessage `json:"Resources"`
		}
		if json.Unmarshal(raw, &lr) != nil || len(lr.Resources) == 0 {
			return fmt.Errorf("%w: GET %s: the answer is not a list of resources", connectors.ErrAttributesUnknown, path)
		}
		raw = lr.Resources
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: GET %s: %v", connectors.ErrAttributesUnknown, path, err)
	}
	return nil
}

// check reports whether a read returns values at the flat path name, and
// when it does not, why and what to write instead.
func (rs resourceSchemas) check(name string) (connectors.UnknownAttribute, bool) {
	u := connectors.UnknownAttribute{Name: name}
	p, err := parsePath(name)
	if err != nil {
		u.Reason = err.Error()
		return u, false
	}
	for _, core := range []string{UserSchema, GroupSchema} {
		if len(name) > len(core) && strings.EqualFold(name[:len(core)], core) && name[len(core)] == ':' {
			u.Reason, u.Suggestion = "core attributes are read without their schema's URN", name[len(core)+1:]
			return u, false
		}
	}
	sc, prefix := rs.core, ""
	if p.schema != "" {
		prefix = p.schema + ":"
		found := false
		for _, e := range rs.extensions {
			if e.ID == p.schema {
				sc, found = e, true
				break
			}
		}
		if !found {
			ids := make([]string, len(rs.extensions))
			for i, e := range rs.extensions {
				ids[i] = e.ID
			}
			u.Reason = fmt.Sprintf("%s is not an extension schema of these resources", p.schema)
			if s := connectors.Closest(p.schema, ids); s != "" {
				u.Suggestion = s + name[len(p.schema):]
			}
			return u, false
		}
	}
	rest := name[len(prefix)+len(p.name):] // `[type eq "work"].value`, `.givenName` or ""
	attr, ok := sc.attribute(p.name)
	if !ok {
		if p.schema == "" && (p.name == "id" || p.name == "externalId") {
			return u, true
		}
		u.Suggestion = rs.closest(sc, p, prefix, rest)
		return u, false
	}
	return attr.check(u, p, prefix+p.name, rest)
}

// closest suggests a path for an attribute name the schema lacks: the same
// name in an extension (core names only), else the nearest name in the
// schema, else, for core names, the nearest in an extension.
func (rs resourceSchemas) closest(sc Schema, p attrPath, prefix, rest string) string {
	if p.schema == "" {
		for _, e := range rs.extensions {
			if _, ok := e.attribute(p.name); ok {
				return e.ID + ":" + p.name + rest
			}
		}
	}
	names := sc.names()
	if p.schema == "" {
		names = append(names, commonAttributes...)
	}
	if s := connectors.Closest(p.name, names); s != "" {
		return prefix + s + rest
	}
	if p.schema == "" {
		for _, e := range rs.extensions {
			if s := connectors.Closest(p.name, e.names()); s != "" {
				return e.ID + ":" + s + rest
			}
		}
	}
	return ""
}

// names lists the schema's attribute names.
func (sc Schema) names() []string {
	names := make([]string, len(sc.Attributes))
	for i, a := range sc.Attributes {
		names[i] = a.Name
	}
	return names
}

// attribute finds an attribute by its exact name.
func (sc Schema) attribute(name string) (Attribute, bool) {
	for _, a := range sc.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// check compares the rest of a path (value filter, sub-attribute) with the
// attribute's shape, as flatten keys values.
func (a Attribute) check(u connectors.UnknownAttribute, p attrPath, qualified, rest string) (connectors.UnknownAttribute, bool) {
	complex := strings.EqualFold(a.Type, "complex") || len(a.SubAttributes) > 0
	manager := strings.EqualFold(p.schema, EnterpriseSchema) && strings.EqualFold(p.name, "manager")
	switch {
	case manager && p.sub != "":
		u.Reason, u.Suggestion = "the manager is read as its id", qualified
		return u, false
	case manager:
		return u, true
	case p.sub != "" && !complex && a.Type != "":
		u.Reason = fmt.Sprintf("%s has no sub-attributes", qualified)
		return u, false
	case p.filter != "" && !a.MultiValued:
		u.Reason = fmt.Sprintf("%s is single-valued: it has no elements to select", qualified)
		if p.sub != "" {
			u.Suggestion = qualified + "." + p.sub
		}
		return u, false
	case complex && a.MultiValued && p.filter == "":
		u.Reason = fmt.Sprintf(`the elements of %s are read by type: write %s[type eq "work"].value or %s[primary eq true].value`, qualified, qualified, qualified)
		return u, false
	case complex && !a.MultiValued && p.sub == "":
		u.Reason = fmt.Sprintf("%s is complex: read one of its sub-attributes", qualified)
		return u, false
	}
	if p.filter != "" {
		sel, ok := selectorOf(p.seed)
		if !ok {
			u.Reason = fmt.Sprintf(`the elements of %s are read by type or as the primary one: [type eq "…"] or [primary eq true]`, qualified)
			return u, false
		}
		if sel != p.filter {
			u.Reason = fmt.Sprintf("a read keys the elements of %s as [%s]", qualified, sel)
			u.Suggestion = qualified + "[" + sel + "]." + p.sub
			return u, false
		}
	}
	if p.sub == "" || len(a.SubAttributes) == 0 {
		return u, true
	}
	subs := make([]string, len(a.SubAttributes))
	for i, s := range a.SubAttributes {
		if s.Name == p.sub {
			return u, true
		}
		subs[i] = s.Name
	}
	if s := connectors.Closest(p.sub, subs); s != "" {
		u.Suggestion = strings.TrimSuffix(qualified+rest, p.sub) + s
	}
	return u, false
}

// selectorOf is the value filter a read keys an element by, for the
// element a path's filter describes: selector's form.
func selectorOf(seed map[string]any) (string, bool) {
	if len(seed) != 1 {
		return "", false
	}
	if v, ok := seed["type"].(string); ok && v != "" {
		lit, err := literal(v)
		return "type eq " + lit, err == nil
	}
	if seed["primary"] == true {
		return "primary eq true", true
	}
	return "", false
}
