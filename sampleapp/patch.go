package sampleapp

import (
	"sort"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	efilter "github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// patcher applies PATCH operations (RFC 7644 §3.5.2) to a resource. The
// library has already parsed each operation, lower-cased its op and
// validated and sanitised its value against the schema; applying it to the
// stored resource is the application's job.
type patcher struct {
	kind  kind
	attrs schema.Attributes // core attributes plus externalId
}

func newPatcher(k kind) patcher { return patcher{kind: k, attrs: k.attributes()} }

// applyAll applies operations in order. A run of `members[value eq "id"]`
// removals, as a client removing many members sends, is applied in one pass
// over the list instead of one pass per operation.
func (p patcher) applyAll(res map[string]any, ops []scim.PatchOperation) error {
	for i := 0; i < len(ops); {
		if attr, values, n := p.removalRun(ops[i:]); n > 1 {
			name := attr.Name()
			setList(res, name, dropValues(asList(res[name]), values, attr))
			i += n
			continue
		}
		if err := p.apply(res, ops[i]); err != nil {
			return err
		}
		i++
	}
	return nil
}

// removalRun returns the length of the run of removals by value at the start
// of ops, all on one core multi-valued attribute, with the values removed.
func (p patcher) removalRun(ops []scim.PatchOperation) (attr schema.CoreAttribute, values []string, n int) {
	for _, op := range ops {
		v, a, ok := p.removalByValue(op)
		if !ok || (n > 0 && a.Name() != attr.Name()) {
			break
		}
		attr, values, n = a, append(values, v), n+1
	}
	return attr, values, n
}

// removalByValue recognises {"op":"remove","path":"members[value eq \"id\"]"}.
func (p patcher) removalByValue(op scim.PatchOperation) (string, schema.CoreAttribute, bool) {
	if op.Op != scim.PatchOperationRemove || op.Path == nil || op.Path.SubAttribute != nil ||
		op.Path.AttributePath.URIPrefix != nil || op.Path.AttributePath.SubAttribute != nil {
		return "", schema.CoreAttribute{}, false
	}
	e, ok := op.Path.ValueExpression.(*filter.AttributeExpression)
	if !ok || e.Operator != filter.EQ || e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil ||
		!strings.EqualFold(e.AttributePath.AttributeName, "value") {
		return "", schema.CoreAttribute{}, false
	}
	value, isString := e.CompareValue.(string)
	attr, found := p.attrs.ContainsAttribute(op.Path.AttributePath.AttributeName)
	if !isString || !found || !attr.MultiValued() {
		return "", schema.CoreAttribute{}, false
	}
	return unescape(value), attr, true
}

func (p patcher) apply(res map[string]any, op scim.PatchOperation) error {
	if op.Path != nil {
		path := *op.Path
		unescapeValues(path.ValueExpression)
		return p.applyPath(res, op.Op, path, op.Value)
	}
	// Without a path the value's keys are attribute paths (Azure sends dotted
	// keys such as "name.givenName") or an extension URN holding that
	// extension's attributes.
	values, ok := op.Value.(map[string]any)
	if !ok {
		return scimerrors.ScimErrorInvalidValue
	}
	for _, key := range sortedKeys(values) {
		if ext, ok := p.kind.extension(key); ok {
			inner, ok := values[key].(map[string]any)
			if !ok {
				return scimerrors.ScimErrorInvalidValue
			}
			for _, k := range sortedKeys(inner) {
				if err := p.applyKey(res, op.Op, ext.ID, k, inner[k]); err != nil {
					return err
				}
			}
			continue
		}
		if err := p.applyKey(res, op.Op, "", key, values[key]); err != nil {
			return err
		}
	}
	return nil
}

func (p patcher) applyKey(res map[string]any, op, uri, key string, value any) error {
	path, err := filter.ParsePath([]byte(key))
	if err != nil {
		return scimerrors.ScimErrorInvalidPath
	}
	if uri != "" {
		path.AttributePath.URIPrefix = &uri
	}
	unescapeValues(path.ValueExpression)
	return p.applyPath(res, op, path, value)
}

func (p patcher) applyPath(res map[string]any, op string, path filter.Path, value any) error {
	c, attrs, extID, ok := p.container(res, path.AttributePath.URI())
	if !ok {
		return scimerrors.ScimErrorInvalidPath
	}
	attr, ok := attrs.ContainsAttribute(path.AttributePath.AttributeName)
	if !ok {
		return scimerrors.ScimErrorInvalidPath
	}
	if c == nil {
		if op == scim.PatchOperationRemove {
			return nil
		}
		c = map[string]any{}
		res[extID] = c
	}
	var err error
	switch {
	case path.ValueExpression != nil:
		err = applyFiltered(c, op, attr, path.ValueExpression, path.SubAttributeName(), value)
	case path.AttributePath.SubAttributeName() != "":
		err = applySub(c, op, attr, path.AttributePath.SubAttributeName(), value)
	default:
		err = applyWhole(c, op, attr, value)
	}
	if extID != "" && len(c) == 0 {
		delete(res, extID)
	}
	return err
}

// container returns the map holding the attributes of the schema uri names
// (the resource itself for the core schema), nil if that extension is not
// present yet, and ok=false for an unknown schema.
func (p patcher) container(res map[string]any, uri string) (c map[string]any, attrs schema.Attributes, extID string, ok bool) {
	if uri == "" || strings.EqualFold(uri, p.kind.core.ID) {
		return res, p.attrs, "", true
	}
	ext, ok := p.kind.extension(uri)
	if !ok {
		return nil, nil, "", false
	}
	c, _ = res[ext.ID].(map[string]any)
	return c, ext.Attributes, ext.ID, true
}

// applyWhole handles a path naming a whole attribute: "active", "name",
// "members".
func applyWhole(c map[string]any, op string, attr schema.CoreAttribute, value any) error {
	name := attr.Name()
	switch {
	case op == scim.PatchOperationRemove && value != nil && attr.MultiValued():
		// Azure removes members by listing them as the value, not by filter.
		drop := newElementSet(asList(value))
		var kept []any
		for _, e := range asList(c[name]) {
			if !drop.contains(e) {
				kept = append(kept, e)
			}
		}
		setList(c, name, kept)
	case op == scim.PatchOperationRemove:
		delete(c, name)
	case attr.MultiValued() && op == scim.PatchOperationReplace:
		setList(c, name, asList(value))
	case attr.MultiValued():
		setList(c, name, appendNew(asList(c[name]), asList(value)))
	case attr.HasSubAttributes():
		// Sub-attributes the value leaves out stay unchanged (RFC 7644
		// §3.5.2.1 and §3.5.2.3), for add and replace alike.
		v, ok := value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		m, _ := c[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for k, e := range v {
			m[k] = e
		}
		setMap(c, name, m)
	default:
		c[name] = value
	}
	return nil
}

// applySub handles "name.givenName" and the rare filter-less "emails.value".
func applySub(c map[string]any, op string, attr schema.CoreAttribute, sub string, value any) error {
	sa, ok := attr.SubAttributes().ContainsAttribute(sub)
	if !ok {
		return scimerrors.ScimErrorInvalidPath
	}
	name, sub := attr.Name(), sa.Name()
	if attr.MultiValued() {
		list := asList(c[name])
		for i := range list {
			if m := own(list, i); m != nil {
				setOrDelete(m, op, sub, value)
			}
		}
		setList(c, name, dropEmpty(list))
		return nil
	}
	m, _ := c[name].(map[string]any)
	if m == nil {
		if op == scim.PatchOperationRemove {
			return nil
		}
		m = map[string]any{}
	}
	setOrDelete(m, op, sub, value)
	setMap(c, name, m)
	return nil
}

// applyFiltered handles value paths: `emails[type eq "work"].value`,
// `members[value eq "id"]`.
func applyFiltered(c map[string]any, op string, attr schema.CoreAttribute, expr filter.Expression, sub string, value any) error {
	if !attr.MultiValued() {
		return scimerrors.ScimErrorInvalidPath
	}
	subAttrs := attr.SubAttributes()
	if sub != "" {
		sa, ok := subAttrs.ContainsAttribute(sub)
		if !ok {
			return scimerrors.ScimErrorInvalidPath
		}
		sub = sa.Name()
	}
	name, match := attr.Name(), matcher(expr, subAttrs)
	list := asList(c[name])
	var hits []int
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && match(m) {
			hits = append(hits, i)
		}
	}

	if op == scim.PatchOperationRemove {
		if sub == "" {
			list = removeIndexes(list, hits)
		} else {
			for _, i := range hits {
				delete(own(list, i), sub)
			}
			list = dropEmpty(list)
		}
		setList(c, name, list)
		return nil
	}

	if len(hits) == 0 {
		// Azure sends replace on `emails[type eq "work"].value` for a user
		// without a work e-mail and expects it to be created; so do most
		// identity providers. The filter's equality clauses seed the element.
		elem, ok := seed(expr, subAttrs)
		if !ok {
			return scimerrors.ScimErrorNoTarget
		}
		if err := fill(elem, sub, value); err != nil {
			return err
		}
		setList(c, name, appendElement(list, elem))
		return nil
	}
	for _, i := range hits {
		elem := own(list, i)
		if sub == "" && op == scim.PatchOperationReplace {
			// Replace the matched element, keeping what the filter selected it by.
			elem, _ = seed(expr, subAttrs)
			if elem == nil {
				elem = map[string]any{}
			}
		}
		if err := fill(elem, sub, value); err != nil {
			return err
		}
		list[i] = elem
		clearOtherPrimaries(list, i)
	}
	setList(c, name, list)
	return nil
}

// fill sets sub to value in elem, or merges a complex value when sub is empty.
func fill(elem map[string]any, sub string, value any) error {
	if sub != "" {
		elem[sub] = value
		return nil
	}
	v, ok := value.(map[string]any)
	if !ok {
		return scimerrors.ScimErrorInvalidValue
	}
	for k, e := range v {
		elem[k] = e
	}
	return nil
}

// matcher returns a predicate for a value filter. The common `value eq "x"`
// and `type eq "work"` shapes are compared directly: removing members from a
// large group evaluates it against every member.
func matcher(expr filter.Expression, subAttrs schema.Attributes) func(map[string]any) bool {
	if e, ok := expr.(*filter.AttributeExpression); ok && e.Operator == filter.EQ &&
		e.AttributePath.SubAttribute == nil && e.AttributePath.URIPrefix == nil {
		ref, isString := e.CompareValue.(string)
		sa, found := subAttrs.ContainsAttribute(e.AttributePath.AttributeName)
		if isString && found {
			name, exact := sa.Name(), sa.CaseExact()
			return func(m map[string]any) bool {
				s, _ := m[name].(string)
				if exact {
					return s == ref
				}
				return strings.EqualFold(s, ref)
			}
		}
	}
	v := efilter.NewFilterValidator(expr, schema.Schema{Attributes: subAttrs})
	return func(m map[string]any) bool { return v.PassesFilter(m) == nil }
}

// seed builds the element a filter made only of equality clauses joined by
// "and" selects; ok is false for any other filter.
func seed(expr filter.Expression, subAttrs schema.Attributes) (map[string]any, bool) {
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		if e.Operator != filter.EQ || e.AttributePath.SubAttribute != nil || e.CompareValue == nil {
			return nil, false
		}
		sa, ok := subAttrs.ContainsAttribute(e.AttributePath.AttributeName)
		if !ok {
			return nil, false
		}
		return map[string]any{sa.Name(): e.CompareValue}, true
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return nil, false
		}
		left, ok := seed(e.Left, subAttrs)
		if !ok {
			return nil, false
		}
		right, ok := seed(e.Right, subAttrs)
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

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
