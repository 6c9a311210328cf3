package audit

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"time"
)

// CycleReport summarises one cycle's log entries: the provisioning summary
// report operators read per cycle.
type CycleReport struct {
	CycleID string `json:"cycleId"`
	// Started and Finished span the cycle: from its start to its end when
	// it returned them to the job, otherwise its entries.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Counts   Counts    `json:"counts"`
	// Errors counts failures by error code.
	Errors map[string]int `json:"errors,omitempty"`
	// DryRun is true for a preview's entries.
	DryRun bool `json:"dryRun,omitempty"`
	// Kind, Read and Staged are the cycle's, as it returned them to the
	// job (see CycleRun); empty for on-demand requests and rollbacks, and
	// for a cycle still running or that failed.
	Kind   string `json:"kind,omitempty"`
	Read   int    `json:"read,omitempty"`
	Staged int    `json:"staged,omitempty"`
	// Paused is set while the cycle waits to be resumed: stopped, or
	// holding its deletions for approval.
	Paused bool `json:"paused,omitempty"`
	// InScope counts, per object type, the objects in scope and
	// provisioned when the cycle's last entry was made, as the log read
	// so far tells them (see Reporter).
	InScope map[string]int `json:"inScope,omitempty"`
}

// ErrorSummary is one error code's failures across the entries reported.
type ErrorSummary struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
	// Cycles counts the cycles (and on-demand requests) it failed in.
	Cycles   int       `json:"cycles"`
	LastSeen time.Time `json:"lastSeen"`
	// LastObject is the object of the latest failure: display name or
	// source ID.
	LastObject string `json:"lastObject"`
	// Reasons are the most frequent reasons, most frequent first;
	// OtherReasons counts the failures with any other reason.
	Reasons      []ReasonCount `json:"reasons"`
	OtherReasons int           `json:"otherReasons,omitempty"`
}

// ReasonCount is how often one failure reason was logged.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Bounds on what a Reporter keeps of failure reasons: reasons often name
// the object, so a cycle failing for everybody would otherwise keep one
// string per object.
const (
	maxReasonsKept  = 100
	maxReasonsShown = 3
)

// Reporter builds the provisioning summary report from a job's entries,
// one at a time, so a log of any length is summed without being held.
// Entries must come in the order they were made, as ReadHistory gives
// them: the objects in scope are a running tally.
//
// An object is in scope and provisioned after an entry that created or
// updated it, and no longer after one that disabled or deleted it; an
// object the log has not seen before counts as in scope from an entry that
// skipped it while naming its target object (matched, or already up to
// date). Entries older than the namespace's retention are gone from the
// log, so until an initial cycle has read every object again the tally
// counts only the objects the remaining log has seen.
type Reporter struct {
	byCycle map[string]*CycleReport
	order   []string
	// current is the cycle of the last entry; its InScope is taken when
	// the next entry belongs to another cycle, or when the report is read.
	current *CycleReport
	inScope map[objectKey]bool
	count   map[string]int
	errors  map[string]*errorTally
	runs    []CycleRun
}

type objectKey struct{ objectType, sourceID string }

type errorTally struct {
	ErrorSummary
	lastCycle string
	reasons   map[string]int
}

// NewReporter returns an empty report.
func NewReporter() *Reporter {
	return &Reporter{byCycle: map[string]*CycleReport{}, inScope: map[objectKey]bool{}, count: map[string]int{}, errors: map[string]*errorTally{}}
}

// Add counts one entry.
func (r *Reporter) Add(e Entry) {
	c, ok := r.byCycle[e.CycleID]
	if !ok {
		c = &CycleReport{CycleID: e.CycleID, Started: e.Time, Counts: Counts{}, DryRun: e.DryRun}
		r.byCycle[e.CycleID] = c
		r.order = append(r.order, e.CycleID)
	}
	if c != r.current {
		r.snapshot()
		r.current = c
	}
	c.Counts.Add(e)
	if e.ErrorCode != "" {
		if c.Errors == nil {
			c.Errors = map[string]int{}
		}
		c.Errors[e.ErrorCode]++
		r.addError(e)
	}
	if e.Time.Before(c.Started) {
		c.Started = e.Time
	}
	if end := e.Time.Add(time.Duration(e.DurationMs) * time.Millisecond); end.After(c.Finished) {
		c.Finished = end
	}
	r.track(e)
}

