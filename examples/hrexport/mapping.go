package hrexport

import "github.com/openprovisioning/provisioner/mapping"

// EnterpriseSchema is SCIM's enterprise user extension, which the mapping
// writes the department and employee number into.
const EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// UserMapping is how the export is provisioned as SCIM users, as the demo
// job (examples/hr-to-sampleapp.yaml) has it: employees only, matched by
// userName, then by externalId. The bench and the fetch benchmarks run it,
// so that both measure the same work.
func UserMapping() mapping.ObjectMapping {
	direct := func(target, source string, priority int) mapping.AttributeMapping {
		return mapping.AttributeMapping{Target: target, Type: mapping.Direct, Source: source, MatchingPriority: priority}
	}
	return mapping.ObjectMapping{
		Name: "users", SourceObject: "User", TargetObject: "User",
		Scope: mapping.ScopingFilter{Groups: []mapping.FilterGroup{{Clauses: []mapping.Clause{
			{Attribute: "employeeType", Operator: "EQUALS", Value: "Employee"},
		}}}},
		Attributes: []mapping.AttributeMapping{
			direct("userName", "userName", 1),
			direct("externalId", "employeeId", 2),
			direct("name.givenName", "givenName", 0),
			direct("name.familyName", "surname", 0),
			direct("displayName", "displayName", 0),
			direct(`emails[type eq "work"].value`, "email", 0),
			direct("title", "jobTitle", 0),
			direct(EnterpriseSchema+":department", "department", 0),
			direct(EnterpriseSchema+":employeeNumber", "employeeId", 0),
		},
	}
}
