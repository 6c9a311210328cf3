package sampleapp

import (
	"strings"
	"time"

	efilter "github.com/elimity-com/scim/filter"
	filter "github.com/scim2/filter-parser/v2"
)

// query returns the records matching a validated filter, in creation order.
// Equality on an indexed attribute and comparisons on meta.lastModified or
// meta.created are answered without the library's generic evaluator;
// anything else falls back to it, over the candidates an indexed clause of an
// "and" yields when there is one, else over every record.
func (h *resourceHandler) query(v *efilter.Validator) []*record {
	expr := v.GetFilter()
	unescapeValues(expr)
	cands, exact, ok := h.candidates(expr)
	switch {
	case ok && exact:
		return cands
	case ok:
		var out []*record
		for _, r := range cands {
			if h.passes(v, r) {
				out = append(out, r)
			}
		}
		return out
	}
	return h.tbl.scan(func(r *record) bool { return h.passes(v, r) })
}

// candidates narrows a filter through an index or a time comparison. exact
// means the result is the answer, not a superset of it.
func (h *resourceHandler) candidates(expr filter.Expression) (recs []*record, exact, ok bool) {
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		if name, isCore := h.coreAttribute(e.AttributePath); isCore {
			if recs, ok := h.indexed(name, e); ok {
				return recs, true, true
			}
			if recs, ok := h.byTime(name, e); ok {
				return recs, true, true
			}
		}
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return nil, false, false
		}
		if recs, _, ok := h.candidates(e.Left); ok {
			return recs, false, true
		}
		if recs, _, ok := h.candidates(e.Right); ok {
			return recs, false, true
		}
	}
	return nil, false, false
}

// coreAttribute returns the canonical name of a core-schema (or common)
// attribute path, with ".sub" when it has a sub-attribute.
func (h *resourceHandler) coreAttribute(p filter.AttributePath) (string, bool) {
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, h.kind.core.ID) {
		return "", false
	}
	name := p.AttributeName
	switch {
	case strings.EqualFold(name, "id"):
		name = "id"
	case strings.EqualFold(name, "meta"):
		name = "meta"
	default:
		attr, ok := h.patcher.attrs.ContainsAttribute(name)
		if !ok {
			return "", false
		}
		name = attr.Name()
	}
	if sub := p.SubAttributeName(); sub != "" {
		name += "." + sub
	}
	return name, true
}

func (h *resourceHandler) indexed(name string, e *filter.AttributeExpression) ([]*record, bool) {
	value, isString := e.CompareValue.(string)
	if e.Operator != filter.EQ || !isString {
		return nil, false
	}
	return h.tbl.lookup(name, value)
}

// byTime answers `meta.lastModified gt "2026-01-02T03:04:05Z"` (and the other
// orderings) by comparing times. Stored times are compared at the second
// resolution clients see them with.
func (h *resourceHandler) byTime(name string, e *filter.AttributeExpression) ([]*record, bool) {
	var field func(*record) time.Time
	switch strings.ToLower(name) {
	case "meta.lastmodified":
		field = func(r *record) time.Time { return r.modified }
	case "meta.created":
		field = func(r *record) time.Time { return r.created }
	default:
		return nil, false
	}
	s, isString := e.CompareValue.(string)
	if !isString {
		return nil, false
	}
	ref, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, false
	}
	var cmp func(t time.Time) bool
	switch e.Operator {
	case filter.GT:
		cmp = func(t time.Time) bool { return t.After(ref) }
	case filter.GE:
		cmp = func(t time.Time) bool { return !t.Before(ref) }
	case filter.LT:
		cmp = func(t time.Time) bool { return t.Before(ref) }
	case filter.LE:
		cmp = func(t time.Time) bool { return !t.After(ref) }
	case filter.EQ:
		cmp = func(t time.Time) bool { return t.Equal(ref) }
	default:
		return nil, false
	}
	return h.tbl.scan(func(r *record) bool { return cmp(field(r).Truncate(time.Second)) }), true
}

// passes evaluates the filter with the library on a view of the record that
// holds what a client can filter on: attributes, id, meta and extension
// attributes under their full "urn:...:name" keys.
func (h *resourceHandler) passes(v *efilter.Validator, r *record) bool {
	view := make(map[string]any, len(r.attrs)+4)
	for k, a := range r.attrs {
		view[k] = a
	}
	for _, ext := range h.kind.extensions {
		if m, ok := r.attrs[ext.ID].(map[string]any); ok {
			for k, a := range m {
				view[ext.ID+":"+k] = a
			}
		}
	}
	view["id"] = r.id
	view["meta"] = map[string]any{
		"resourceType": h.kind.name,
		"created":      r.created.Format(time.RFC3339),
		"lastModified": r.modified.Format(time.RFC3339),
		"version":      etag(r.version),
	}
	return v.PassesFilter(view) == nil
}
