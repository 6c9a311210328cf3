package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

func mustCompile(t *testing.T, om ObjectMapping, opts Options) *Program {
	t.Helper()
	p, err := Compile(om, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func userMapping(attrs ...AttributeMapping) ObjectMapping {
	return ObjectMapping{
		Name: "users", SourceObject: "User", TargetObject: "User",
		Attributes: append([]AttributeMapping{{Target: "userName", Type: Direct, Source: "userPrincipalName", MatchingPriority: 1}}, attrs...),
	}
}

func TestMapRules(t *testing.T) {
	const dept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	p := mustCompile(t, userMapping(
		AttributeMapping{Target: "externalId", Type: Direct, Source: "employeeId", ApplyOn: ObjectCreationOnly},
		AttributeMapping{Target: "title", Type: Direct, Source: "jobTitle", DefaultValue: "Staff"},
		AttributeMapping{Target: "locale", Type: Constant, Value: "en-US"},
		AttributeMapping{Target: "nickName", Type: None, DefaultValue: "n/a"},
		AttributeMapping{Target: "preferredLanguage", Type: None},
		AttributeMapping{Target: dept, Type: Expression, Expression: `IgnoreFlowIfNullOrEmpty([department])`},
		AttributeMapping{Target: `emails[type eq "work"].value`, Type: Expression, Expression: `ToLower([mail])`, DefaultValue: "none@example.com"},
		AttributeMapping{Target: "active", Type: Expression, Expression: `Switch([IsSoftDeleted], , "False", "True", "True", "False")`},
		AttributeMapping{Target: "displayName", Type: Expression, Expression: `Join(" ", [givenName], [surname])`},
		AttributeMapping{Target: "proxies", Type: Direct, Source: "proxyAddresses"},
		AttributeMapping{Target: "costCenter", Type: Expression, Expression: `IgnoreFlowIfNullOrEmpty([costCenter])`, DefaultValue: "0000"},
	), Options{})

	full := connectors.Attributes{
		"userPrincipalName": "jd@contoso.com", "employeeId": "E1", "jobTitle": "Engineer", "department": "R&D",
		"mail": "JD@Contoso.com", "IsSoftDeleted": false, "givenName": "John", "surname": "Doe",
		"proxyAddresses": []string{"SMTP:jd@contoso.com"}, "costCenter": "42",
	}
	sparse := connectors.Attributes{"userPrincipalName": "jd@contoso.com", "jobTitle": "", "IsSoftDeleted": true}
	cases := []struct {
		name   string
		attrs  connectors.Attributes
		create bool
		want   connectors.Attributes
	}{
		{"create full", full, true, connectors.Attributes{
			"userName": "jd@contoso.com", "externalId": "E1", "title": "Engineer", "locale": "en-US", "nickName": "n/a",
			dept: "R&D", `emails[type eq "work"].value`: "jd@contoso.com", "active": "True", "displayName": "John Doe",
			"proxies": []string{"SMTP:jd@contoso.com"}, "costCenter": "42",
		}},
		{"update full", full, false, connectors.Attributes{
			"userName": "jd@contoso.com", "title": "Engineer", "locale": "en-US",
			dept: "R&D", `emails[type eq "work"].value`: "jd@contoso.com", "active": "True", "displayName": "John Doe",
			"proxies": []string{"SMTP:jd@contoso.com"}, "costCenter": "42",
		}},
		// On create, null and empty values take the default when there is one.
		{"create sparse", sparse, true, connectors.Attributes{
			"userName": "jd@contoso.com", "externalId": nil, "title": "Staff", "locale": "en-US", "nickName": "n/a",
			`emails[type eq "work"].value`: "none@example.com", "active": "False", "displayName": nil, "proxies": nil,
			"costCenter": "0000",
		}},
		// On update, empty values clear the target; IgnoreFlowIfNullOrEmpty leaves it alone.
		{"update sparse", sparse, false, connectors.Attributes{
			"userName": "jd@contoso.com", "title": nil, "locale": "en-US",
			`emails[type eq "work"].value`: nil, "active": "False", "displayName": nil, "proxies": nil,
		}},
	}
	for _, tc := range cases {
		got, err := p.Map(tc.attrs, tc.create)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}

	// Multi-valued values are copied, so callers may keep or change them.
	got, _ := p.Map(full, false)
	got["proxies"].([]string)[0] = "changed"
	if full["proxyAddresses"].([]string)[0] != "SMTP:jd@contoso.com" {
		t.Error("Map returned the source's slice")
	}
}

func TestMapTypedValues(t *testing.T) {
	p := mustCompile(t, userMapping(
		AttributeMapping{Target: "active", Type: Expression, Expression: `Not([IsSoftDeleted])`},
		AttributeMapping{Target: "count", Type: Expression, Expression: `Count([groups])`},
		AttributeMapping{Target: "hired", Type: Expression, Expression: `DateAdd("d", 1, CDate([hireDate]))`},
		AttributeMapping{Target: "roles", Type: Expression, Expression: `Split([roleList], ",")`},
		AttributeMapping{Target: "level", Type: Direct, Source: "level"},
	), Options{})
	got, err := p.Map(connectors.Attributes{"userPrincipalName": "u", "IsSoftDeleted": false, "groups": []string{"a", "b"}, "hireDate": "2021-01-31", "roleList": "x, y", "level": int64(3)}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := connectors.Attributes{"userName": "u", "active": true, "count": int64(2), "hired": "2/1/2021 12:00:00 AM", "roles": []string{"x", "y"}, "level": int64(3)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestMapEvalError(t *testing.T) {
	p := mustCompile(t, userMapping(AttributeMapping{Target: "hired", Type: Expression, Expression: `CDate([hireDate])`}), Options{})
	_, err := p.Map(connectors.Attributes{"userPrincipalName": "u", "hireDate": "next week"}, true)
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Mapping != "hired" || !strings.Contains(ee.Message, `"next week" is not a date`) {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), `mapping "hired": CDate at column 1: `) {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestNow(t *testing.T) {
	now := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	p := mustCompile(t, userMapping(
		AttributeMapping{Target: "a", Type: Expression, Expression: `Now()`},
		AttributeMapping{Target: "b", Type: Expression, Expression: `DateDiff("d", CDate([start]), Now())`},
	), Options{Now: func() time.Time { return now }})
	got, err := p.Map(connectors.Attributes{"userPrincipalName": "u", "start": "2024-02-19T12:00:00Z"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "2/29/2024 12:00:00 PM" || got["b"] != int64(10) {
		t.Errorf("got %v", got)
	}
}

func TestMatching(t *testing.T) {
	p := mustCompile(t, ObjectMapping{Attributes: []AttributeMapping{
		{Target: "displayName", Type: Direct, Source: "displayName"},
		{Target: "externalId", Type: Direct, Source: "mailNickname", MatchingPriority: 2},
		{Target: "userName", Type: Expression, Expression: `ToLower([upn])`, MatchingPriority: 1},
		{Target: "emails[type eq \"work\"].value", Type: Direct, Source: "mail", MatchingPriority: 5},
	}}, Options{})
	if got := p.Matching(); !reflect.DeepEqual(got, []string{"userName", "externalId", `emails[type eq "work"].value`}) {
		t.Errorf("Matching() = %v", got)
	}
}

func TestSourceAttributes(t *testing.T) {
	p := mustCompile(t, ObjectMapping{
		Scope: ScopingFilter{Groups: []FilterGroup{{Clauses: []Clause{{Attribute: "department", Operator: "EQUALS", Value: "Sales"}, {Attribute: "IsSoftDeleted", Operator: "IS FALSE"}}}}},
		Attributes: []AttributeMapping{
			{Target: "userName", Type: Direct, Source: "upn", MatchingPriority: 1},
			{Target: "active", Type: Expression, Expression: `Not([IsSoftDeleted])`},
			{Target: "displayName", Type: Expression, Expression: `Join(" ", [givenName], [surname], [upn])`},
			{Target: "c", Type: Constant, Value: "x"},
		},
	}, Options{SourceAttributes: []string{"upn", "givenName", "surname", "department", "unused"}})
	if got := p.SourceAttributes(); !reflect.DeepEqual(got, []string{"department", "givenName", "surname", "upn"}) {
		t.Errorf("SourceAttributes() = %v", got)
	}
}

func TestRedactedAndRoles(t *testing.T) {
	p := mustCompile(t, userMapping(
		AttributeMapping{Target: "password", Type: Expression, Expression: `Redact(RandomString(12,2,2,2,2))`, ApplyOn: ObjectCreationOnly},
		AttributeMapping{Target: "pin", Type: Expression, Expression: `Join("-", "x", Redact([pin]))`},
		AttributeMapping{Target: "roles", Type: Expression, Expression: `AssertiveAppRoleAssignmentsComplex([appRoleAssignments])`},
		AttributeMapping{Target: "roles2", Type: Expression, Expression: `AppRoleAssignmentsComplex([appRoleAssignments])`},
		AttributeMapping{Target: `roles[primary eq "True"].value`, Type: Expression, Expression: `SingleAppRoleAssignment([appRoleAssignments])`},
	), Options{})
	for target, want := range map[string]bool{"password": true, "pin": true, "userName": false, "missing": false} {
		if p.Redacted(target) != want {
			t.Errorf("Redacted(%q) = %v", target, !want)
		}
	}
	for attr, want := range map[string]bool{"pin": true, "appRoleAssignments": false, "givenName": false} {
		if p.RedactedSource(attr) != want {
			t.Errorf("RedactedSource(%q) = %v", attr, !want)
		}
	}
	for target, want := range map[string]RoleMode{"roles": RolesReplace, "roles2": RolesAdd, `roles[primary eq "True"].value`: RolesSingle, "userName": RolesNone, "missing": RolesNone} {
		if got := p.Roles(target); got != want {
			t.Errorf("Roles(%q) = %v, want %v", target, got, want)
		}
	}
	if p.Name() != "users" {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestSelectUniqueValue(t *testing.T) {
	om := userMapping(AttributeMapping{
		Target: "mail", Type: Expression, ApplyOn: ObjectCreationOnly,
		Expression: `SelectUniqueValue(Join("@", [givenName], "x.com"), Join("@", Join(".", [givenName], [surname]), "x.com"))`,
	})
	taken := map[string]bool{"mail=john@x.com": true}
	var asked []string
	exists := func(target, value string) (bool, error) {
		asked = append(asked, target+"="+value)
		return taken[target+"="+value], nil
	}
	user := connectors.Attributes{"userPrincipalName": "u", "givenName": "john", "surname": "doe"}

	p := mustCompile(t, om, Options{Exists: exists})
	got, err := p.Map(user, true)
	if err != nil || got["mail"] != "john.doe@x.com" || !reflect.DeepEqual(asked, []string{"mail=john@x.com", "mail=john.doe@x.com"}) {
		t.Errorf("got %v, %v after asking %v", got, err, asked)
	}
	// Not evaluated on update: the mapping applies on creation only.
	asked = nil
	if got, _ := p.Map(user, false); len(asked) != 0 || got["mail"] != nil {
		t.Errorf("update asked %v and gave %v", asked, got)
	}

	bare := mustCompile(t, om, Options{})
	if _, err := bare.Map(user, true); err == nil || !strings.Contains(err.Error(), "no uniqueness check") {
		t.Errorf("without a check: %v", err)
	}
	bound := bare.WithExists(func(string, string) (bool, error) { return false, nil })
	if got, err := bound.Map(user, true); err != nil || got["mail"] != "john@x.com" {
		t.Errorf("WithExists: %v, %v", got, err)
	}
	if _, err := bare.Map(user, true); err == nil {
		t.Error("WithExists changed the original program")
	}
}

func TestScope(t *testing.T) {
	clauses := []Clause{{Attribute: "department", Operator: "equals", Value: "Sales"}, {Attribute: "title", Operator: "IS NOT NULL"}}
	p := mustCompile(t, ObjectMapping{
		Scope: ScopingFilter{Groups: []FilterGroup{{Name: "sales", Clauses: clauses}, {Clauses: []Clause{{Attribute: "vip", Operator: "IS TRUE"}}}}},
		Attributes: []AttributeMapping{
			{Target: "userName", Type: Direct, Source: "upn", MatchingPriority: 1},
		},
	}, Options{})
	r := p.Scope(connectors.Attributes{"department": "Sales", "vip": "false"})
	want := ScopeResult{InScope: false, Groups: []GroupResult{
		{Passed: false, Clauses: []ClauseResult{{Clause: clauses[0], Passed: true, Actual: "Sales"}, {Clause: clauses[1], Passed: false, Actual: ""}}},
		{Passed: false, Clauses: []ClauseResult{{Clause: Clause{Attribute: "vip", Operator: "IS TRUE"}, Passed: false, Actual: "false"}}},
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Scope:\n got %+v\nwant %+v", r, want)
	}
	if p.InScope(connectors.Attributes{"department": "Sales", "vip": "false"}) {
		t.Error("InScope = true")
	}
	if !p.InScope(connectors.Attributes{"vip": true}) || !p.Scope(connectors.Attributes{"vip": true}).InScope {
		t.Error("the second group should admit a VIP")
	}

	all := mustCompile(t, userMapping(), Options{})
	if r := all.Scope(nil); !r.InScope || len(r.Groups) != 0 || !all.InScope(nil) {
		t.Errorf("no filter: %+v", r)
	}
}

func TestConcurrentUse(t *testing.T) {
	p := mustCompile(t, userMapping(
		AttributeMapping{Target: "displayName", Type: Expression, Expression: `PCase(Join(" ", [givenName], [surname]))`},
		AttributeMapping{Target: "phone", Type: Expression, Expression: `Replace([phone], , "[^0-9]", , "", , )`},
		AttributeMapping{Target: "start", Type: Expression, Expression: `FormatDateTime([start], , "yyyy-MM-dd", "M/d/yyyy")`},
	), Options{})
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				u := connectors.Attributes{"userPrincipalName": "u", "givenName": "ANA", "surname": "LIMA", "phone": "+1 (555) 01", "start": "2024-01-0" + string(rune('1'+(g+i)%9))}
				got, err := p.Map(u, true)
				if err == nil && got["displayName"] != "Ana Lima" {
					err = errors.New("wrong value under concurrency")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
