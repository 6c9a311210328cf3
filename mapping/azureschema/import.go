package azureschema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/mapping/expression"
)

// Parse reads a schema document. Property names are matched
// case-insensitively, so both Graph's camelCase and the PascalCase of
// older exports are read.
func Parse(data []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("azure schema: %w", err)
	}
	return &s, nil
}

// Import reads a schema document and returns its enabled object mappings.
// On unsupported or malformed parts it returns Errors listing all of them.
func Import(data []byte) ([]mapping.ObjectMapping, error) {
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return s.ObjectMappings()
}

// ObjectMappings converts the enabled object mappings of every rule.
func (s *Schema) ObjectMappings() ([]mapping.ObjectMapping, error) {
	var l errorList
	var out []mapping.ObjectMapping
	for ri, r := range s.SynchronizationRules {
		for oi, om := range r.ObjectMappings {
			if om.Enabled != nil && !*om.Enabled {
				continue
			}
			path := fmt.Sprintf("synchronizationRules[%d].objectMappings[%d]", ri, oi)
			out = append(out, importObject(&l, path, om, s.references(r.SourceDirectoryName, om.SourceObjectName)))
		}
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// SourceAttributes returns the attribute names of an object type of a
// directory (such as the rule's sourceDirectoryName and "User"), for
// mapping.Options.SourceAttributes. Names are matched case-insensitively;
// nil means the schema does not describe the object.
func (s *Schema) SourceAttributes(directory, object string) []string {
	for _, d := range s.Directories {
		if !strings.EqualFold(d.Name, directory) {
			continue
		}
		for _, o := range d.Objects {
			if strings.EqualFold(o.Name, object) {
				names := make([]string, len(o.Attributes))
				for i, a := range o.Attributes {
					names[i] = a.Name
				}
				return names
			}
		}
	}
	return nil
}

// references maps the reference attributes of a directory's object type
// (lower-cased) to the object type they point to.
func (s *Schema) references(directory, object string) map[string]string {
	out := map[string]string{}
	for _, d := range s.Directories {
		if !strings.EqualFold(d.Name, directory) {
			continue
		}
		for _, o := range d.Objects {
			if !strings.EqualFold(o.Name, object) {
				continue
			}
			for _, a := range o.Attributes {
				if len(a.ReferencedObjects) > 0 {
					out[strings.ToLower(a.Name)] = a.ReferencedObjects[0].ReferencedObjectName
				}
			}
		}
	}
	return out
}

func importObject(l *errorList, path string, om ObjectMapping, refs map[string]string) mapping.ObjectMapping {
	out := mapping.ObjectMapping{Name: om.Name, SourceObject: om.SourceObjectName, TargetObject: om.TargetObjectName}
	if om.Scope != nil {
		if len(om.Scope.InputFilterGroups) > 0 {
			l.add(path+".scope.inputFilterGroups", "input filter groups are not supported; use groups")
		}
		if len(om.Scope.CategoryFilterGroups) > 0 {
			l.add(path+".scope.categoryFilterGroups", "category filter groups are not supported; use groups")
		}
		for gi, g := range om.Scope.Groups {
			fg := mapping.FilterGroup{Name: g.Name}
			for ci, c := range g.Clauses {
				cp := fmt.Sprintf("%s.scope.groups[%d].clauses[%d]", path, gi, ci)
				fg.Clauses = append(fg.Clauses, importClause(l, cp, c))
			}
			out.Scope.Groups = append(out.Scope.Groups, fg)
		}
	}
	for ai, am := range om.AttributeMappings {
		a := importAttribute(l, fmt.Sprintf("%s.attributeMappings[%d]", path, ai), am)
		if strings.EqualFold(om.SourceObjectName, "Group") && strings.EqualFold(a.Target, "members") && a.Type == mapping.Direct {
			// Azure maps a group's members as an attribute; here the job
			// keeps memberships in step without a mapping.
			continue
		}
		if a.Type == mapping.Direct {
			a.Reference = refs[strings.ToLower(a.Source)]
		}
		out.Attributes = append(out.Attributes, a)
	}
	return out
}

func importClause(l *errorList, path string, c FilterClause) mapping.Clause {
	out := mapping.Clause{Attribute: c.SourceOperandName, Operator: c.OperatorName}
	if c.TargetOperand != nil {
		switch len(c.TargetOperand.Values) {
		case 0:
		case 1:
			out.Value = c.TargetOperand.Values[0]
		default:
			l.add(path+".targetOperand.values", "clauses with more than one value are not supported")
		}
	}
	return out
}

func importAttribute(l *errorList, path string, am AttributeMapping) mapping.AttributeMapping {
	out := mapping.AttributeMapping{Target: am.TargetAttributeName, MatchingPriority: am.MatchingPriority}
	if am.DefaultValue != nil {
		out.DefaultValue = *am.DefaultValue
	}
	switch strings.ToLower(am.FlowType) {
	case "", "always":
		out.ApplyOn = mapping.Always
	case "objectaddonly":
		out.ApplyOn = mapping.ObjectCreationOnly
	default:
		l.add(path+".flowType", "flow type %q is not supported (want Always or ObjectAddOnly)", am.FlowType)
	}
	src := am.Source
	if src == nil {
		out.Type = mapping.None
		return out
	}
	switch {
	case strings.EqualFold(src.Type, SourceAttribute):
		out.Type, out.Source = mapping.Direct, src.Name
	case strings.EqualFold(src.Type, SourceConstant):
		out.Type, out.Value = mapping.Constant, src.Name
	case strings.EqualFold(src.Type, SourceFunction):
		out.Type = mapping.Expression
		out.Expression = src.Expression
		if strings.TrimSpace(out.Expression) == "" {
			text, err := rebuild(src)
			if err != nil {
				l.add(path+".source", "%v", err)
			}
			out.Expression = text
		}
	default:
		l.add(path+".source.type", "unknown source type %q (want Attribute, Constant or Function)", src.Type)
	}
	return out
}

// rebuild writes a source tree as expression text.
func rebuild(s *Source) (string, error) {
	if s == nil {
		return "", nil
	}
	switch {
	case strings.EqualFold(s.Type, SourceAttribute):
		return "[" + s.Name + "]", nil
	case strings.EqualFold(s.Type, SourceConstant):
		return expression.Quote(s.Name), nil
	case !strings.EqualFold(s.Type, SourceFunction):
		return "", fmt.Errorf("unknown source type %q", s.Type)
	}
	if slices.Contains(compareOps, s.Name) {
		if len(s.Parameters) != 2 {
			return "", fmt.Errorf("comparison %q needs two parameters", s.Name)
		}
		left, err := rebuild(s.Parameters[0].Value)
		if err != nil {
			return "", err
		}
		right, err := rebuild(s.Parameters[1].Value)
		return left + " " + s.Name + " " + right, err
	}
	args := make([]string, 0, len(s.Parameters))
	params, variadic, _ := expression.Parameters(s.Name)
	fixed := len(params)
	if variadic {
		fixed--
	}
	for _, p := range s.Parameters {
		text, err := rebuild(p.Value)
		if err != nil {
			return "", err
		}
		// A key naming a later parameter means the ones between were omitted.
		if k := slices.IndexFunc(params, func(n string) bool { return strings.EqualFold(n, p.Key) }); k > len(args) && k < fixed {
			for len(args) < k {
				args = append(args, "")
			}
		}
		args = append(args, text)
	}
	return s.Name + "(" + strings.Join(args, ", ") + ")", nil
}

var compareOps = []string{"=", "<>", "<", "<=", ">", ">="}
