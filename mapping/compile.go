package mapping

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/mapping/expression"
	"github.com/openprovisioning/provisioner/mapping/scoping"
)

// SoftDeletedAttribute is the source attribute the engine computes for
// every object (true when the object is deleted or disabled in the source).
// It is always known and never fetched from a source.
const SoftDeletedAttribute = "IsSoftDeleted"

// Options tunes Compile.
type Options struct {
	// SourceAttributes lists the attributes the source is known to have;
	// nil means unknown (no check).
	SourceAttributes []string
	// Now returns the current time for Now(), DateDiff etc.; nil means
	// time.Now.
	Now func() time.Time
	// Exists reports whether value is already used by the target attribute
	// target in the target system. SelectUniqueValue calls it while mapping
	// an object; without it such mappings fail. Program.WithExists binds a
	// different check to a compiled Program.
	Exists func(target, value string) (bool, error)
}

// Compile checks and compiles one object mapping. On invalid configuration
// it returns *Problems listing every problem found, not only the first.
func Compile(om ObjectMapping, opts Options) (*Program, error) {
	c := &compiler{om: om, opts: opts}
	if opts.SourceAttributes != nil {
		c.known = make(map[string]bool, len(opts.SourceAttributes)+1)
		for _, a := range opts.SourceAttributes {
			c.known[a] = true
		}
		c.known[SoftDeletedAttribute] = true
	}
	p := &Program{name: c.objectName(), now: opts.Now, exists: opts.Exists}
	p.attrs = c.attributes()
	p.scope, p.clauses = c.scope()
	if len(c.problems) > 0 {
		return nil, &c.problems
	}
	p.matching = matchingOrder(p.attrs)
	p.sources = c.sources
	slices.Sort(p.sources)
	p.sources = slices.Compact(p.sources)
	p.redactedSources = c.redactedSources
	p.redacts = slices.ContainsFunc(p.attrs, func(m compiledMapping) bool { return m.redacted })
	return p, nil
}

type compiler struct {
	om       ObjectMapping
	opts     Options
	known    map[string]bool
	problems Problems
	sources  []string
	// redactedSources are read by expressions that call Redact().
	redactedSources []string
}

func (c *compiler) objectName() string {
	if c.om.Name != "" {
		return c.om.Name
	}
	return fmt.Sprintf("%s to %s", c.om.SourceObject, c.om.TargetObject)
}

func (c *compiler) problem(mapping, field string, pos int, format string, args ...any) {
	c.problems = append(c.problems, Problem{Mapping: mapping, Field: field, Position: pos, Message: fmt.Sprintf(format, args...)})
}

// source records an attribute read from the source and checks it exists.
func (c *compiler) source(mapping, field, name string) {
	if name != SoftDeletedAttribute {
		c.sources = append(c.sources, name)
	}
	if c.known != nil && !c.known[name] {
		c.problem(mapping, field, 0, "unknown source attribute %q", name)
	}
}

func (c *compiler) attributes() []compiledMapping {
	out := make([]compiledMapping, 0, len(c.om.Attributes))
	seenTarget := map[string]bool{}
	seenPriority := map[int]string{}
	matching := false
	for i, am := range c.om.Attributes {
		name := am.Target
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
			c.problem(name, "target", 0, "target attribute is empty")
		} else if err := checkTarget(am.Target); err != nil {
			c.problem(name, "target", 0, "invalid target attribute path: %v", err)
		}
		if am.Target != "" && seenTarget[am.Target] {
			c.problem(name, "target", 0, "target attribute is mapped more than once")
		}
		seenTarget[am.Target] = true
		cm := compiledMapping{AttributeMapping: am}
		cm.Type = c.mappingType(name, am)
		cm.ApplyOn = c.applyOn(name, am.ApplyOn)
		switch cm.Type {
		case Direct:
			if am.Source == "" {
				c.problem(name, "source", 0, "a Direct mapping needs a source attribute")
			} else {
				c.source(name, "source", am.Source)
			}
		case Expression:
			c.expression(name, &cm)
		}
		switch {
		case am.MatchingPriority < 0:
			c.problem(name, "matchingPriority", 0, "matching priority cannot be negative")
		case am.MatchingPriority > 0:
			matching = true
			if other, dup := seenPriority[am.MatchingPriority]; dup {
				c.problem(name, "matchingPriority", 0, "matching priority %d is also used by %q", am.MatchingPriority, other)
			}
			seenPriority[am.MatchingPriority] = name
			if cm.Type == None {
				c.problem(name, "matchingPriority", 0, "a mapping of type None has no value to match on")
			}
		}
		if cm.expr != nil && cm.expr.TopLevel() == "SelectUniqueValue" {
			cm.unique = true
			if am.MatchingPriority > 0 {
				c.problem(name, "matchingPriority", 0, "SelectUniqueValue cannot be used on a matching attribute")
			}
			if cm.ApplyOn != ObjectCreationOnly {
				c.problem(name, "applyOn", 0, "SelectUniqueValue needs applyOn %s", ObjectCreationOnly)
			}
		}
		out = append(out, cm)
	}
	if !matching {
		c.problem(c.objectName(), "matchingPriority", 0, "no attribute mapping is a matching attribute; give at least one a matchingPriority of 1 or more")
	}
	return out
}

