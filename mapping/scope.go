package mapping

import (
	"github.com/openprovisioning/provisioner/connectors"
)

// ScopeResult is a scope decision with each clause's outcome, for the
// "determine if in scope" step of provision on demand.
type ScopeResult struct {
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
	Clause Clause
	Passed bool
	// Actual is the attribute's value as text ("" when null; lists joined
	// with ", ").
	Actual string
}

// Scope evaluates the scoping filter and explains every clause. Objects
// are in scope when the filter has no groups or any group passes.
func (p *Program) Scope(attrs connectors.Attributes) ScopeResult {
	r := p.scope.Explain(attrs)
	out := ScopeResult{InScope: r.InScope, Groups: make([]GroupResult, len(r.Groups))}
	for gi, g := range r.Groups {
		gr := GroupResult{Passed: g.Passed, Clauses: make([]ClauseResult, len(g.Clauses))}
		for ci, c := range g.Clauses {
			gr.Clauses[ci] = ClauseResult{Clause: p.clauses[gi][ci], Passed: c.Passed, Actual: c.Actual}
		}
		out.Groups[gi] = gr
	}
	return out
}

// InScope is Scope without the explanation: it stops at the first passing
// group and allocates nothing.
func (p *Program) InScope(attrs connectors.Attributes) bool {
	return p.scope.Match(attrs)
}
