package engine

import (
	"fmt"

	"github.com/openprovisioning/provisioner/mapping"
)

// Trace records how one object went through scope and matching, for
// provisioning on demand to explain.
type Trace struct {
	// Scope is the scoping filter's outcome; nil when it was not asked.
	Scope *mapping.ScopeResult
	// Unscoped says why the object is out of scope, disabled or unassigned.
	Unscoped string
	// Match says what each matching attribute found.
	Match []string
}

func (t *Trace) scoped(r mapping.ScopeResult) {
	if t != nil {
		t.Scope = &r
	}
}

func (t *Trace) matched(format string, args ...any) {
	if t != nil {
		t.Match = append(t.Match, fmt.Sprintf(format, args...))
	}
}
