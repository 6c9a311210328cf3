package mapping

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileProblems(t *testing.T) {
	om := ObjectMapping{
		Name: "users",
		Scope: ScopingFilter{Groups: []FilterGroup{{Clauses: []Clause{
			{Attribute: "department", Operator: "EQUAL", Value: "Sales"},
			{Attribute: "upn", Operator: "REGEX MATCH", Value: "(["},
			{Attribute: "costCenter", Operator: "IS NULL"},
		}}}},
		Attributes: []AttributeMapping{
			{Target: "userName", Type: Expression, Expression: `Jion(",", [upn])`},
			{Target: "displayName", Type: Direct, Source: "displayname"},
			{Target: "title", Type: Direct},
			{Target: "nick", Type: "Formula"},
			{Target: "mail", Type: Expression, Expression: `Replace([mail], , "(?<x", , "", , )`},
			{Target: "mail", Type: Constant, Value: "x"},
			{Target: "emails[type eq work].value", Type: Direct, Source: "upn"},
			{Target: "locale", Type: Constant, Value: "en", ApplyOn: "Sometimes"},
			{Target: "", Type: Constant, Value: "x"},
			{Target: "x", Type: Expression},
			{Target: "alias", Type: Expression, Expression: `Left([upn], 3`},
			{Target: "upn", Type: Expression, Expression: `SelectUniqueValue([upn], [mail])`, MatchingPriority: -1},
		},
	}
	_, err := Compile(om, Options{SourceAttributes: []string{"upn", "mail", "displayName", "department"}})
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("got %v, want *Problems", err)
	}
	want := []string{
		`mapping "userName": expression column 1: unknown function "Jion"`,
		`mapping "displayName": source: unknown source attribute "displayname"`,
		`mapping "title": source: a Direct mapping needs a source attribute`,
		`mapping "nick": type: unknown mapping type "Formula" (want Direct, Constant, Expression or None)`,
		`mapping "mail": expression column 19: Replace: invalid regular expression: invalid named capture: ` + "`(?<x`",
		`mapping "mail": target: target attribute is mapped more than once`,
		`mapping "emails[type eq work].value": target: invalid target attribute path: value filter: work is not a quoted string, number, true, false or null`,
		`mapping "locale": applyOn: unknown applyOn "Sometimes" (want Always or ObjectCreationOnly)`,
		`mapping "#9": target: target attribute is empty`,
		`mapping "x": expression: an Expression mapping needs an expression`,
		`mapping "alias": expression column 14: Left( opened at column 5 is not closed`,
		`mapping "upn": matchingPriority: matching priority cannot be negative`,
		`mapping "upn": applyOn: SelectUniqueValue needs applyOn ObjectCreationOnly`,
		`mapping "users": matchingPriority: no attribute mapping is a matching attribute; give at least one a matchingPriority of 1 or more`,
		`mapping "users": scope group 1 clause 3 attribute: unknown source attribute "costCenter"`,
		`mapping "users": scope group 1 clause 1 operator: unknown operator "EQUAL"`,
		`mapping "users": scope group 1 clause 2 value: invalid regular expression: missing closing ]: ` + "`[`",
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if p := (*ps)[0]; p.Mapping != "userName" || p.Field != "expression" || p.Position != 1 || p.Message != `unknown function "Jion"` {
		t.Errorf("first problem = %+v", p)
	}
}

func TestCompileMatchingProblems(t *testing.T) {
	cases := []struct {
		attrs []AttributeMapping
		want  string
	}{
		{[]AttributeMapping{
			{Target: "a", Type: Direct, Source: "a", MatchingPriority: 1},
			{Target: "b", Type: Direct, Source: "b", MatchingPriority: 1},
		}, `mapping "b": matchingPriority: matching priority 1 is also used by "a"`},
		{[]AttributeMapping{
			{Target: "a", Type: None, DefaultValue: "x", MatchingPriority: 1},
		}, `mapping "a": matchingPriority: a mapping of type None has no value to match on`},
		{[]AttributeMapping{
			{Target: "a", Type: Direct, Source: "a", MatchingPriority: 1},
			{Target: "b", Type: Expression, Expression: `SelectUniqueValue([a], [b])`, ApplyOn: ObjectCreationOnly, MatchingPriority: 2},
		}, `mapping "b": matchingPriority: SelectUniqueValue cannot be used on a matching attribute`},
	}
	for _, tc := range cases {
		_, err := Compile(ObjectMapping{Name: "m", Attributes: tc.attrs}, Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

func TestCompileLenientSpelling(t *testing.T) {
	p, err := Compile(ObjectMapping{Attributes: []AttributeMapping{
		{Target: "a", Type: "direct", Source: "a", MatchingPriority: 1},
		{Target: "b", Source: "b"},
		{Target: "c", Expression: `ToUpper([c])`, ApplyOn: "objectaddonly"},
		{Target: "d", Type: "CONSTANT", Value: "x", ApplyOn: "always"},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Map(map[string]any{"a": "1", "b": "2", "c": "three"}, true)
	if err != nil || got["a"] != "1" || got["b"] != "2" || got["c"] != "THREE" || got["d"] != "x" {
		t.Errorf("got %v, %v", got, err)
	}
	if got, _ := p.Map(map[string]any{"c": "three"}, false); got["c"] != nil {
		t.Errorf("objectaddonly applied on update: %v", got)
	}
	if p.Name() != " to " {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestSoftDeletedAlwaysKnown(t *testing.T) {
	_, err := Compile(ObjectMapping{Attributes: []AttributeMapping{
		{Target: "userName", Type: Direct, Source: "upn", MatchingPriority: 1},
		{Target: "active", Type: Expression, Expression: `Not([IsSoftDeleted])`},
	}}, Options{SourceAttributes: []string{"upn"}})
	if err != nil {
		t.Fatal(err)
	}
}
