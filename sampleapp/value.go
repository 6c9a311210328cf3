package sampleapp

import (
	"encoding/json"
	"strings"

	"github.com/elimity-com/scim"
	filter "github.com/scim2/filter-parser/v2"
)

// copyForWrite copies what a patch changes in place: the resource map and
// its nested maps. Multi-valued attributes get a new slice that shares its
// elements; the patcher copies an element before changing it (see own), so
// a membership PATCH on a large group does not copy every member.
func copyForWrite(attrs scim.ResourceAttributes) scim.ResourceAttributes {
	out := make(scim.ResourceAttributes, len(attrs))
	for k, v := range attrs {
		switch v := v.(type) {
		case map[string]any:
			out[k] = copyValue(v)
		case []any:
			out[k] = append([]any(nil), v...)
		default:
			out[k] = v
		}
	}
	return out
}

// deepCopy copies a resource's whole JSON-shaped value tree, for snapshots
// handed to callers.
func deepCopy(attrs scim.ResourceAttributes) scim.ResourceAttributes {
	return copyValue(map[string]any(attrs)).(map[string]any)
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = copyValue(e)
		}
		return m
	case scim.ResourceAttributes:
		return copyValue(map[string]any(v))
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyValue(e)
		}
		return s
	}
	return v
}

// unescapeValues decodes JSON escapes (\" and \\) in a parsed filter's string
// comparison values in place: the filter parser keeps them verbatim, which
// would make `userName eq "a\"b"` miss the stored value a"b.
func unescapeValues(e filter.Expression) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if s, ok := e.CompareValue.(string); ok {
			e.CompareValue = unescape(s)
		}
	case *filter.LogicalExpression:
		unescapeValues(e.Left)
		unescapeValues(e.Right)
	case *filter.NotExpression:
		unescapeValues(e.Expression)
	case *filter.ValuePath:
		unescapeValues(e.ValueFilter)
	}
}

// unescape decodes the JSON escapes of a string the filter parser kept.
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
