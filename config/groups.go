package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
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

// validateFiles checks a source of one file per object type.
func (j *Job) validateFiles(add func(string, error)) {
	seen := map[connectors.ObjectType]int{}
	for i, f := range j.Source.Files {
		field := fmt.Sprintf("source.files[%d]", i)
		if err := f.Validate(); err != nil {
			// The file connector names its fields as a single source file's.
			add(field, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "source.file.", "")))
		}
		t := fileType(f)
		if k, dup := seen[t]; dup {
			add(field+".type", fmt.Errorf("source.files[%d] already holds %s objects; use one file per object type", k, t))
		}
		seen[t] = i
	}
}

func fileType(f file.Config) connectors.ObjectType {
	if f.Type == "" {
		return connectors.User
	}
	return f.Type
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
	if j.Source.File != nil || len(j.Source.Files) > 0 {
		hasGroups := false
		for _, f := range j.Source.Files {
			hasGroups = hasGroups || fileType(f) == connectors.Group
		}
		if !hasGroups {
			add("options.assignedGroups", fmt.Errorf("the source has no groups to be assigned through: add a file of type Group under source.files"))
		}
	}
}
