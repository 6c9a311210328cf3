// Package audit defines the provisioning log entry: the outcome of one
// object in one cycle. Push steps return their entries as activity results,
// so the workflow history holds every change made to a target and the log
// can be read back from history alone.
package audit

import "time"

// Action is what the cycle did (or would do) to a target object.
type Action string

// Actions, as Azure's provisioning logs name them.
const (
	Create       Action = "Create"
	Update       Action = "Update"
	Disable      Action = "Disable"
	Delete       Action = "Delete"
	StagedDelete Action = "StagedDelete"
	// Other covers objects that needed nothing: already matching, out of scope.
	Other Action = "Other"
)

// Status is how the action ended.
type Status string

// Statuses, as Azure's provisioning logs name them.
const (
	Success Status = "Success"
	Failure Status = "Failure"
	Skipped Status = "Skipped"
	Warning Status = "Warning"
)

// Redacted replaces values hidden by Redact() in history and logs.
const Redacted = "[Redacted]"

// Property is one modified target attribute, old value to new.
type Property struct {
	Name string `json:"name"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Entry is one provisioning log entry.
type Entry struct {
	Job        string `json:"job"`
	CycleID    string `json:"cycleId"`
	ChangeID   string `json:"changeId"`
	ObjectType string `json:"objectType"`
	SourceID   string `json:"sourceId"`
	// Locator says where the source record was (`row 17`, a DN).
	Locator     string     `json:"locator,omitempty"`
	DisplayName string     `json:"displayName,omitempty"`
	TargetID    string     `json:"targetId,omitempty"`
	Action      Action     `json:"action"`
	Status      Status     `json:"status"`
	ErrorCode   string     `json:"errorCode,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Modified    []Property `json:"modified,omitempty"`
	DryRun      bool       `json:"dryRun,omitempty"`
	Time        time.Time  `json:"time"`
	DurationMs  int64      `json:"durationMs"`
}

// Counts tallies entries by action and status, e.g. "Create/Success".
type Counts map[string]int

// Add counts one entry.
func (c Counts) Add(e Entry) { c[string(e.Action)+"/"+string(e.Status)]++ }

// Merge adds other into c. Additions commute, so the map's iteration order
// cannot change the result, which keeps it safe in workflow code.
//
//workflowcheck:ignore
func (c Counts) Merge(other Counts) {
	for k, v := range other {
		c[k] += v
	}
}

// Total returns how many entries were counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Of returns the count of an action with a status.
func (c Counts) Of(a Action, s Status) int { return c[string(a)+"/"+string(s)] }
