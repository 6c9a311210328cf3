package mapping

import (
	"fmt"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/cputime"
)

const benchUsers = 100_000

// benchSource builds users shaped like a CSV export: string values only.
func benchSource() []connectors.Attributes {
	users := make([]connectors.Attributes, benchUsers)
	countries := []string{"USA", "NZ", "France"}
	for i := range users {
		users[i] = connectors.Attributes{
			"userPrincipalName": fmt.Sprintf("User.%d@Contoso.com", i),
			"mail":              fmt.Sprintf("user.%d@contoso.com", i),
			"givenName":         "Zoë",
			"surname":           fmt.Sprintf("Doe %d", i),
			"jobTitle":          "SENIOR ENGINEER",
			"telephoneNumber":   "+1 (999) 888-7777",
			"department":        []string{"Sales", "", "R&D"}[i%3],
			"country":           countries[i%len(countries)],
			"hireDate":          "2021-08-05",
			"employeeType":      []string{"E", "C", "X"}[i%3],
			"IsSoftDeleted":     i%10 == 0,
		}
	}
	return users
}

var benchScope = ScopingFilter{Groups: []FilterGroup{
	{Clauses: []Clause{{Attribute: "country", Operator: "NOT EQUALS", Value: "France"}, {Attribute: "mail", Operator: "ENDS_WITH", Value: "@contoso.com"}}},
	{Clauses: []Clause{{Attribute: "department", Operator: "REGEX MATCH", Value: "^R&D$"}}},
}}

func benchProgram(b *testing.B, attrs []AttributeMapping) *Program {
	b.Helper()
	p, err := Compile(ObjectMapping{Name: "bench", Scope: benchScope, Attributes: attrs}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func runMap(b *testing.B, p *Program) {
	users := benchSource()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := cputime.Process()
	for b.Loop() {
		for _, u := range users {
			if !p.InScope(u) {
				continue
			}
			if _, err := p.Map(u, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchUsers, "ns/user")
	// CPU time shows the cost on one core even when other processes
	// compete for the machine and stretch the wall time.
	if cpu1, ok := cputime.Process(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkMap100kUsers scopes and maps 100,000 users through thirteen
// mappings, twelve of them expressions; one op is the whole population.
func BenchmarkMap100kUsers(b *testing.B) {
	runMap(b, benchProgram(b, []AttributeMapping{
		{Target: "userName", Type: Expression, Expression: `ToLower([userPrincipalName])`, MatchingPriority: 1},
		{Target: "active", Type: Expression, Expression: `Switch([IsSoftDeleted], , "False", "True", "True", "False")`},
		{Target: "displayName", Type: Expression, Expression: `Join(" ", [givenName], [surname])`},
		{Target: "externalId", Type: Expression, Expression: `Replace([mail], "@contoso.com", , , "", , )`},
		{Target: `emails[type eq "work"].value`, Type: Expression, Expression: `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))`},
		{Target: "nickName", Type: Expression, Expression: `Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))`},
		{Target: "title", Type: Expression, Expression: `PCase([jobTitle])`},
		{Target: `phoneNumbers[type eq "work"].value`, Type: Expression, Expression: `Replace([telephoneNumber], , "[()\\s-]+", , "", , )`},
		{Target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Type: Expression, Expression: `IgnoreFlowIfNullOrEmpty([department])`},
		{Target: "addresses[type eq \"work\"].country", Type: Expression, Expression: `IIF([country]="USA", "US", [country])`},
		{Target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", Type: Expression, Expression: `FormatDateTime([hireDate], , "yyyy-MM-dd", "M/d/yyyy")`},
		{Target: "userType", Type: Expression, Expression: `Switch([employeeType], "Other", "E", "Employee", "C", "Contractor")`},
		{Target: "locale", Type: Constant, Value: "en-US"},
	}))
}

// BenchmarkMap100kUsersDirect is the baseline: the same population and
// scope with direct mappings only.
func BenchmarkMap100kUsersDirect(b *testing.B) {
	runMap(b, benchProgram(b, []AttributeMapping{
		{Target: "userName", Type: Direct, Source: "userPrincipalName", MatchingPriority: 1},
		{Target: "active", Type: Direct, Source: "IsSoftDeleted"},
		{Target: "displayName", Type: Direct, Source: "givenName"},
		{Target: "externalId", Type: Direct, Source: "mail"},
		{Target: `emails[type eq "work"].value`, Type: Direct, Source: "mail"},
		{Target: "nickName", Type: Direct, Source: "givenName"},
		{Target: "title", Type: Direct, Source: "jobTitle"},
		{Target: `phoneNumbers[type eq "work"].value`, Type: Direct, Source: "telephoneNumber"},
		{Target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Type: Direct, Source: "department"},
		{Target: "addresses[type eq \"work\"].country", Type: Direct, Source: "country"},
		{Target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", Type: Direct, Source: "hireDate"},
		{Target: "userType", Type: Direct, Source: "employeeType"},
		{Target: "locale", Type: Constant, Value: "en-US"},
	}))
}
