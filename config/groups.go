package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// ObjectIndex returns the index of the object mapping for a source object
// type; there is at most one per type.
func (j *Job) ObjectIndex(t connectors.ObjectType) (int, bool) {
	for i, o := range j.Objects {
		if connectors.ObjectType(o.SourceObject) == t {
			return i, true
		}
	}
	return 0, false
}

// ManagesGroups reports whether the job provisions groups, and so their
// memberships.
func (j *Job) ManagesGroups() bool {
	_, ok := j.ObjectIndex(connectors.Group)
	return ok
}

// ReadsGroups reports whether cycles read the source's groups: to
// provision them, or to know who is assigned.
func (j *Job) ReadsGroups() bool {
	return j.ManagesGroups() || len(j.Options.AssignedGroups) > 0
}

// ReferenceTypes returns the source object types with reference mappings,
// in the order of Objects.
func (j *Job) ReferenceTypes() []connectors.ObjectType {
	var out []connectors.ObjectType
	for _, o := range j.Objects {
		for _, am := range o.Attributes {
			if am.Reference != "" {
				out = append(out, connectors.ObjectType(o.SourceObject))
				break
			}
		}
	}
	return out
}

// References returns an object type's reference mappings: target
// attribute → the object type referenced.
func (j *Job) References(t connectors.ObjectType) map[string]connectors.ObjectType {
	i, ok := j.ObjectIndex(t)
	if !ok {
		return nil
	}
	var out map[string]connectors.ObjectType
	for _, am := range j.Objects[i].Attributes {
		if am.Reference != "" {
			if out == nil {
				out = map[string]connectors.ObjectType{}
			}
			out[am.Target] = connectors.ObjectType(am.Reference)
		}
	}
	return out
}

// validateGroups checks group objects, reference mappings and assignment.
func (j *Job) validateGroups(add func(string, error)) {
	types := map[string]int{}
	for i, o := range j.Objects {
		field := fmt.Sprintf("objects[%d]", i)
		if k, dup := types[o.SourceObject]; dup {
			add(field+".sourceObject", fmt.Errorf("objects[%d] already maps %s objects", k, o.SourceObject))
		}
		types[o.SourceObject] = i
	}
	for i, o := range j.Objects {
		field := fmt.Sprintf("objects[%d]", i)
		for k, am := range o.Attributes {
			af := fmt.Sprintf("%s.attributes[%d]", field, k)
			if connectors.ObjectType(o.SourceObject) == connectors.Group && strings.EqualFold(am.Target, "members") {
				add(af+".target", fmt.Errorf("group members are not mapped: the job keeps them in step with the source's memberships"))
			}
			if am.Reference == "" {
				continue
			}
			if _, ok := types[am.Reference]; !ok {
				add(af+".reference", fmt.Errorf("%q is not an object type this job provisions (map it in objects)", am.Reference))
			}
			if am.MatchingPriority > 0 {
				add(af+".matchingPriority", fmt.Errorf("a reference cannot be a matching attribute: its target value exists only after the referenced object"))
			}
		}
	}
	if len(j.Options.AssignedGroups) == 0 {
		return
	}
	if slices.Contains(j.Options.AssignedGroups, "") {
		add("options.assignedGroups", fmt.Errorf("a group name or ID cannot be empty"))
	}
	if types, ok := j.sourceTypes(); ok && !slices.Contains(types, connectors.Group) {
		add("options.assignedGroups", fmt.Errorf("the source has no groups to be assigned through: its configuration holds only %v objects", types))
	}
}
