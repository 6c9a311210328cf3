package azureschema

import (
	"fmt"
	"strings"
)

// Error is one part of a schema that cannot be imported or exported.
type Error struct {
	// Path locates the part in the schema JSON, such as
	// synchronizationRules[0].objectMappings[1].attributeMappings[2].flowType.
	Path    string
	Message string
}

func (e *Error) Error() string { return e.Path + ": " + e.Message }

// Errors is every problem found.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

type errorList struct{ errs Errors }

func (l *errorList) add(path, format string, args ...any) {
	l.errs = append(l.errs, &Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs
}
