package scoping

import (
	"strconv"
	"strings"
)

// Operator is a scoping clause operator.
type Operator uint8

// The fourteen operators of Azure's scoping filters.
const (
	Equals Operator = iota + 1
	NotEquals
	IsTrue
	IsFalse
	IsNull
	IsNotNull
	RegexMatch
	NotRegexMatch
	GreaterThan
	GreaterThanOrEquals
	Includes
	EndsWith
	// In is Azure's "&": the attribute value occurs in the clause value.
	In
	// NotIn is Azure's "!&": the attribute value does not occur in the clause value.
	NotIn
)

// names holds each operator's canonical spelling, as Azure writes it.
var names = [...]string{
	Equals:              "EQUALS",
	NotEquals:           "NOT EQUALS",
	IsTrue:              "IS TRUE",
	IsFalse:             "IS FALSE",
	IsNull:              "IS NULL",
	IsNotNull:           "IS NOT NULL",
	RegexMatch:          "REGEX MATCH",
	NotRegexMatch:       "NOT REGEX MATCH",
	GreaterThan:         "Greater_Than",
	GreaterThanOrEquals: "Greater_Than_OR_EQUALS",
	Includes:            "Includes",
	EndsWith:            "ENDS_WITH",
	In:                  "&",
	NotIn:               "!&",
}

var byName = func() map[string]Operator {
	m := make(map[string]Operator, len(names))
	for op, n := range names {
		if n != "" {
			m[strings.ToUpper(n)] = Operator(op)
		}
	}
	return m
}()

// ParseOperator reads an operator name case-insensitively; runs of white
// space count as one space.
func ParseOperator(name string) (Operator, bool) {
	op, ok := byName[strings.ToUpper(strings.Join(strings.Fields(name), " "))]
	return op, ok
}

// Operators lists every operator in declaration order.
func Operators() []Operator {
	ops := make([]Operator, 0, len(names)-1)
	for op := Equals; op <= NotIn; op++ {
		ops = append(ops, op)
	}
	return ops
}

// String returns the operator's canonical Azure spelling.
func (o Operator) String() string {
	if int(o) < len(names) && names[o] != "" {
		return names[o]
	}
	return "Operator(" + strconv.Itoa(int(o)) + ")"
}

// Unary reports whether the operator takes no value.
func (o Operator) Unary() bool {
	switch o {
	case IsTrue, IsFalse, IsNull, IsNotNull:
		return true
	}
	return false
}
