package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	filter "github.com/scim2/filter-parser/v2"
)

// Schema URNs the connector knows.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// azureGroupSchema is the second URN Azure puts on a group it creates.
	azureGroupSchema = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)

// attrPath is a parsed flat attribute path.
type attrPath struct {
	raw string
	// schema is the extension URN, "" for the core schema.
	schema string
	name   string
	// sub is the sub-attribute: givenName in name.givenName, value in
	// emails[type eq "work"].value.
	sub string
	// filter is the value filter's text (`type eq "work"`), "" when none,
	// and seed the element its equality clauses describe.
	filter string
	seed   map[string]any
}

// paths caches parsed paths: a mapping names the same few paths for every
// object, and parsing is far slower than a map lookup.
var paths sync.Map // string -> attrPath

func parsePath(raw string) (attrPath, error) {
	if p, ok := paths.Load(raw); ok {
		return p.(attrPath), nil
	}
	p, err := parsePathUncached(raw)
	if err != nil {
		return attrPath{}, err
	}
	paths.Store(raw, p)
	return p, nil
}

func parsePathUncached(raw string) (attrPath, error) {
	parsed, err := filter.ParsePath([]byte(raw))
	if err != nil {
		return attrPath{}, fmt.Errorf("attribute path %q is not valid SCIM", raw)
	}
	p := attrPath{raw: raw, name: parsed.AttributePath.AttributeName}
	if uri := parsed.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, UserSchema) && !strings.EqualFold(uri, GroupSchema) {
		p.schema = uri
	}
	p.sub = parsed.AttributePath.SubAttributeName()
	if parsed.ValueExpression != nil {
		if p.sub = parsed.SubAttributeName(); p.sub == "" {
			return attrPath{}, fmt.Errorf("attribute path %q must name a sub-attribute after the filter", raw)
		}
		open, end := strings.IndexByte(raw, '['), strings.LastIndexByte(raw, ']')
		p.filter = raw[open+1 : end]
		seed, ok := seedOf(parsed.ValueExpression)
		if !ok {
			return attrPath{}, fmt.Errorf("attribute path %q: the filter must be equality clauses joined by \"and\"", raw)
		}
		p.seed = seed
	}
	return p, nil
}

// seedOf builds the element a filter of equality clauses joined by "and"
// selects: `type eq "work"` gives {"type": "work"}.
func seedOf(e filter.Expression) (map[string]any, bool) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if e.Operator != filter.EQ || e.AttributePath.SubAttribute != nil || e.CompareValue == nil {
			return nil, false
		}
		v := e.CompareValue
		if s, ok := v.(string); ok {
			v = unescape(s)
		}
		return map[string]any{e.AttributePath.AttributeName: v}, true
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return nil, false
		}
		left, ok := seedOf(e.Left)
		if !ok {
			return nil, false
		}
		right, ok := seedOf(e.Right)
		if !ok {
			return nil, false
		}
		for k, v := range right {
			left[k] = v
		}
		return left, true
	}
	return nil, false
}

// unescape decodes the JSON escapes the filter parser leaves in strings.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
		return s
	}
	return out
}

// qualified is the attribute's name with its extension URN, if any.
func (p attrPath) qualified() string {
	if p.schema == "" {
		return p.name
	}
	return p.schema + ":" + p.name
}

// withoutSub is the path of the whole element a value path selects:
// `emails[type eq "work"]`.
func (p attrPath) withoutSub() string {
	return p.qualified() + "[" + p.filter + "]"
}

// isManager reports whether p is the enterprise extension's manager, which
// flat attributes carry as the manager's id.
func (p attrPath) isManager() bool {
	return strings.EqualFold(p.schema, EnterpriseSchema) && strings.EqualFold(p.name, "manager") && p.sub == ""
}

// equalityFilter is a filter matching resources whose attribute at p
// equals value: `userName eq "x"`, `emails[type eq "work" and value eq "x"]`.
func (p attrPath) equalityFilter(value any) (string, error) {
	lit, err := literal(value)
	if err != nil {
		return "", err
	}
	switch {
	case p.filter != "":
		return fmt.Sprintf("%s[%s and %s eq %s]", p.qualified(), p.filter, p.sub, lit), nil
	case p.isManager():
		return p.qualified() + ".value eq " + lit, nil
	case p.sub != "":
		return p.qualified() + "." + p.sub + " eq " + lit, nil
	}
	return p.qualified() + " eq " + lit, nil
}

// literal writes a filter comparison value. Strings are JSON strings
// (RFC 7644 §3.4.2.2), so `"` and `\` are escaped as \" and \\.
func literal(v any) (string, error) {
	switch v := v.(type) {
	case string:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(v), nil
	case nil:
		return "", fmt.Errorf("cannot match an empty value")
	}
	return "", fmt.Errorf("cannot match a value of type %T", v)
}
