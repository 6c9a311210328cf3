package expression

import (
	"encoding/json"
	"strings"
)

// App role functions read the appRoleAssignments attribute. Sources supply
// it as a list with one entry per assigned role, each either the role's
// value ("Admin") or a JSON object with "value" and optionally "id" and
// "displayName".

func prepRoles(p *prep) {
	if _, ok := p.call.Args[0].(*Attribute); !ok {
		p.errorAt(0, "argument must be an attribute, usually [appRoleAssignments]")
	}
}

// roleValues returns the role value of each assignment, without duplicates.
func roleValues(v Value) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range v.Values() {
		r := roleValue(s)
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func roleValue(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return s
	}
	var role struct {
		Value       string `json:"value"`
		DisplayName string `json:"displayName"`
	}
	if json.Unmarshal([]byte(s), &role) != nil {
		return s
	}
	if role.Value != "" {
		return role.Value
	}
	return role.DisplayName
}

// evalSingleAppRoleAssignment returns one role as a string: the first
// assignment when, against Azure's advice, there are several.
func evalSingleAppRoleAssignment(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	roles := roleValues(v)
	if len(roles) == 0 {
		return Value{}, nil
	}
	return StringValue(roles[0]), nil
}

// evalAppRoleAssignments returns every role. AppRoleAssignmentsComplex and
// AssertiveAppRoleAssignmentsComplex compute the same values; they differ
// in how the target is updated (add only, or replace).
func evalAppRoleAssignments(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	return ListValue(roleValues(v)), nil
}
