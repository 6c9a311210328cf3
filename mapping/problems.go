package mapping

import (
	"fmt"
	"strings"
)

// Problem is one invalid piece of configuration.
type Problem struct {
	// Mapping names the attribute mapping (by target attribute) or, for
	// problems of the whole object mapping and its scope, the object mapping.
	Mapping string
	// Field names the setting at fault: "expression", "source", "target",
	// "scope group 1 clause 2 operator"…
	Field string
	// Position is the 1-based character position in an expression, or 0.
	Position int
	Message  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Mapping != "" {
		fmt.Fprintf(&b, "mapping %q: ", p.Mapping)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		if p.Position > 0 {
			fmt.Fprintf(&b, " column %d", p.Position)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem Compile found.
type Problems []Problem

// Error lists the problems, one per line, e.g.
// `mapping "userName": expression column 12: unknown function "Jion"`.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// EvalError is a mapping that failed for one object at run time, such as
// a date expression given text that is not a date. The object fails alone.
type EvalError struct {
	// Mapping is the target attribute of the failing mapping.
	Mapping string
	Message string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("mapping %q: %s", e.Mapping, e.Message)
}
