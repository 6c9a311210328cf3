package engine

import (
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/audit"
)

// BenchmarkFitEntry fits the entry of a created user as the bench job
// logs it: every object provisioned has its entry fitted and encoded.
//
//	go test -run '^$' -bench FitEntry -benchmem ./engine/
func BenchmarkFitEntry(b *testing.B) {
	modified := []audit.Property{
		{Name: "userName", New: "ada.lovelace@example.com"},
		{Name: "externalId", New: "E0001234"},
		{Name: "name.givenName", New: "Ada"},
		{Name: "name.familyName", New: "Lovelace"},
		{Name: "displayName", New: "Ada Lovelace"},
		{Name: `emails[type eq "work"].value`, New: "ada.lovelace@example.com"},
		{Name: "title", New: "Engineer"},
		{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", New: "Engineering & Research"},
		{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", New: "E0001234"},
	}
	start := time.Date(2026, 12, 4, 23, 52, 36, 123456789, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		e := audit.Entry{
			Job: "bench", CycleID: "bench-20261204T235236Z", ChangeID: "bench-20261204T235236Z-1234",
			ObjectType: "User", SourceID: "E0001234", Locator: "row 1235", DisplayName: "Ada Lovelace",
			TargetID: "2123283d-dcc2-4fb7-ad40-a6a95dafcc5a", Action: audit.Create, Status: audit.Success,
			Modified: modified, Time: start, DurationMs: 3,
		}
		if len(FitEntry(&e)) == 0 {
			b.Fatal("no encoding")
		}
	}
}
