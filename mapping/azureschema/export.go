package azureschema

import (
	"encoding/json"
	"fmt"

	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/mapping/expression"
)

// ExportOptions names the rule Export writes.
type ExportOptions struct {
	// RuleName, SourceDirectory and TargetDirectory fill the rule's name,
	// sourceDirectoryName and targetDirectoryName.
	RuleName, SourceDirectory, TargetDirectory string
}

// Export writes object mappings as a schema document with one rule.
func Export(oms []mapping.ObjectMapping, opts ExportOptions) ([]byte, error) {
	s, err := FromMappings(oms, opts)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(s, "", "  ")
}

// FromMappings converts object mappings to a schema with one rule. It
// fails with Errors when an expression cannot be parsed.
func FromMappings(oms []mapping.ObjectMapping, opts ExportOptions) (*Schema, error) {
	var l errorList
	rule := Rule{
		Name:                opts.RuleName,
		SourceDirectoryName: opts.SourceDirectory,
		TargetDirectoryName: opts.TargetDirectory,
		ObjectMappings:      make([]ObjectMapping, 0, len(oms)),
	}
	enabled := true
	for oi, om := range oms {
		path := fmt.Sprintf("synchronizationRules[0].objectMappings[%d]", oi)
		out := ObjectMapping{
			Name:              om.Name,
			Enabled:           &enabled,
			FlowTypes:         "Add, Update, Delete",
			SourceObjectName:  om.SourceObject,
			TargetObjectName:  om.TargetObject,
			Metadata:          []KeyValue{},
			AttributeMappings: make([]AttributeMapping, 0, len(om.Attributes)),
		}
		if len(om.Scope.Groups) > 0 {
			out.Scope = &Filter{}
			for _, g := range om.Scope.Groups {
				fg := FilterGroup{Name: g.Name, Clauses: make([]FilterClause, 0, len(g.Clauses))}
				for _, c := range g.Clauses {
					fc := FilterClause{OperatorName: c.Operator, SourceOperandName: c.Attribute, TargetOperand: &FilterOperand{Values: []string{}}}
					if c.Value != "" {
						fc.TargetOperand.Values = []string{c.Value}
					}
					fg.Clauses = append(fg.Clauses, fc)
				}
				out.Scope.Groups = append(out.Scope.Groups, fg)
			}
		}
		for ai, am := range om.Attributes {
			out.AttributeMappings = append(out.AttributeMappings, exportAttribute(&l, fmt.Sprintf("%s.attributeMappings[%d]", path, ai), am))
		}
		rule.ObjectMappings = append(rule.ObjectMappings, out)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	return &Schema{SynchronizationRules: []Rule{rule}}, nil
}

func exportAttribute(l *errorList, path string, am mapping.AttributeMapping) AttributeMapping {
	out := AttributeMapping{
		TargetAttributeName: am.Target,
		FlowBehavior:        "FlowWhenChanged",
		FlowType:            "Always",
		MatchingPriority:    am.MatchingPriority,
	}
	if am.ApplyOn == mapping.ObjectCreationOnly {
		out.FlowType = "ObjectAddOnly"
	}
	if am.DefaultValue != "" {
		d := am.DefaultValue
		out.DefaultValue = &d
	}
	switch am.Type {
	case mapping.Direct:
		out.Source = attributeSource(am.Source)
	case mapping.Constant:
		out.Source = constantSource(am.Value)
	case mapping.Expression:
		tree, err := expression.Parse(am.Expression)
		if err != nil {
			l.add(path+".source", "expression %v", err)
			return out
		}
		out.Source = sourceTree(tree)
		out.Source.Expression = am.Expression
	}
	return out
}

func attributeSource(name string) *Source {
	return &Source{Expression: "[" + name + "]", Name: name, Type: SourceAttribute, Parameters: []Parameter{}}
}

func constantSource(value string) *Source {
	return &Source{Expression: expression.Quote(value), Name: value, Type: SourceConstant, Parameters: []Parameter{}}
}

// sourceTree converts a parsed expression to an attributeMappingSource.
// Omitted arguments are left out; the keys of the others say where they go.
func sourceTree(n expression.Node) *Source {
	switch n := n.(type) {
	case *expression.Attribute:
		return attributeSource(n.Name)
	case *expression.String:
		return constantSource(n.Value)
	case *expression.Number:
		return constantSource(n.Text)
	case *expression.Identifier:
		return constantSource(n.Name)
	case *expression.Compare:
		return &Source{Expression: expression.Format(n), Name: n.Op, Type: SourceFunction, Parameters: []Parameter{
			{Key: "left", Value: sourceTree(n.Left)},
			{Key: "right", Value: sourceTree(n.Right)},
		}}
	case *expression.Call:
		s := &Source{Expression: expression.Format(n), Name: n.Name, Type: SourceFunction, Parameters: []Parameter{}}
		params, _, _ := expression.Parameters(n.Name)
		for i, a := range n.Args {
			if _, omitted := a.(*expression.Omitted); omitted {
				continue
			}
			key := fmt.Sprintf("arg%d", i+1)
			if len(params) > 0 {
				key = params[min(i, len(params)-1)]
			}
			s.Parameters = append(s.Parameters, Parameter{Key: key, Value: sourceTree(a)})
		}
		return s
	}
	return constantSource("")
}
