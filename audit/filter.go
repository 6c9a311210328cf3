package audit

import (
	"strings"
	"time"
)

// Filter selects log entries; zero fields select everything.
type Filter struct {
	// CycleID is a cycle ID, or a cycle number that selects the cycle IDs
	// numbered so (job cycle IDs start with their number).
	CycleID string
	Action  Action
	Status  Status
	// Object is a source ID, target ID or display name.
	Object string
	Since  time.Time
}

// Match reports whether the filter selects e. Actions and statuses compare
// without regard to case, as operators type them.
func (f Filter) Match(e Entry) bool {
	switch {
	case f.CycleID != "" && e.CycleID != f.CycleID && !strings.HasPrefix(e.CycleID, f.CycleID+"-"):
		return false
	case f.Action != "" && !strings.EqualFold(string(e.Action), string(f.Action)):
		return false
	case f.Status != "" && !strings.EqualFold(string(e.Status), string(f.Status)):
		return false
	case f.Object != "" && e.SourceID != f.Object && e.TargetID != f.Object && !strings.EqualFold(e.DisplayName, f.Object):
		return false
	case !f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	}
	return true
}