// mappingType reads the type case-insensitively; an empty type is inferred
// from the fields that are set.
func (c *compiler) mappingType(name string, am AttributeMapping) MappingType {
	for _, t := range []MappingType{Direct, Constant, Expression, None} {
		if strings.EqualFold(string(am.Type), string(t)) {
			return t
		}
	}
	if am.Type == "" {
		switch {
		case am.Expression != "":
			return Expression
		case am.Source != "":
			return Direct
		}
	}
	c.problem(name, "type", 0, "unknown mapping type %q (want Direct, Constant, Expression or None)", am.Type)
	return None
}

// applyOn reads ApplyOn case-insensitively, also accepting Azure's flowType
// names (ObjectAddOnly).
func (c *compiler) applyOn(name string, a ApplyOn) ApplyOn {
	switch strings.ToLower(string(a)) {
	case "", "always":
		return Always
	case "objectcreationonly", "objectaddonly":
		return ObjectCreationOnly
	}
	c.problem(name, "applyOn", 0, "unknown applyOn %q (want %s or %s)", a, Always, ObjectCreationOnly)
	return Always
}

func (c *compiler) expression(name string, cm *compiledMapping) {
	if strings.TrimSpace(cm.Expression) == "" {
		c.problem(name, "expression", 0, "an Expression mapping needs an expression")
		return
	}
	var opts expression.Options
	if c.known != nil {
		opts.KnownAttribute = func(a string) bool { return c.known[a] }
	}
	x, err := expression.Compile(cm.Expression, opts)
	if err != nil {
		for _, e := range err.(expression.Errors) {
			c.problem(name, "expression", e.Position, "%s", e.Message)
		}
		return
	}
	for _, a := range x.Attributes() {
		if a != SoftDeletedAttribute {
			c.sources = append(c.sources, a)
		}
	}
	cm.expr = x
	cm.redacted = x.Calls("Redact")
	if cm.redacted {
		c.redactedSources = append(c.redactedSources, x.Attributes()...)
	}
	switch x.TopLevel() {
	case "SingleAppRoleAssignment":
		cm.roles = RolesSingle
	case "AppRoleAssignmentsComplex":
		cm.roles = RolesAdd
	case "AssertiveAppRoleAssignmentsComplex":
		cm.roles = RolesReplace
	}
}

func (c *compiler) scope() (*scoping.Filter, [][]Clause) {
	groups := make([][]scoping.Condition, len(c.om.Scope.Groups))
	clauses := make([][]Clause, len(c.om.Scope.Groups))
	for gi, g := range c.om.Scope.Groups {
		clauses[gi] = g.Clauses
		for ci, cl := range g.Clauses {
			groups[gi] = append(groups[gi], scoping.Condition{Attribute: cl.Attribute, Operator: cl.Operator, Value: cl.Value})
			if cl.Attribute != "" {
				c.source(c.objectName(), fmt.Sprintf("scope group %d clause %d attribute", gi+1, ci+1), cl.Attribute)
			}
		}
	}
	f, err := scoping.Compile(groups)
	if err != nil {
		for _, e := range err.(scoping.Errors) {
			field := fmt.Sprintf("scope group %d", e.Group)
			if e.Clause > 0 {
				field += fmt.Sprintf(" clause %d %s", e.Clause, e.Field)
			}
			c.problem(c.objectName(), field, 0, "%s", e.Message)
		}
		return nil, nil
	}
	return f, clauses
}

// matchingOrder lists matching attributes by priority, 1 first.
func matchingOrder(ms []compiledMapping) []string {
	var m []compiledMapping
	for _, a := range ms {
		if a.MatchingPriority > 0 {
			m = append(m, a)
		}
	}
	slices.SortStableFunc(m, func(a, b compiledMapping) int { return a.MatchingPriority - b.MatchingPriority })
	out := make([]string, len(m))
	for i, a := range m {
		out[i] = a.Target
	}
	return out
}
