package audit

import (
	"testing"
	"time"
)

func TestPlanRollback(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	e := func(h int, id string, a Action, s Status, mods ...Property) Entry {
		return Entry{ObjectType: "User", SourceID: id, TargetID: "t-" + id, DisplayName: id + "@example.com", Action: a, Status: s, Time: at(h), Modified: mods}
	}
	p := func(name, old, new string) Property { return Property{Name: name, Old: old, New: new} }
	entries := []Entry{
		// Before the rollback point: not rolled back.
		e(1, "ann", Create, Success, p("title", "", "Engineer")),
		e(1, "bob", Create, Success, p("title", "", "Engineer")),
		e(1, "cy", Create, Success),
		e(1, "dee", Create, Success),
		// Since: listed out of time order, as runs are read.
		e(12, "ann", Update, Success, p("title", "Lead", "Director"), p("department", "", "Sales")),
		e(10, "ann", Update, Success, p("title", "Engineer", "Lead")),
		e(10, "bob", Disable, Success, p("active", "true", "false")),
		e(10, "cy", Delete, Success),
		e(10, "eve", Create, Success, p("userName", "", "eve@example.com")),
		e(10, "fay", Create, Success),
		e(11, "fay", Delete, Success),
		e(10, "dee", Update, Success, p("pin", Redacted, Redacted)),
		e(10, "gus", Update, Failure, p("title", "A", "B")),
		{ObjectType: "User", SourceID: "hal", TargetID: "t-hal", Action: Update, Status: Success, DryRun: true, Time: at(10), Modified: []Property{p("title", "A", "B")}},
		e(10, "ivy", Other, Skipped),
		{ObjectType: "Group", SourceID: "g1", TargetID: "t-g1", Action: Update, Status: Success, Time: at(10), Modified: []Property{p("members", "", "added t-ann")}},
	}
	plan := PlanRollback(entries, at(5))
	got := map[string]Restore{}
	for _, r := range plan.Restores {
		got[r.SourceID] = r
	}
	for _, id := range []string{"fay", "gus", "hal", "ivy"} {
		if _, ok := got[id]; ok {
			t.Errorf("%s needs no rollback: %+v", id, got[id])
		}
	}
	if r := got["ann"]; r.Action != Update || len(r.Properties) != 2 ||
		r.Properties[0] != p("title", "Director", "Engineer") || r.Properties[1] != p("department", "Sales", "") {
		t.Errorf("ann: each property back to its value before the point, cleared when it had none: %+v", r)
	}
	if r := got["bob"]; r.Action != Update || !r.Enable || len(r.Properties) != 0 {
		t.Errorf("bob was disabled since: re-enable: %+v", r)
	}
	if r := got["cy"]; len(r.Unrestorable) != 1 || r.Properties != nil {
		t.Errorf("cy was deleted since: unrestorable: %+v", r)
	}
	if r := got["eve"]; r.Action != Disable || r.TargetID != "t-eve" {
		t.Errorf("eve was created since: disable: %+v", r)
	}
	if r := got["dee"]; len(r.Unrestorable) != 0 {
		// Unchanged as far as the log shows (both sides hidden and equal).
		t.Errorf("dee: %+v", r)
	}
	if r := got["g1"]; len(r.Unrestorable) != 1 || r.Unrestorable[0][:7] != "members" {
		t.Errorf("memberships are left to the next cycle: %+v", r)
	}
	if len(plan.Restores) != 5 {
		t.Errorf("%d restores, want ann, bob, cy, eve, g1", len(plan.Restores))
	}
	if got["ann"].Describe() != `title: "Director" → "Engineer"; department: "Sales" → ""` {
		t.Errorf("describe: %s", got["ann"].Describe())
	}

	redacted := PlanRollback([]Entry{e(10, "kim", Update, Success, p("pin", Redacted, ""))}, at(5))
	if len(redacted.Restores) != 1 || len(redacted.Restores[0].Unrestorable) != 1 || len(redacted.Restores[0].Properties) != 0 {
		t.Errorf("a hidden value is not restored: %+v", redacted)
	}
	enabled := PlanRollback([]Entry{e(10, "lee", Update, Success, p("active", "false", "true"))}, at(5))
	if len(enabled.Restores) != 1 || enabled.Restores[0].Action != Disable {
		t.Errorf("re-enabled since: disable again: %+v", enabled)
	}
}
