package azureschema

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
)

func loadSchema(t *testing.T) (*Schema, []mapping.ObjectMapping) {
	t.Helper()
	data, err := os.ReadFile("testdata/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	oms, err := Import(data)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return s, oms
}

func TestImport(t *testing.T) {
	_, oms := loadSchema(t)
	if len(oms) != 1 {
		t.Fatalf("got %d object mappings, want 1 (the disabled group mapping is skipped)", len(oms))
	}
	om := oms[0]
	if om.Name != "Provision Azure Active Directory Users" || om.SourceObject != "User" || om.TargetObject != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" {
		t.Errorf("object mapping = %+v", om)
	}
	wantScope := mapping.ScopingFilter{Groups: []mapping.FilterGroup{
		{Name: "Sales staff", Clauses: []mapping.Clause{
			{Attribute: "department", Operator: "EQUALS", Value: "Sales"},
			{Attribute: "mail", Operator: "IS NOT NULL"},
		}},
		{Name: "Engineers", Clauses: []mapping.Clause{{Attribute: "jobTitle", Operator: "REGEX MATCH", Value: "^Engineer"}}},
	}}
	if !reflect.DeepEqual(om.Scope, wantScope) {
		t.Errorf("scope = %+v", om.Scope)
	}
	want := []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userPrincipalName", ApplyOn: mapping.Always, MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "mailNickname", ApplyOn: mapping.Always, MatchingPriority: 2},
		{Target: "active", Type: mapping.Expression, Expression: "Not([IsSoftDeleted])", ApplyOn: mapping.Always},
		{Target: "displayName", Type: mapping.Expression, Expression: `Join(" ", [givenName], [surname])`, ApplyOn: mapping.Always},
		{Target: `emails[type eq "work"].value`, Type: mapping.Direct, Source: "mail", DefaultValue: "unknown@contoso.com", ApplyOn: mapping.Always},
		{Target: "preferredLanguage", Type: mapping.Constant, Value: "en-US", ApplyOn: mapping.Always},
		{Target: "name.givenName", Type: mapping.Direct, Source: "givenName", ApplyOn: mapping.ObjectCreationOnly},
		{Target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Type: mapping.Expression, Expression: `Switch([department], "Other", "Sales", "S", "Engineering", "E")`, ApplyOn: mapping.Always},
		{Target: "nickName", Type: mapping.Expression, Expression: `Replace([mail], "@contoso.com", , , "")`, ApplyOn: mapping.Always},
		{Target: `phoneNumbers[type eq "work"].value`, Type: mapping.Expression, Expression: `IgnoreFlowIfNullOrEmpty(Replace([telephoneNumber], , "[()\\s-]+", , "", , ))`, ApplyOn: mapping.Always},
		{Target: "title", Type: mapping.None, DefaultValue: "Staff", ApplyOn: mapping.Always},
	}
	if len(om.Attributes) != len(want) {
		t.Fatalf("got %d attribute mappings, want %d", len(om.Attributes), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(om.Attributes[i], want[i]) {
			t.Errorf("attribute %d:\n got %+v\nwant %+v", i, om.Attributes[i], want[i])
		}
	}
}