// track updates the tally of objects in scope with an entry's outcome.
func (r *Reporter) track(e Entry) {
	if e.SourceID == "" {
		return
	}
	k := objectKey{e.ObjectType, e.SourceID}
	was, known := r.inScope[k]
	now := was
	switch {
	case e.Status == Success && (e.Action == Create || e.Action == Update):
		now = true
	case e.Status == Success && (e.Action == Disable || e.Action == Delete):
		now = false
	case !known && e.Action == Other && e.Status == Skipped && e.TargetID != "":
		now = true
	case !known:
		return
	}
	r.inScope[k] = now
	switch {
	case now && (!known || !was):
		r.count[e.ObjectType]++
	case !now && known && was:
		r.count[e.ObjectType]--
	}
}

func (r *Reporter) addError(e Entry) {
	t, ok := r.errors[e.ErrorCode]
	if !ok {
		t = &errorTally{ErrorSummary: ErrorSummary{Code: e.ErrorCode}, reasons: map[string]int{}}
		r.errors[e.ErrorCode] = t
	}
	t.Count++
	if t.lastCycle != e.CycleID {
		t.Cycles++
		t.lastCycle = e.CycleID
	}
	if !e.Time.Before(t.LastSeen) {
		t.LastSeen, t.LastObject = e.Time, cmp.Or(e.DisplayName, e.SourceID)
	}
	if _, ok := t.reasons[e.Reason]; ok || len(t.reasons) < maxReasonsKept {
		t.reasons[e.Reason]++
	}
}

// snapshot records the running tally of objects in scope as the current
// cycle's.
func (r *Reporter) snapshot() {
	if r.current == nil {
		return
	}
	r.current.InScope = map[string]int{}
	for t, n := range r.count {
		if n > 0 {
			r.current.InScope[t] = n
		}
	}
}

// AddCycles completes the report with how the job's cycles ended
// (history.ReadCycleRuns), including those that logged nothing.
func (r *Reporter) AddCycles(runs []CycleRun) { r.runs = append(r.runs, runs...) }

// Cycles returns the cycles in the order they started.
func (r *Reporter) Cycles() []CycleReport {
	r.snapshot()
	out := make([]CycleReport, 0, len(r.order)+len(r.runs))
	index := map[string]int{}
	for _, id := range r.order {
		index[id] = len(out)
		out = append(out, *r.byCycle[id])
	}
	for _, run := range r.runs {
		i, ok := index[run.ID]
		if !ok {
			i = len(out)
			index[run.ID] = i
			out = append(out, CycleReport{CycleID: run.ID, Counts: Counts{}})
		}
		c := &out[i]
		c.Kind, c.Read, c.Staged, c.Paused = run.Kind, run.Read, run.Staged, run.Paused
		if !run.Started.IsZero() && !run.Finished.IsZero() {
			c.Started, c.Finished = run.Started, run.Finished
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	// A cycle that logged nothing changed nothing: its objects in scope
	// are those of the cycle before it.
	for i := range out {
		if out[i].InScope == nil && i > 0 {
			out[i].InScope = maps.Clone(out[i-1].InScope)
		}
	}
	return out
}

// TopErrors returns the n error codes with the most failures, most first,
// each with its most frequent reasons.
func (r *Reporter) TopErrors(n int) []ErrorSummary {
	out := make([]ErrorSummary, 0, len(r.errors))
	for _, t := range r.errors {
		s := t.ErrorSummary
		for _, reason := range slices.Sorted(maps.Keys(t.reasons)) {
			s.Reasons = append(s.Reasons, ReasonCount{Reason: reason, Count: t.reasons[reason]})
		}
		slices.SortStableFunc(s.Reasons, func(a, b ReasonCount) int { return b.Count - a.Count })
		s.Reasons = s.Reasons[:min(len(s.Reasons), maxReasonsShown)]
		s.OtherReasons = s.Count
		for _, rc := range s.Reasons {
			s.OtherReasons -= rc.Count
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ErrorSummary) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Code, b.Code)) })
	return out[:min(len(out), n)]
}

// Report groups entries by cycle, in the order cycles started. Entries may
// come in any order; they are counted in the order they were made.
func Report(entries []Entry) []CycleReport {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	r := NewReporter()
	for _, e := range sorted {
		r.Add(e)
	}
	return r.Cycles()
}
