// Package scoping evaluates Azure-style scoping filters: a filter is a list
// of groups of which at least one must pass, and a group passes when all its
// clauses pass. An empty filter admits every object.
//
// Clauses follow Azure's documented semantics:
//   - every operator except IS NULL and IS NOT NULL fails on a null or empty
//     value (including NOT EQUALS and NOT REGEX MATCH);
//   - EQUALS, NOT EQUALS, Includes, ENDS_WITH and the regex operators are
//     case-sensitive;
//   - Greater_Than and Greater_Than_OR_EQUALS compare integers only: a value
//     that is not an integer fails;
//   - IS TRUE and IS FALSE accept booleans and the strings "true"/"false" in
//     any case;
//   - "&" passes when the attribute value occurs in the clause value
//     ("exists in the input string value"), "!&" when it does not;
//   - multi-valued attributes are not supported by Azure: a multi-valued
//     value fails every operator except IS NULL and IS NOT NULL.
//
// Regular expressions use Go's RE2 syntax, which covers the .NET constructs
// scoping filters normally use (classes, groups, named groups, anchors,
// quantifiers) but not lookaround or backreferences; such patterns are
// rejected when the filter is compiled.
package scoping

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/mapping/internal/azvalue"
)

// Condition is one clause as configured.
type Condition struct {
	Attribute string
	Operator  string
	Value     string
}

// Filter is a compiled scoping filter, safe for concurrent use.
type Filter struct {
	groups [][]clause
}

type clause struct {
	attr  string
	op    Operator
	value string
	n     int64
	re    *regexp.Regexp
}

// Error is one invalid clause. Group and Clause are 1-based.
type Error struct {
	Group, Clause int
	// Field is "attribute", "operator" or "value".
	Field   string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("group %d clause %d %s: %s", e.Group, e.Clause, e.Field, e.Message)
}

// Errors is every invalid clause of a filter.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Compile checks and compiles a filter given as groups of conditions. On
// invalid clauses it returns Errors listing all of them.
func Compile(groups [][]Condition) (*Filter, error) {
	f := &Filter{groups: make([][]clause, len(groups))}
	var errs Errors
	for gi, g := range groups {
		if len(g) == 0 {
			errs = append(errs, &Error{Group: gi + 1, Clause: 0, Field: "clauses", Message: "a filter group needs at least one clause"})
		}
		f.groups[gi] = make([]clause, len(g))
		for ci, c := range g {
			cl, err := compileClause(c)
			if err != nil {
				err.Group, err.Clause = gi+1, ci+1
				errs = append(errs, err)
			}
			f.groups[gi][ci] = cl
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

func compileClause(c Condition) (clause, *Error) {
	cl := clause{attr: c.Attribute, value: c.Value}
	if strings.TrimSpace(c.Attribute) == "" {
		return cl, &Error{Field: "attribute", Message: "attribute name is empty"}
	}
	op, ok := ParseOperator(c.Operator)
	if !ok {
		return cl, &Error{Field: "operator", Message: fmt.Sprintf("unknown operator %q", c.Operator)}
	}
	cl.op = op
	if op.Unary() {
		return cl, nil
	}
	if c.Value == "" {
		return cl, &Error{Field: "value", Message: fmt.Sprintf("%s needs a value", op)}
	}
	switch op {
	case GreaterThan, GreaterThanOrEquals:
		n, err := strconv.ParseInt(strings.TrimSpace(c.Value), 10, 64)
		if err != nil {
			return cl, &Error{Field: "value", Message: fmt.Sprintf("%s compares integers only; %q is not an integer", op, c.Value)}
		}
		cl.n = n
	case RegexMatch, NotRegexMatch:
		re, err := regexp.Compile(c.Value)
		if err != nil {
			return cl, &Error{Field: "value", Message: "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
		}
		cl.re = re
	}
	return cl, nil
}

// Attributes returns the attributes the filter reads, sorted and unique.
func (f *Filter) Attributes() []string {
	var out []string
	for _, g := range f.groups {
		for _, c := range g {
			out = append(out, c.attr)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Empty reports whether the filter has no groups (every object is in scope).
func (f *Filter) Empty() bool { return len(f.groups) == 0 }

// Match reports whether an object with the given attributes is in scope.
func (f *Filter) Match(attrs map[string]any) bool {
	if len(f.groups) == 0 {
		return true
	}
	for _, g := range f.groups {
		if groupPasses(g, attrs) {
			return true
		}
	}
	return false
}

func groupPasses(g []clause, attrs map[string]any) bool {
	for i := range g {
		if !g[i].eval(attrs[g[i].attr]) {
			return false
		}
	}
	return true
}

// Result explains a scope decision clause by clause.
type Result struct {
	InScope bool
	Groups  []GroupResult
}

// GroupResult is one filter group's outcome.
type GroupResult struct {
	Passed  bool
	Clauses []ClauseResult
}

// ClauseResult is one clause's outcome and the value it saw.
type ClauseResult struct {
	Passed bool
	// Actual is the attribute's value as text ("" when null).
	Actual string
}

// Explain evaluates every clause, including those after a failing one, so
// the whole decision can be shown.
func (f *Filter) Explain(attrs map[string]any) Result {
	r := Result{InScope: len(f.groups) == 0, Groups: make([]GroupResult, len(f.groups))}
	for gi, g := range f.groups {
		gr := GroupResult{Passed: true, Clauses: make([]ClauseResult, len(g))}
		for ci := range g {
			v := attrs[g[ci].attr]
			ok := g[ci].eval(v)
			gr.Clauses[ci] = ClauseResult{Passed: ok, Actual: azvalue.Display(v)}
			gr.Passed = gr.Passed && ok
		}
		r.Groups[gi] = gr
		r.InScope = r.InScope || gr.Passed
	}
	return r
}

func (c *clause) eval(v any) bool {
	switch c.op {
	case IsNull:
		return azvalue.IsEmpty(v)
	case IsNotNull:
		return !azvalue.IsEmpty(v)
	}
	if azvalue.IsEmpty(v) || azvalue.IsMulti(v) {
		return false
	}
	switch c.op {
	case IsTrue, IsFalse:
		b, ok := azvalue.Bool(v)
		return ok && b == (c.op == IsTrue)
	case GreaterThan:
		n, ok := azvalue.Int(v)
		return ok && n > c.n
	case GreaterThanOrEquals:
		n, ok := azvalue.Int(v)
		return ok && n >= c.n
	}
	s, ok := azvalue.Text(v)
	if !ok {
		return false
	}
	switch c.op {
	case Equals:
		return s == c.value
	case NotEquals:
		return s != c.value
	case RegexMatch:
		return c.re.MatchString(s)
	case NotRegexMatch:
		return !c.re.MatchString(s)
	case Includes:
		return strings.Contains(s, c.value)
	case EndsWith:
		return strings.HasSuffix(s, c.value)
	case In:
		return strings.Contains(c.value, s)
	case NotIn:
		return !strings.Contains(c.value, s)
	}
	return false
}
