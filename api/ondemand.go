package api

import (
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// OnDemandResult is what provisioning on demand did: the object's steps as
// Azure shows them (import, scope, match, action) and the provisioning log
// entries, which the job's history keeps like a cycle's.
type OnDemandResult struct {
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	Steps    []OnDemandStep        `json:"steps"`
	// Entries are the object's entry, then for a group its members'
	// entries and the entry of its membership changes; none when the
	// object could not be read.
	Entries []audit.Entry `json:"entries"`
	// MembersLeft counts members beyond the on-demand limit, left to the
	// next cycle.
	MembersLeft int `json:"membersLeft,omitempty"`
}

// Object returns the entry of the object asked for.
func (r OnDemandResult) Object() audit.Entry {
	if len(r.Entries) == 0 {
		return audit.Entry{}
	}
	return r.Entries[0]
}

// Members returns the entries of a group's members.
func (r OnDemandResult) Members() []audit.Entry {
	var out []audit.Entry
	for _, e := range r.Entries[min(1, len(r.Entries)):] {
		if e.ObjectType != string(connectors.Group) {
			out = append(out, e)
		}
	}
	return out
}

// Memberships returns the entry of a group's membership changes, if any.
func (r OnDemandResult) Memberships() *audit.Entry {
	for i := 1; i < len(r.Entries); i++ {
		if r.Entries[i].ObjectType == string(connectors.Group) {
			return &r.Entries[i]
		}
	}
	return nil
}

// OnDemandStep is one step of provisioning on demand.
type OnDemandStep struct {
	Name   string       `json:"name"`
	Status audit.Status `json:"status"`
	Detail string       `json:"detail,omitempty"`
	// Values are the attributes read (import) or the properties exported
	// (action), old → new.
	Values []audit.Property `json:"values,omitempty"`
	// Clauses are the scoping filter's clauses with their outcome.
	Clauses []OnDemandClause `json:"clauses,omitempty"`
}

// OnDemandClause is one scoping clause's outcome.
type OnDemandClause struct {
	Group     int    `json:"group"`
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Value     string `json:"value,omitempty"`
	Actual    string `json:"actual"`
	Passed    bool   `json:"passed"`
}

// Step names, in order.
const (
	StepImport = "Import"
	StepScope  = "Scope"
	StepMatch  = "Match"
	StepAction = "Action"
)
