package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// A value too large for the log is named by its length and hash, which
// readers tell from a value.
func TestSummary(t *testing.T) {
	photo := strings.Repeat("\xff\xd8photo", 2057)
	sum := sha256.Sum256([]byte(photo))
	if got, want := Summary(photo), "[14,399 bytes, sha256:"+hex.EncodeToString(sum[:])+"]"; got != want {
		t.Errorf("Summary = %s, want %s", got, want)
	}
	for n, want := range map[int]string{0: "[0 bytes", 999: "[999 bytes", 1000: "[1,000 bytes", 1234567: "[1,234,567 bytes"} {
		if got := Summary(strings.Repeat("x", n)); !strings.HasPrefix(got, want+", sha256:") {
			t.Errorf("Summary of %d bytes = %s", n, got)
		}
	}
	if !IsSummary(Summary(photo)) {
		t.Error("a summary is not recognised")
	}
	for _, v := range []string{"", "[12 bytes]", "[12 bytes, sha256:ab12]", "x" + Summary("a")} {
		if IsSummary(v) {
			t.Errorf("%q taken for a summary", v)
		}
	}
}

// A value the log holds only as its summary cannot be restored: a
// rollback must not push the summary in its place.
func TestRollbackLeavesSummarizedValues(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	photo := Summary(strings.Repeat("p", 10000))
	plan := PlanRollback([]Entry{{
		ObjectType: "User", SourceID: "kim", TargetID: "t-kim", Action: Update, Status: Success, Time: t0.Add(time.Hour),
		Modified: []Property{{Name: "photo", Old: photo, New: Summary("new photo")}, {Name: "title", Old: "A", New: "B"}},
	}}, t0)
	if len(plan.Restores) != 1 {
		t.Fatalf("restores: %+v", plan.Restores)
	}
	r := plan.Restores[0]
	if len(r.Properties) != 1 || r.Properties[0].Name != "title" {
		t.Errorf("only title is restored: %+v", r.Properties)
	}
	if len(r.Unrestorable) != 1 || !strings.HasPrefix(r.Unrestorable[0], "photo: ") {
		t.Errorf("photo is listed as unrestorable: %v", r.Unrestorable)
	}
}