// TestImportedMappingRuns compiles the imported schema against its own
// attribute list and maps users whose results were worked out by hand.
func TestImportedMappingRuns(t *testing.T) {
	s, oms := loadSchema(t)
	known := s.SourceAttributes("azure active directory", "user")
	if len(known) != 9 {
		t.Fatalf("SourceAttributes = %v", known)
	}
	p, err := mapping.Compile(oms[0], mapping.Options{SourceAttributes: known})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if got := p.Matching(); !reflect.DeepEqual(got, []string{"userName", "externalId"}) {
		t.Errorf("Matching() = %v", got)
	}
	const dept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	cases := []struct {
		name    string
		user    connectors.Attributes
		create  bool
		inScope bool
		want    connectors.Attributes
	}{
		{
			name: "alice, created",
			user: connectors.Attributes{
				"userPrincipalName": "alice@contoso.com", "mailNickname": "alice", "mail": "Alice@contoso.com",
				"givenName": "Alice", "surname": "Smith", "department": "Sales", "jobTitle": "Account Manager",
				"telephoneNumber": "+1 (425) 555-0100", "IsSoftDeleted": false,
			},
			create: true, inScope: true,
			want: connectors.Attributes{
				"userName": "alice@contoso.com", "externalId": "alice", "active": true, "displayName": "Alice Smith",
				`emails[type eq "work"].value`: "Alice@contoso.com", "preferredLanguage": "en-US", "name.givenName": "Alice",
				dept: "S", "nickName": "Alice", `phoneNumbers[type eq "work"].value`: "+14255550100", "title": "Staff",
			},
		},
		{
			name: "bob, updated",
			user: connectors.Attributes{
				"userPrincipalName": "bob@contoso.com", "mailNickname": "bob", "givenName": "Bob", "surname": "",
				"department": "Engineering", "jobTitle": "Engineer II", "IsSoftDeleted": true,
			},
			create: false, inScope: true,
			want: connectors.Attributes{
				"userName": "bob@contoso.com", "externalId": "bob", "active": false, "displayName": "Bob",
				`emails[type eq "work"].value`: nil, "preferredLanguage": "en-US", dept: "E", "nickName": nil,
			},
		},
		{
			name: "carol, out of scope",
			user: connectors.Attributes{
				"userPrincipalName": "carol@contoso.com", "mailNickname": "carol", "mail": "carol@contoso.com",
				"givenName": "Carol", "surname": "Jones", "department": "Marketing", "jobTitle": "Designer", "IsSoftDeleted": false,
			},
			create: true, inScope: false,
			want: connectors.Attributes{
				"userName": "carol@contoso.com", "externalId": "carol", "active": true, "displayName": "Carol Jones",
				`emails[type eq "work"].value`: "carol@contoso.com", "preferredLanguage": "en-US", "name.givenName": "Carol",
				dept: "Other", "nickName": "carol", "title": "Staff",
			},
		},
	}
	for _, tc := range cases {
		if got := p.InScope(tc.user); got != tc.inScope {
			t.Errorf("%s: InScope = %v", tc.name, got)
		}
		got, err := p.Map(tc.user, tc.create)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	_, oms := loadSchema(t)
	data, err := Export(oms, ExportOptions{RuleName: "USER", SourceDirectory: "Azure Active Directory", TargetDirectory: "customappsso"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Import(data)
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	if !reflect.DeepEqual(again, oms) {
		t.Errorf("round trip changed the mappings:\n got %+v\nwant %+v", again, oms)
	}

	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	r := s.SynchronizationRules[0]
	if r.Name != "USER" || r.SourceDirectoryName != "Azure Active Directory" || r.TargetDirectoryName != "customappsso" {
		t.Errorf("rule = %+v", r)
	}
	om := r.ObjectMappings[0]
	if om.FlowTypes != "Add, Update, Delete" || om.Enabled == nil || !*om.Enabled || len(om.Scope.Groups) != 2 {
		t.Errorf("object mapping = %+v", om)
	}
	byTarget := map[string]AttributeMapping{}
	for _, am := range om.AttributeMappings {
		byTarget[am.TargetAttributeName] = am
	}
	if am := byTarget["name.givenName"]; am.FlowType != "ObjectAddOnly" || am.Source.Type != SourceAttribute {
		t.Errorf("name.givenName = %+v", am)
	}
	if am := byTarget["title"]; am.Source != nil || am.DefaultValue == nil || *am.DefaultValue != "Staff" {
		t.Errorf("title = %+v", am)
	}
	// Omitted arguments are left out; the keys place the others.
	nick := byTarget["nickName"].Source
	var keys []string
	for _, p := range nick.Parameters {
		keys = append(keys, p.Key)
	}
	if nick.Type != SourceFunction || nick.Name != "Replace" || strings.Join(keys, ",") != "source,oldValue,replacementValue" {
		t.Errorf("nickName source = %+v", nick)
	}
}

// TestRebuildFromTree strips the expression text from exported trees and
// checks that import rebuilds equivalent expressions.
func TestRebuildFromTree(t *testing.T) {
	exprs := []string{
		`Replace([mail], , "(?<u>[^@]+)@.*", "u", , [upn], )`,
		`Replace([UserID], "<username>", , , , , "<username>@contoso.com")`,
		`IIF([country] = "USA", [country], [department])`,
		`InStr("repEated", "e", 3, vbBinaryCompare)`,
		`Join(", ", "", [surname], [givenName])`,
		`FormatDateTime([d], , "yyyyMMdd", "yyyy-MM-dd")`,
		`Guid()`,
	}
	var attrs []mapping.AttributeMapping
	for i, e := range exprs {
		attrs = append(attrs, mapping.AttributeMapping{Target: "a" + string(rune('a'+i)), Type: mapping.Expression, Expression: e, ApplyOn: mapping.Always})
	}
	s, err := FromMappings([]mapping.ObjectMapping{{Name: "m", Attributes: attrs}}, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, am := range s.SynchronizationRules[0].ObjectMappings[0].AttributeMappings {
		clearExpressions(am.Source)
	}
	data, _ := json.Marshal(s)
	oms, err := Import(data)
	if err != nil {
		t.Fatal(err)
	}
	user := connectors.Attributes{"upn": "jo@x.com", "UserID": "jsmith", "country": "USA", "department": "Sales", "surname": "Doe", "givenName": "John", "d": "20240131"}
	orig, err := mapping.Compile(mapping.ObjectMapping{Attributes: append(attrs, mapping.AttributeMapping{Target: "k", Type: mapping.Constant, MatchingPriority: 1})}, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := mapping.Compile(mapping.ObjectMapping{Attributes: append(oms[0].Attributes, mapping.AttributeMapping{Target: "k", Type: mapping.Constant, MatchingPriority: 1})}, mapping.Options{})
	if err != nil {
		t.Fatalf("rebuilt expressions do not compile: %v", err)
	}
	want, _ := orig.Map(user, true)
	got, _ := rebuilt.Map(user, true)
	delete(want, "ag") // Guid() differs on every call
	delete(got, "ag")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rebuilt expressions map differently:\n got %v\nwant %v", got, want)
	}
	if oms[0].Attributes[0].Expression != `Replace([mail], , "(?<u>[^@]+)@.*", "u", , [upn])` {
		t.Errorf("rebuilt Replace = %s", oms[0].Attributes[0].Expression)
	}
}

func clearExpressions(s *Source) {
	if s == nil {
		return
	}
	s.Expression = ""
	for _, p := range s.Parameters {
		clearExpressions(p.Value)
	}
}

func TestImportPascalCase(t *testing.T) {
	data := `{"SynchronizationRules":[{"ObjectMappings":[{"Name":"u","SourceObjectName":"User","TargetObjectName":"User",
		"Scope":{"Groups":[{"Name":"g","Clauses":[{"OperatorName":"NOT REGEX MATCH","SourceOperandName":"mailNickname","TargetOperand":{"Values":["^CAS_([^{]*){"]}}]}]},
		"AttributeMappings":[{"TargetAttributeName":"userName","MatchingPriority":1,"Source":{"Name":"upn","Type":"Attribute"}}]}]}]}`
	oms, err := Import([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	c := oms[0].Scope.Groups[0].Clauses[0]
	if c.Operator != "NOT REGEX MATCH" || c.Attribute != "mailNickname" || c.Value != "^CAS_([^{]*){" || oms[0].Attributes[0].Source != "upn" {
		t.Errorf("got %+v", oms[0])
	}
}

func TestImportErrors(t *testing.T) {
	data := `{"synchronizationRules":[{"objectMappings":[{"name":"u",
		"scope":{"groups":[{"name":"g","clauses":[{"operatorName":"EQUALS","sourceOperandName":"a","targetOperand":{"values":["x","y"]}}]}],
		         "inputFilterGroups":[{"name":"i","clauses":[]}],"categoryFilterGroups":[{"name":"c","clauses":[]}]},
		"attributeMappings":[
			{"targetAttributeName":"a","flowType":"MultiValueAddOnly","source":{"name":"a","type":"Attribute"}},
			{"targetAttributeName":"b","source":{"name":"b","type":"Lookup"}},
			{"targetAttributeName":"c","source":{"name":"Join","type":"Function","parameters":[{"key":"separator","value":{"name":"x","type":"Table"}}]}}
		]}]}]}`
	_, err := Import([]byte(data))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	want := []string{
		`synchronizationRules[0].objectMappings[0].scope.inputFilterGroups: input filter groups are not supported; use groups`,
		`synchronizationRules[0].objectMappings[0].scope.categoryFilterGroups: category filter groups are not supported; use groups`,
		`synchronizationRules[0].objectMappings[0].scope.groups[0].clauses[0].targetOperand.values: clauses with more than one value are not supported`,
		`synchronizationRules[0].objectMappings[0].attributeMappings[0].flowType: flow type "MultiValueAddOnly" is not supported (want Always or ObjectAddOnly)`,
		`synchronizationRules[0].objectMappings[0].attributeMappings[1].source.type: unknown source type "Lookup" (want Attribute, Constant or Function)`,
		`synchronizationRules[0].objectMappings[0].attributeMappings[2].source: unknown source type "Table"`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Import([]byte(`{"synchronizationRules": 3}`)); err == nil || !strings.HasPrefix(err.Error(), "azure schema: ") {
		t.Errorf("malformed JSON: %v", err)
	}
}

func TestExportErrors(t *testing.T) {
	_, err := Export([]mapping.ObjectMapping{{Attributes: []mapping.AttributeMapping{{Target: "a", Type: mapping.Expression, Expression: `Left("a"`}}}}, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), `synchronizationRules[0].objectMappings[0].attributeMappings[0].source: expression column 9: Left( opened at column 5 is not closed`) {
		t.Errorf("got %v", err)
	}
}
