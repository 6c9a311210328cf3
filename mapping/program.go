package mapping

import (
	"slices"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping/expression"
	"github.com/openprovisioning/provisioner/mapping/internal/azvalue"
	"github.com/openprovisioning/provisioner/mapping/scoping"
)

// Program is a compiled object mapping. It is immutable and safe for
// concurrent use: compile once per configuration and map every object.
type Program struct {
	name     string
	attrs    []compiledMapping
	scope    *scoping.Filter
	clauses  [][]Clause
	matching []string
	sources  []string
	// redactedSources are source attributes read by a Redact() mapping.
	redactedSources []string
	// redacts is set when a mapping calls Redact(): most mappings do not,
	// and Redacted, asked of every value pushed, then answers at once.
	redacts bool
	now     func() time.Time
	exists  func(target, value string) (bool, error)
}

// RoleMode says how a target attribute computed by an app role function is
// written.
type RoleMode uint8

// Role modes.
const (
	// RolesNone: the mapping does not compute app roles.
	RolesNone RoleMode = iota
	// RolesSingle: SingleAppRoleAssignment, one role as a string.
	RolesSingle
	// RolesAdd: AppRoleAssignmentsComplex; roles are only ever added, never
	// removed from the target.
	RolesAdd
	// RolesReplace: AssertiveAppRoleAssignmentsComplex; the target's roles
	// are replaced, removing those no longer assigned.
	RolesReplace
)

type compiledMapping struct {
	AttributeMapping
	expr     *expression.Expr
	redacted bool
	roles    RoleMode
	// unique is set when the expression is a SelectUniqueValue call, the
	// only one that asks the target whether a value exists.
	unique bool
}

// Name returns the object mapping's name.
func (p *Program) Name() string { return p.name }

// SourceAttributes returns every source attribute the mappings and the
// scoping filter read, sorted, so a source fetches only those. The
// computed IsSoftDeleted attribute is left out.
func (p *Program) SourceAttributes() []string { return slices.Clone(p.sources) }

// Matching returns the target attributes with a matching priority, in
// precedence order (priority 1 first).
func (p *Program) Matching() []string { return slices.Clone(p.matching) }

// Redacts reports whether any mapping calls Redact().
func (p *Program) Redacts() bool { return p.redacts }

// Redacted reports whether the mapping of target calls Redact(): the
// engine must hide its value in history and logs.
func (p *Program) Redacted(target string) bool {
	if !p.redacts {
		return false
	}
	for i := range p.attrs {
		if p.attrs[i].Target == target {
			return p.attrs[i].redacted
		}
	}
	return false
}

// RedactedSource reports whether a mapping that calls Redact() reads the
// source attribute: where source values are shown (provisioning on demand),
// the engine hides its value too.
func (p *Program) RedactedSource(attr string) bool {
	return slices.Contains(p.redactedSources, attr)
}

// CreationOnly reports whether the mapping of target applies only when the
// engine creates the object (ApplyOn ObjectCreationOnly).
func (p *Program) CreationOnly(target string) bool {
	for i := range p.attrs {
		if p.attrs[i].Target == target {
			return p.attrs[i].ApplyOn == ObjectCreationOnly
		}
	}
	return false
}

// Roles reports how the mapping of target computes app roles.
func (p *Program) Roles(target string) RoleMode {
	for i := range p.attrs {
		if p.attrs[i].Target == target {
			return p.attrs[i].roles
		}
	}
	return RolesNone
}

// WithExists returns a copy of the program that uses exists for
// SelectUniqueValue, so a program compiled once can be bound to the
// target connection of each activity.
func (p *Program) WithExists(exists func(target, value string) (bool, error)) *Program {
	q := *p
	q.exists = exists
	return &q
}

// Map computes the target attributes of one object. The result holds a
// key for every mapping that applies:
//   - mappings applied only on creation are skipped when create is false;
//   - when create is true, a null or empty value is replaced by the
//     mapping's DefaultValue, if it has one;
//   - otherwise a mapping whose expression uses IgnoreFlowIfNullOrEmpty and
//     yields null or empty has no key (the target value is left alone);
//   - any other null or empty value is present as nil (the target value is
//     cleared);
//   - a None mapping only supplies its DefaultValue on creation.
//
// A mapping that fails at run time returns *EvalError.
func (p *Program) Map(attrs connectors.Attributes, create bool) (connectors.Attributes, error) {
	out := make(connectors.Attributes, len(p.attrs))
	env := expression.Env{Attributes: attrs, Now: p.now}
	for i := range p.attrs {
		m := &p.attrs[i]
		if m.ApplyOn == ObjectCreationOnly && !create {
			continue
		}
		var v any
		ignored := false
		switch m.Type {
		case Direct:
			v = attrs[m.Source]
			if l, ok := v.([]string); ok {
				v = slices.Clone(l)
			}
		case Constant:
			v = m.Value
		case Expression:
			env.Exists = nil
			if m.unique {
				env.Exists = p.existsFor(m.Target)
			}
			r, err := m.expr.Eval(&env)
			if err != nil {
				return nil, &EvalError{Mapping: m.Target, Message: err.Error()}
			}
			v = r.Native()
			ignored = r.Ignored()
		}
		if azvalue.IsEmpty(v) {
			switch {
			case create && m.DefaultValue != "":
				v = m.DefaultValue
			case m.Type == None || ignored:
				continue
			default:
				v = nil
			}
		}
		out[m.Target] = v
	}
	return out, nil
}

func (p *Program) existsFor(target string) func(string) (bool, error) {
	if p.exists == nil {
		return nil
	}
	return func(value string) (bool, error) { return p.exists(target, value) }
}
