package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// checkAppendJSON fails unless AppendJSON encodes e as json.Marshal does,
// and fails where it fails.
func checkAppendJSON(t *testing.T, e *Entry) {
	t.Helper()
	want, werr := json.Marshal(e)
	got, err := AppendJSON([]byte("prefix"), e)
	if (err != nil) != (werr != nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal's %v", err, werr)
	}
	if werr != nil {
		if string(got) != "prefix" {
			t.Fatalf("AppendJSON appended %q before failing", got)
		}
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("AppendJSON =\n%s\njson.Marshal makes\n%s", got, want)
	}
}

func TestAppendJSONIsMarshal(t *testing.T) {
	odd := "<a href=\"x\">&amp;</a>\u2028\u2029\x00\x1f\x7f\xff\xc3 \\ \t\n caf\u00e9 \U0001F600"
	east := time.FixedZone("east", 5*3600+30*60)
	for _, e := range []*Entry{
		nil,
		{},
		{Job: "j", CycleID: "c", ChangeID: "c-1", ObjectType: "User", SourceID: "17", Action: Create, Status: Success,
			Time: time.Date(2026, 12, 4, 23, 52, 36, 123456789, time.UTC), DurationMs: 12},
		{Job: odd, CycleID: odd, ChangeID: odd, ObjectType: odd, SourceID: odd, Locator: odd, DisplayName: odd,
			TargetID: odd, Action: Action(odd), Status: Status(odd), ErrorCode: odd, Reason: odd,
			Modified: []Property{{Name: odd, Old: odd, New: odd}, {Name: "", Old: "", New: ""}, {Name: "n", New: "v"}},
			DryRun:   true, Time: time.Date(1, 1, 1, 0, 0, 0, 1000, east), DurationMs: -5},
		{Modified: []Property{}, Time: time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("west", -(9*3600+59)))},
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600))},
	} {
		checkAppendJSON(t, e)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("job", "<&>\u2028", "\xff\x00", "Create", false, int64(1764892356), int64(5), 0, int64(3), uint8(2))
	f.Add("", "", "", "", true, int64(-62135596800), int64(0), 3600, int64(-1), uint8(0))
	f.Add("a\"b\\c", "\t\n\r\b\f", "\u00e9\U0001F600", "", true, int64(253402300800), int64(999999999), -86400, int64(1<<62), uint8(7))
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, dry bool, sec, nsec int64, offset int, dur int64, shape uint8) {
		e := &Entry{
			Job: s1, CycleID: s2, ChangeID: s3, ObjectType: s4, SourceID: s1 + s2,
			Action: Action(s3), Status: Status(s4), DryRun: dry, DurationMs: dur,
			Time: time.Unix(sec, nsec).In(time.FixedZone("z", offset)),
		}
		// shape's bits choose which optional fields are set.
		if shape&1 != 0 {
			e.Locator, e.DisplayName, e.TargetID = s2, s3, s4
		}
		if shape&2 != 0 {
			e.ErrorCode, e.Reason = s1, s4+s2
		}
		if shape&4 != 0 {
			e.Modified = []Property{{Name: s1, Old: s2, New: s3}, {Name: s4}, {New: s1}}
		}
		if shape&8 != 0 {
			e.Modified = []Property{}
		}
		checkAppendJSON(t, e)
	})
}

// BenchmarkEncodeEntry encodes a created user's entry by reflection and
// with AppendJSON, side by side, since a shared machine's timings drift.
//
//	go test -run '^$' -bench EncodeEntry -benchmem ./audit/
func BenchmarkEncodeEntry(b *testing.B) {
	e := &Entry{
		Job: "bench", CycleID: "bench-20261204T235236Z", ChangeID: "bench-20261204T235236Z-1234",
		ObjectType: "User", SourceID: "E0001234", Locator: "row 1235", DisplayName: "Ada Lovelace",
		TargetID: "2123283d-dcc2-4fb7-ad40-a6a95dafcc5a", Action: Create, Status: Success,
		Modified: []Property{
			{Name: "userName", New: "ada.lovelace@example.com"},
			{Name: "externalId", New: "E0001234"},
			{Name: "name.givenName", New: "Ada"},
			{Name: "name.familyName", New: "Lovelace"},
			{Name: "displayName", New: "Ada Lovelace"},
			{Name: `emails[type eq "work"].value`, New: "ada.lovelace@example.com"},
			{Name: "title", New: "Engineer"},
			{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", New: "Engineering & Research"},
			{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", New: "E0001234"},
		},
		Time: time.Date(2026, 12, 4, 23, 52, 36, 123456789, time.UTC), DurationMs: 3,
	}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := AppendJSON(make([]byte, 0, 1024), e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
