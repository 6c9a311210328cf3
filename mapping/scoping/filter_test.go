package scoping

import (
	"errors"
	"strings"
	"testing"
)

func TestOperators(t *testing.T) {
	type row struct {
		value any
		want  bool
	}
	cases := []struct {
		op, arg string
		rows    []row
	}{
		{"EQUALS", "Sales", []row{{"Sales", true}, {"sales", false}, {"Sales ", false}, {"", false}, {nil, false}, {[]string{"Sales"}, false}}},
		{"EQUALS", "42", []row{{int64(42), true}, {"42", true}, {float64(42), true}, {int64(7), false}}},
		{"EQUALS", "True", []row{{true, true}, {false, false}}},
		{"NOT EQUALS", "Sales", []row{{"Marketing", true}, {"sales", true}, {"Sales", false}, {"", false}, {nil, false}}},
		{"IS TRUE", "", []row{{true, true}, {false, false}, {"true", true}, {"TRUE", true}, {"yes", false}, {"", false}, {nil, false}, {int64(1), false}}},
		{"IS FALSE", "", []row{{false, true}, {true, false}, {"False", true}, {"no", false}, {nil, false}}},
		{"IS NULL", "", []row{{nil, true}, {"", true}, {[]string{}, true}, {"x", false}, {false, false}, {int64(0), false}, {[]string{"a"}, false}}},
		{"IS NOT NULL", "", []row{{"x", true}, {false, true}, {[]string{"a"}, true}, {nil, false}, {"", false}}},
		{"REGEX MATCH", "([1-9][0-9])", []row{{"42", true}, {"x99y", true}, {"7", false}, {"", false}, {nil, false}, {int64(15), true}}},
		{"REGEX MATCH", `.*\@domain.com`, []row{{"a@domain.com", true}, {"a@other.com", false}}},
		{"REGEX MATCH", "^abc$", []row{{"abc", true}, {"ABC", false}}},
		{"NOT REGEX MATCH", `.*\@domain.com`, []row{{"a@other.com", true}, {"a@domain.com", false}, {"", false}, {nil, false}}},
		{"NOT REGEX MATCH", "^CAS_([^{]*){", []row{{"CAS_x{", false}, {"user", true}}},
		{"Greater_Than", "1000000", []row{{"1000001", true}, {int64(1000001), true}, {"1000000", false}, {"999", false}, {" 2000000 ", true}, {"1e7", false}, {"abc", false}, {"", false}, {nil, false}, {1500000.0, true}, {1000000.5, false}}},
		{"Greater_Than", "-5", []row{{"-4", true}, {"-5", false}}},
		{"Greater_Than_OR_EQUALS", "10", []row{{"10", true}, {"11", true}, {"9", false}, {true, false}}},
		{"Includes", "ale", []row{{"Sales", true}, {"SALES", false}, {"", false}, {nil, false}}},
		{"ENDS_WITH", "@contoso.com", []row{{"a@contoso.com", true}, {"a@CONTOSO.com", false}, {"a@contoso.com.au", false}, {nil, false}}},
		{"&", "Sales,Marketing,Support", []row{{"Sales", true}, {"Market", true}, {"Engineering", false}, {"sales", false}, {"", false}, {nil, false}}},
		{"!&", "Sales,Marketing", []row{{"Engineering", true}, {"Sales", false}, {"", false}, {nil, false}}},
	}
	for _, tc := range cases {
		f, err := Compile([][]Condition{{{Attribute: "a", Operator: tc.op, Value: tc.arg}}})
		if err != nil {
			t.Fatalf("%s %q: %v", tc.op, tc.arg, err)
		}
		for _, r := range tc.rows {
			attrs := map[string]any{}
			if r.value != nil {
				attrs["a"] = r.value
			}
			if got := f.Match(attrs); got != r.want {
				t.Errorf("%#v %s %q = %v, want %v", r.value, tc.op, tc.arg, got, r.want)
			}
			if got := f.Explain(attrs); got.InScope != r.want || got.Groups[0].Clauses[0].Passed != r.want {
				t.Errorf("Explain(%#v %s %q) = %+v, want %v", r.value, tc.op, tc.arg, got, r.want)
			}
		}
	}
}

func TestParseOperator(t *testing.T) {
	for _, op := range Operators() {
		for _, spelling := range []string{op.String(), strings.ToLower(op.String()), strings.ToUpper(op.String()), " " + op.String() + " "} {
			if got, ok := ParseOperator(spelling); !ok || got != op {
				t.Errorf("ParseOperator(%q) = %v, %v; want %v", spelling, got, ok, op)
			}
		}
	}
	if got, ok := ParseOperator("not   regex  match"); !ok || got != NotRegexMatch {
		t.Errorf("white space not collapsed: %v %v", got, ok)
	}
	for _, bad := range []string{"", "EQUAL", "CONTAINS", "&&", "greater than"} {
		if _, ok := ParseOperator(bad); ok {
			t.Errorf("ParseOperator(%q) succeeded", bad)
		}
	}
	if len(Operators()) != 14 {
		t.Errorf("%d operators, want 14", len(Operators()))
	}
	if Operator(99).String() != "Operator(99)" {
		t.Errorf("unknown operator prints %q", Operator(99).String())
	}
}

