package scim

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// buildResource turns flat attributes into a SCIM resource with its
// schemas list. Empty values are left out.
func (c *Client) buildResource(t connectors.ObjectType, attrs connectors.Attributes) (map[string]any, error) {
	return c.assembleResource(t, attrs, func(p attrPath, v any) any { return c.wireValue(t, p, v, false) })
}

// assembleResource places each attribute's value, as wire gives it, in
// the resource; a shape's values are marks of their place (see newShape).
func (c *Client) assembleResource(t connectors.ObjectType, attrs connectors.Attributes, wire func(attrPath, any) any) (map[string]any, error) {
	res := map[string]any{}
	schemas := []string{UserSchema}
	if t == connectors.Group {
		schemas = []string{GroupSchema}
		if c.cfg.Dialect == DialectAzure {
			schemas = append(schemas, azureGroupSchema)
		}
	} else if c.cfg.Dialect == DialectAzure {
		// Azure always declares the enterprise extension on users.
		schemas = append(schemas, EnterpriseSchema)
	}

	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		v := attrs[key]
		if isEmpty(v) {
			continue
		}
		p, err := parsePath(key)
		if err != nil {
			return nil, err
		}
		container := res
		if p.schema != "" {
			if !slices.Contains(schemas, p.schema) {
				schemas = append(schemas, p.schema)
			}
			ext, _ := res[p.schema].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				res[p.schema] = ext
			}
			container = ext
		}
		v = wire(p, v)
		switch {
		case p.filter != "":
			elem := element(container, p)
			elem[p.sub] = v
		case p.sub != "":
			m, _ := container[p.name].(map[string]any)
			if m == nil {
				m = map[string]any{}
				container[p.name] = m
			}
			m[p.sub] = v
		default:
			container[p.name] = v
		}
	}
	res["schemas"] = schemas
	return res, nil
}

// element returns the element of a multi-valued attribute that p's filter
// selects, appending it when there is none.
func element(container map[string]any, p attrPath) map[string]any {
	list, _ := container[p.name].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && matchesSeed(m, p.seed) {
			return m
		}
	}
	m := make(map[string]any, len(p.seed)+1)
	for k, v := range p.seed {
		m[k] = v
	}
	container[p.name] = append(list, m)
	return m
}

func matchesSeed(m, seed map[string]any) bool {
	for k, v := range seed {
		if m[k] != v {
			return false
		}
	}
	return true
}

// wireValue converts a flat value to what the service expects at p: the
// manager as {"value": id}, members as [{"value": id}], booleans as JSON
// booleans, or, for a PATCH in the Azure dialect, active as "True"/"False".
func (c *Client) wireValue(t connectors.ObjectType, p attrPath, v any, patch bool) any {
	switch {
	case p.isManager():
		return map[string]any{"value": fmt.Sprint(v)}
	case t == connectors.Group && p.schema == "" && strings.EqualFold(p.name, "members") && p.sub == "":
		var members []any
		for _, id := range stringList(v) {
			members = append(members, map[string]any{"value": id})
		}
		return members
	case isBooleanAttribute(p):
		b, ok := asBool(v)
		if !ok {
			return v
		}
		if patch && c.cfg.Dialect == DialectAzure && strings.EqualFold(p.name, "active") {
			return azureBool(b)
		}
		return b
	}
	if ss, ok := v.([]string); ok {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	return v
}

// isBooleanAttribute names the boolean attributes mappings commonly fill
// with strings (Azure's Switch() yields "True"/"False").
func isBooleanAttribute(p attrPath) bool {
	return (p.schema == "" && p.sub == "" && strings.EqualFold(p.name, "active")) || strings.EqualFold(p.sub, "primary")
}

func asBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return b, err == nil
	}
	return false, false
}

func azureBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	}
	return false
}

func stringList(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}
