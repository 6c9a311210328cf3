package engine

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
)

// Changes and properties are sorted so requests and log entries are stable.
func sortChanges(c []connectors.Change) {
	sort.Slice(c, func(i, j int) bool { return c[i].Attribute < c[j].Attribute })
}

func sortProperties(p []audit.Property) {
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
}

// property is a modified attribute as the log shows it, hidden when the
// mapping redacts it.
func property(prog *mapping.Program, name string, old, new any) audit.Property {
	if prog != nil && prog.Redacted(name) {
		return audit.Property{Name: name, Old: redact(old), New: redact(new)}
	}
	return audit.Property{Name: name, Old: Canon(old), New: Canon(new)}
}

func redact(v any) string {
	if Canon(v) == "" {
		return ""
	}
	return audit.Redacted
}

// diff lists the attributes whose mapped value differs from the current
// one. A value that became empty is sent as nil, which clears it.
func diff(values, current connectors.Attributes) []connectors.Change {
	var out []connectors.Change
	for k, v := range values {
		old, had := current[k]
		if had && Canon(old) == Canon(v) || !had && Canon(v) == "" {
			continue
		}
		c := connectors.Change{Attribute: k, Old: old, New: v}
		if Canon(v) == "" {
			c.New = nil
		}
		out = append(out, c)
	}
	sortChanges(out)
	return out
}

// sourceAttributes are the attributes scoping and mappings read: the
// record's, and IsSoftDeleted. A clone copies the map's tables as they
// are, in half the time of inserting each attribute into a new map.
func sourceAttributes(o connectors.Object) connectors.Attributes {
	attrs := maps.Clone(o.Attributes)
	if attrs == nil {
		attrs = make(connectors.Attributes, 1)
	}
	attrs[SoftDeletedAttribute] = o.Disabled
	return attrs
}

// Merge returns base with values set over it; a value that is empty
// removes the attribute.
func Merge(base, values connectors.Attributes) connectors.Attributes {
	out := make(connectors.Attributes, len(base)+len(values))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range values {
		if Canon(v) == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Canon renders a value for comparison and for the log, so that values that
// went through JSON (numbers as float64, lists as []any) compare equal.
func Canon(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Canon(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func displayName(attrs connectors.Attributes) string {
	for _, k := range []string{"displayName", "userName", "mail", "email"} {
		if s := Canon(attrs[k]); s != "" {
			return s
		}
	}
	return ""
}

func describeScope(r mapping.ScopeResult) string {
	var failed []string
	for _, g := range r.Groups {
		for _, c := range g.Clauses {
			if !c.Passed {
				failed = append(failed, fmt.Sprintf("%s %s %q is false (value %q)", c.Clause.Attribute, c.Clause.Operator, c.Clause.Value, c.Actual))
			}
		}
	}
	if len(failed) == 0 {
		return "no scoping filter group passed"
	}
	return strings.Join(failed, "; ")
}