func TestGroups(t *testing.T) {
	// (State = NY AND dept = Engineering AND 1000000 <= id <= 2000000 AND title present) OR dept = Sales
	f, err := Compile([][]Condition{
		{
			{Attribute: "state", Operator: "EQUALS", Value: "New York"},
			{Attribute: "dept", Operator: "EQUALS", Value: "Engineering"},
			{Attribute: "id", Operator: "Greater_Than_OR_EQUALS", Value: "1000000"},
			{Attribute: "id", Operator: "NOT REGEX MATCH", Value: "^(2[0-9]{6}[1-9]|[3-9][0-9]{6,})$"},
			{Attribute: "title", Operator: "IS NOT NULL"},
		},
		{{Attribute: "dept", Operator: "EQUALS", Value: "Sales"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		attrs  map[string]any
		want   bool
		groups []bool
	}{
		{map[string]any{"state": "New York", "dept": "Engineering", "id": "1500000", "title": "Dev"}, true, []bool{true, false}},
		{map[string]any{"state": "New York", "dept": "Engineering", "id": "1500000"}, false, []bool{false, false}},
		{map[string]any{"state": "Ohio", "dept": "Sales"}, true, []bool{false, true}},
		{map[string]any{}, false, []bool{false, false}},
	}
	for _, tc := range cases {
		if got := f.Match(tc.attrs); got != tc.want {
			t.Errorf("Match(%v) = %v", tc.attrs, got)
		}
		r := f.Explain(tc.attrs)
		if r.InScope != tc.want || len(r.Groups) != 2 || r.Groups[0].Passed != tc.groups[0] || r.Groups[1].Passed != tc.groups[1] {
			t.Errorf("Explain(%v) = %+v", tc.attrs, r)
		}
		if len(r.Groups[0].Clauses) != 5 {
			t.Errorf("Explain stops early: %+v", r.Groups[0])
		}
	}
	r := f.Explain(map[string]any{"state": "Ohio", "dept": []string{"a", "b"}})
	if r.Groups[0].Clauses[0].Actual != "Ohio" || r.Groups[0].Clauses[1].Actual != "a, b" || r.Groups[0].Clauses[4].Actual != "" {
		t.Errorf("Actual values wrong: %+v", r.Groups[0].Clauses)
	}
	if got := f.Attributes(); strings.Join(got, ",") != "dept,id,state,title" {
		t.Errorf("Attributes() = %v", got)
	}
}

func TestEmptyFilter(t *testing.T) {
	f, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Empty() || !f.Match(nil) || !f.Explain(nil).InScope {
		t.Error("an empty filter must admit everything")
	}
}

func TestCompileErrors(t *testing.T) {
	_, err := Compile([][]Condition{
		{
			{Attribute: "a", Operator: "EQUAL", Value: "x"},
			{Attribute: "b", Operator: "REGEX MATCH", Value: "(unclosed"},
			{Attribute: "c", Operator: "Greater_Than", Value: "ten"},
			{Attribute: "", Operator: "IS NULL"},
			{Attribute: "d", Operator: "EQUALS"},
			{Attribute: "e", Operator: "IS NULL", Value: "ignored"},
			{Attribute: "f", Operator: "NOT REGEX MATCH", Value: "(?=lookahead)"},
		},
		{},
	})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want Errors", err)
	}
	want := []string{
		`group 1 clause 1 operator: unknown operator "EQUAL"`,
		`group 1 clause 2 value: invalid regular expression: missing closing ): ` + "`(unclosed`",
		`group 1 clause 3 value: Greater_Than compares integers only; "ten" is not an integer`,
		`group 1 clause 4 attribute: attribute name is empty`,
		`group 1 clause 5 value: EQUALS needs a value`,
		`group 1 clause 7 value: invalid regular expression: invalid or unsupported Perl syntax: ` + "`(?=`",
		`group 2 clause 0 clauses: a filter group needs at least one clause`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if errs[i].Error() != w {
			t.Errorf("error %d = %q, want %q", i, errs[i].Error(), w)
		}
	}
}

// FuzzScope checks that compiling and evaluating any clause never panics
// and that Match and Explain agree.
func FuzzScope(f *testing.F) {
	for _, op := range Operators() {
		f.Add(op.String(), "Sales", "Sales")
	}
	f.Add("REGEX MATCH", "([1-9][0-9])", "42")
	f.Add("NOT REGEX MATCH", "^CAS_([^{]*){", "CAS_a{")
	f.Add("Greater_Than", "1000000", "1500000")
	f.Add("Greater_Than_OR_EQUALS", "-9223372036854775808", "9223372036854775807")
	f.Add("&", "a,b,c", "")
	f.Add("is true", "", "TRUE")
	f.Add("regex match", "(", "x")
	f.Fuzz(func(t *testing.T, op, value, actual string) {
		flt, err := Compile([][]Condition{{{Attribute: "a", Operator: op, Value: value}}, {{Attribute: "b", Operator: "IS NULL"}}})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Compile(%q, %q): bad error %v", op, value, err)
			}
			return
		}
		for _, attrs := range []map[string]any{
			{"a": actual, "b": "x"},
			{"a": []string{actual, value}, "b": "x"},
			{"a": true, "b": "x"},
			{"a": int64(len(actual)), "b": "x"},
			{"b": "x"},
			{},
		} {
			m := flt.Match(attrs)
			r := flt.Explain(attrs)
			if m != r.InScope || m != (r.Groups[0].Passed || r.Groups[1].Passed) {
				t.Fatalf("Match and Explain disagree for %s %q on %v", op, value, attrs)
			}
		}
	})
}
