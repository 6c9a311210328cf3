package engine

import (
	"context"
	"sync"

	"github.com/openprovisioning/provisioner/connectors"
)

// DryRunID is the target ID a dry run's create gives the object.
const DryRunID = "(dry run)"

// Push is a call a dry run would have made to its target.
type Push struct {
	Call       string // Create, Update, SetActive, Delete, AddMembers, RemoveMembers
	Type       connectors.ObjectType
	TargetID   string
	Attributes connectors.Attributes
	Changes    []connectors.Change
	Active     bool
	Members    []string
}

// DryRunTarget reads from a target and pushes nothing: it records the
// pushes it was asked for instead. It holds group members when the
// target does.
type DryRunTarget struct {
	connectors.Target

	mu     sync.Mutex
	pushes []Push
}

// dryRunGroupTarget is a DryRunTarget over a target that holds groups.
type dryRunGroupTarget struct{ *DryRunTarget }

// DryRun wraps t so that nothing is pushed to it.
func DryRun(t connectors.Target) connectors.Target {
	d := &DryRunTarget{Target: t}
	if _, ok := t.(connectors.MembershipTarget); ok {
		return dryRunGroupTarget{d}
	}
	return d
}

// Pushes returns the pushes the dry run recorded of target t, in order;
// nil when t is no dry run.
func Pushes(t connectors.Target) []Push {
	var d *DryRunTarget
	switch x := t.(type) {
	case *DryRunTarget:
		d = x
	case dryRunGroupTarget:
		d = x.DryRunTarget
	default:
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Push(nil), d.pushes...)
}

func (d *DryRunTarget) record(p Push) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pushes = append(d.pushes, p)
}

// Create records the create and answers DryRunID.
func (d *DryRunTarget) Create(_ context.Context, t connectors.ObjectType, attrs connectors.Attributes) (string, error) {
	d.record(Push{Call: "Create", Type: t, Attributes: attrs})
	return DryRunID, nil
}

// Update records the changes.
func (d *DryRunTarget) Update(_ context.Context, t connectors.ObjectType, id string, changes []connectors.Change) error {
	d.record(Push{Call: "Update", Type: t, TargetID: id, Changes: changes})
	return nil
}

// SetActive records the change of state.
func (d *DryRunTarget) SetActive(_ context.Context, t connectors.ObjectType, id string, active bool) error {
	d.record(Push{Call: "SetActive", Type: t, TargetID: id, Active: active})
	return nil
}

// Delete records the delete.
func (d *DryRunTarget) Delete(_ context.Context, t connectors.ObjectType, id string) error {
	d.record(Push{Call: "Delete", Type: t, TargetID: id})
	return nil
}

// Close leaves the target open: its owner closes it.
func (d *DryRunTarget) Close() error { return nil }

// AddMembers records the members added.
func (g dryRunGroupTarget) AddMembers(_ context.Context, groupID string, ids []string) error {
	g.record(Push{Call: "AddMembers", Type: connectors.Group, TargetID: groupID, Members: ids})
	return nil
}

// RemoveMembers records the members removed.
func (g dryRunGroupTarget) RemoveMembers(_ context.Context, groupID string, ids []string) error {
	g.record(Push{Call: "RemoveMembers", Type: connectors.Group, TargetID: groupID, Members: ids})
	return nil
}
