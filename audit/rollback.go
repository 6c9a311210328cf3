package audit

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Restore is what rolling one target object back does: set properties back
// to the values they had before the rollback point, re-enable an account
// disabled since, or disable an account created since (disabling, unlike
// deleting, can itself be undone).
type Restore struct {
	ObjectType  string `json:"objectType"`
	SourceID    string `json:"sourceId"`
	TargetID    string `json:"targetId"`
	DisplayName string `json:"displayName,omitempty"`
	// Action is Update (properties and/or Enable) or Disable.
	Action Action `json:"action"`
	// Enable re-enables an account disabled since the rollback point.
	Enable bool `json:"enable,omitempty"`
	// Properties go from Old (the value last pushed) back to New.
	Properties []Property `json:"properties,omitempty"`
	// Unrestorable says what of the object cannot be rolled back, and why.
	Unrestorable []string `json:"unrestorable,omitempty"`
}

// RollbackPlan is every object changed since a rollback point, and what
// restoring it does.
type RollbackPlan struct {
	// Since is the time of the rollback point: the start of a cycle.
	Since    time.Time `json:"since"`
	Restores []Restore `json:"restores"`
}

// PlanRollback computes, from a job's log, how to return each target
// object the job changed from since on to its last known state before.
// Only successful changes that were pushed count. A value hidden by
// Redact() or logged as its Summary and a deleted object cannot be
// restored from the log: they are listed as unrestorable, as are group
// memberships, which the next cycle recomputes from the source.
func PlanRollback(entries []Entry, since time.Time) RollbackPlan {
	sorted := slices.Clone(entries)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	type key struct{ typ, id string }
	var order []key
	byObject := map[key]*objectChanges{}
	for _, e := range sorted {
		if e.Time.Before(since) || e.Status != Success || e.DryRun || e.TargetID == "" {
			continue
		}
		switch e.Action {
		case Create, Update, Disable, Delete:
		default:
			continue
		}
		k := key{e.ObjectType, e.SourceID}
		oc := byObject[k]
		if oc == nil {
			oc = &objectChanges{first: map[string]Property{}, last: map[string]string{}}
			byObject[k] = oc
			order = append(order, k)
		}
		oc.add(e)
	}
	plan := RollbackPlan{Since: since}
	for _, k := range order {
		if r, ok := byObject[k].restore(); ok {
			plan.Restores = append(plan.Restores, r)
		}
	}
	return plan
}

// objectChanges gathers one object's changes since the rollback point.
type objectChanges struct {
	r       Restore
	created bool
	deleted bool
	// first holds each property's earliest change (its Old is the value
	// before the rollback point); last its latest value.
	first map[string]Property
	names []string
	last  map[string]string
}

func (oc *objectChanges) add(e Entry) {
	oc.r.ObjectType, oc.r.SourceID, oc.r.TargetID = e.ObjectType, e.SourceID, e.TargetID
	if e.DisplayName != "" {
		oc.r.DisplayName = e.DisplayName
	}
	switch e.Action {
	case Create:
		oc.created = true
	case Delete:
		oc.deleted = true
	}
	for _, p := range e.Modified {
		if _, seen := oc.first[p.Name]; !seen {
			oc.first[p.Name] = p
			oc.names = append(oc.names, p.Name)
		}
		oc.last[p.Name] = p.New
	}
}

func (oc *objectChanges) restore() (Restore, bool) {
	r := oc.r
	switch {
	case oc.created && oc.deleted:
		return r, false // it did not exist before, and does not now
	case oc.deleted:
		r.Unrestorable = append(r.Unrestorable, "deleted since: the log does not hold the whole object to create it again")
		return r, true
	case oc.created:
		r.Action = Disable
		return r, true
	}
	r.Action = Update
	for _, name := range oc.names {
		before, now := oc.first[name].Old, oc.last[name]
		switch {
		case before == now:
		case name == "members":
			r.Unrestorable = append(r.Unrestorable, "members: the next cycle sets them from the source")
		case before == Redacted || now == Redacted:
			r.Unrestorable = append(r.Unrestorable, name+": the value is hidden by Redact()")
		case IsSummary(before) || IsSummary(now):
			r.Unrestorable = append(r.Unrestorable, name+": the log holds only the value's length and hash")
		case name == "active":
			if before == "true" && now == "false" {
				r.Enable = true
			} else if before == "false" && now == "true" {
				r.Action = Disable
			}
		default:
			r.Properties = append(r.Properties, Property{Name: name, Old: now, New: before})
		}
	}
	if !r.Enable && r.Action == Update && len(r.Properties) == 0 && len(r.Unrestorable) == 0 {
		return r, false
	}
	return r, true
}

// Describe is a one-line account of a restore, for operators.
func (r Restore) Describe() string {
	var parts []string
	switch {
	case r.Action == Disable && len(r.Properties) == 0 && !r.Enable:
		parts = append(parts, "disable")
	case r.Action == Disable:
		parts = append(parts, "restore values, then disable")
	case r.Enable:
		parts = append(parts, "re-enable")
	}
	for _, p := range r.Properties {
		parts = append(parts, p.Name+": "+quote(p.Old)+" → "+quote(p.New))
	}
	for _, u := range r.Unrestorable {
		parts = append(parts, "not restored: "+u)
	}
	return strings.Join(parts, "; ")
}

func quote(s string) string { return `"` + s + `"` }
