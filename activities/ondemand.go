package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// OnDemandInput asks for one source object, a user or a group with its
// members, to be provisioned now, outside the job's cycles.
type OnDemandInput struct {
	Job      config.Job            `json:"job"`
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	// RequestID names the request's staging area and log entries; a retried
	// request with the same ID does not act twice.
	RequestID string `json:"requestId"`
}

// OnDemandResult is what provisioning on demand did: the object's steps as
// Azure shows them (import, scope, match, action) and the provisioning log
// entries, which the job's history keeps like a cycle's.
type OnDemandResult struct {
	Type     connectors.ObjectType `json:"type"`
	SourceID string                `json:"sourceId"`
	Steps    []OnDemandStep        `json:"steps"`
	// Entries are the object's entry, then for a group its members'
	// entries and the entry of its membership changes; none when the
	// object could not be read.
	Entries []audit.Entry `json:"entries"`
	// MembersLeft counts members beyond the on-demand limit, left to the
	// next cycle.
	MembersLeft int `json:"membersLeft,omitempty"`
}

// Object returns the entry of the object asked for.
func (r OnDemandResult) Object() audit.Entry {
	if len(r.Entries) == 0 {
		return audit.Entry{}
	}
	return r.Entries[0]
}

// Members returns the entries of a group's members.
func (r OnDemandResult) Members() []audit.Entry {
	var out []audit.Entry
	for _, e := range r.Entries[min(1, len(r.Entries)):] {
		if e.ObjectType != string(connectors.Group) {
			out = append(out, e)
		}
	}
	return out
}

// Memberships returns the entry of a group's membership changes, if any.
func (r OnDemandResult) Memberships() *audit.Entry {
	for i := 1; i < len(r.Entries); i++ {
		if r.Entries[i].ObjectType == string(connectors.Group) {
			return &r.Entries[i]
		}
	}
	return nil
}

// OnDemandStep is one step of provisioning on demand.
type OnDemandStep struct {
	Name   string       `json:"name"`
	Status audit.Status `json:"status"`
	Detail string       `json:"detail,omitempty"`
	// Values are the attributes read (import) or the properties exported
	// (action), old → new.
	Values []audit.Property `json:"values,omitempty"`
	// Clauses are the scoping filter's clauses with their outcome.
	Clauses []OnDemandClause `json:"clauses,omitempty"`
}

// OnDemandClause is one scoping clause's outcome.
type OnDemandClause struct {
	Group     int    `json:"group"`
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Value     string `json:"value,omitempty"`
	Actual    string `json:"actual"`
	Passed    bool   `json:"passed"`
}

// Step names, in order.
const (
	StepImport = "Import"
	StepScope  = "Scope"
	StepMatch  = "Match"
	StepAction = "Action"
)

// ErrRequestRefused is the error type of an on-demand request the job
// cannot serve; retrying it cannot help.
const ErrRequestRefused = "RequestRefused"

// onDemandMembers bounds the members of a group provisioned on demand, so
// the result stays a small part of the job's history; the rest follow in
// the next cycle.
const onDemandMembers = 1000

// onDemandSteps' entries and steps beside the batch's entries: the import
// step, the action step's copy of the object's changes, the scope and
// match steps and the group's membership entry, each within
// engine.EntryLimit.
const onDemandReserve = 4 * engine.EntryLimit

// ProvisionOnDemand provisions one object now, the way a cycle would, and
// explains every step. A group is provisioned with its member users, then
// its memberships. The object's state is recorded as a cycle records it,
// so the next cycle sees nothing new to do. Requests the job cannot serve
// (an object type it does not provision, a source that cannot read one
// object) fail without retries.
func (a *Activities) ProvisionOnDemand(ctx context.Context, in OnDemandInput) (_ OnDemandResult, err error) {
	defer classify(&err)
	res := OnDemandResult{Type: in.Type, SourceID: in.SourceID}
	idx, ok := in.Job.ObjectIndex(in.Type)
	if !ok {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("job %s does not provision %s objects", in.Job.Name, in.Type), ErrRequestRefused, nil)
	}
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return res, err
	}
	getter, ok := src.(connectors.Getter)
	if !ok {
		return res, temporal.NewNonRetryableApplicationError("the job's source cannot read one object by ID", ErrRequestRefused, nil)
	}
	prog, err := a.program(&in.Job, idx)
	if err != nil {
		return res, err
	}
	// Reading one object may take longer than the heartbeat timeout (a
	// report downloaded whole).
	stop := heartbeating(ctx, func() any { return nil })
	obj, err := getter.Get(ctx, in.Type, in.SourceID, prog.SourceAttributes())
	stop()
	if errors.Is(err, connectors.ErrNotFound) {
		res.Steps = []OnDemandStep{{Name: StepImport, Status: audit.Failure, Detail: fmt.Sprintf("the source has no %s with ID %q", in.Type, in.SourceID)}}
		return res, nil
	}
	if err != nil {
		return res, err
	}

	cycle := store.Cycle{Job: in.Job.Name, ID: "on-demand-" + in.RequestID}
	a = a.forCycle(in.Job.Options.DryRun, cycle)
	defer func() {
		// The staging area is the request's alone; a failure to drop it
		// leaves rows that the next reset clears.
		_ = a.Store.EndCycle(context.WithoutCancel(ctx), cycle)
	}()
	items := []store.StagedItem{{Seq: 1, Type: in.Type, Object: obj}}
	if in.Type == connectors.Group && obj.Invalid == "" {
		if _, err := a.engine(&in.Job, src, nil).RecordGroups(ctx, []connectors.Object{obj}); err != nil {
			return res, err
		}
		stop := heartbeating(ctx, func() any { return nil })
		members, left, err := a.memberObjects(ctx, &in.Job, getter, obj.Members)
		stop()
		if err != nil {
			return res, err
		}
		res.MembersLeft = left
		for i, m := range members {
			items = append(items, store.StagedItem{Seq: i + 2, Type: connectors.User, Object: m})
		}
	}
	if err := a.Store.Stage(ctx, cycle, items); err != nil {
		return res, err
	}
	tr := &engine.Trace{}
	// Members whose entries would not fit the result are left to the next
	// cycle, like those over the limit.
	batch, err := a.provisionBatch(ctx, BatchInput{Job: in.Job, Cycle: cycle, From: 1, To: len(items), Budget: ResultBudget - onDemandReserve, onDemand: true}, map[int]*engine.Trace{1: tr})
	if err != nil {
		return res, err
	}
	res.Entries = batch.Entries
	res.MembersLeft += len(items) - len(batch.Entries)
	res.Steps = onDemandSteps(prog, obj, tr, res.Entries[0])
	if in.Type == connectors.Group {
		e, err := a.groupMembersNow(ctx, in.Job, cycle, obj.ID)
		if err != nil {
			return res, err
		}
		if e != nil {
			res.Entries = append(res.Entries, *e)
		}
	}
	a.countEntries(in.Job.Name, res.Entries)
	return res, nil
}

// memberObjects reads a group's member users from the source, up to the
// on-demand limit. Members that are not users (nested groups) are left
// to the cycles.
func (a *Activities) memberObjects(ctx context.Context, job *config.Job, getter connectors.Getter, ids []string) ([]connectors.Object, int, error) {
	i, ok := job.ObjectIndex(connectors.User)
	if !ok {
		return nil, 0, nil
	}
	prog, err := a.program(job, i)
	if err != nil {
		return nil, 0, err
	}
	groups, err := a.Store.GroupsAmong(ctx, job.Name, ids)
	if err != nil {
		return nil, 0, err
	}
	var users []string
	for _, id := range ids {
		if !groups[id] {
			users = append(users, id)
		}
	}
	left := max(0, len(users)-onDemandMembers)
	users = users[:len(users)-left]
	objs := make([]connectors.Object, len(users))
	errs := make([]error, len(users))
	pool := engine.Pool{Workers: job.Options.WithDefaults().Concurrency, Heartbeat: heartbeat{}}
	pool.Run(ctx, len(users), func(i int) {
		objs[i], errs[i] = getter.Get(ctx, connectors.User, users[i], prog.SourceAttributes())
	})
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	out := objs[:0]
	for i := range objs {
		switch {
		case errors.Is(errs[i], connectors.ErrNotFound):
			// A dangling member: the cycles ignore it too.
		case errs[i] != nil:
			return nil, 0, errs[i]
		default:
			out = append(out, objs[i])
		}
	}
	return out, left, nil
}

// groupMembersNow brings a group's target members in step, as the
// membership phase would, and clears its mark when done.
func (a *Activities) groupMembersNow(ctx context.Context, job config.Job, cycle store.Cycle, id string) (*audit.Entry, error) {
	tgt, err := a.target(ctx, &job)
	if err != nil {
		return nil, err
	}
	return a.engine(&job, nil, tgt).GroupMembers(ctx, cycle, id)
}

// onDemandSteps explains an object's way from its trace and log entry.
func onDemandSteps(prog *mapping.Program, obj connectors.Object, tr *engine.Trace, e audit.Entry) []OnDemandStep {
	imp := OnDemandStep{Name: StepImport, Status: audit.Success, Detail: "read " + obj.Locator}
	if obj.Locator == "" {
		imp.Detail = "read " + obj.ID
	}
	for _, name := range prog.SourceAttributes() {
		v, ok := obj.Attributes[name]
		if !ok {
			continue
		}
		p := audit.Property{Name: name, New: engine.Canon(v)}
		if prog.RedactedSource(name) && p.New != "" {
			p.New = audit.Redacted
		}
		imp.Values = append(imp.Values, p)
	}
	engine.FitProperties(imp.Values)
	steps := []OnDemandStep{imp}
	switch {
	case obj.Invalid != "":
		imp.Status, imp.Detail = audit.Failure, obj.Invalid
		return []OnDemandStep{imp}
	case obj.Deleted:
		steps[0].Detail += " (deleted in the source)"
		return append(steps, actionStep(e))
	}
	sc := OnDemandStep{Name: StepScope, Status: audit.Success, Detail: "in scope"}
	if tr.Scope != nil {
		for gi, g := range tr.Scope.Groups {
			for _, c := range g.Clauses {
				actual := engine.LoggedValue(c.Actual)
				if prog.RedactedSource(c.Clause.Attribute) && actual != "" {
					actual = audit.Redacted
				}
				sc.Clauses = append(sc.Clauses, OnDemandClause{Group: gi + 1, Attribute: c.Clause.Attribute, Operator: c.Clause.Operator, Value: c.Clause.Value, Actual: actual, Passed: c.Passed})
			}
		}
		if len(tr.Scope.Groups) == 0 {
			sc.Detail = "in scope: no scoping filter"
		}
	}
	if tr.Unscoped != "" {
		sc.Status, sc.Detail = audit.Skipped, tr.Unscoped
		return append(steps, sc, actionStep(e))
	}
	steps = append(steps, sc)
	m := OnDemandStep{Name: StepMatch, Status: audit.Success, Detail: strings.Join(tr.Match, "; ")}
	switch {
	case len(tr.Match) == 0:
		m.Detail = "no matching attribute has a value"
	case e.Action == audit.Create:
		m.Detail += "; no target object matched"
	case e.ErrorCode == CodeDuplicateTargetEntries:
		m.Status = audit.Failure
	}
	return append(steps, m, actionStep(e))
}

func actionStep(e audit.Entry) OnDemandStep {
	s := OnDemandStep{Name: StepAction, Status: e.Status, Values: e.Modified}
	s.Detail = string(e.Action)
	if e.TargetID != "" {
		s.Detail += " target object " + e.TargetID
	}
	if e.ErrorCode != "" {
		s.Detail += ": " + e.ErrorCode
	}
	if e.Reason != "" {
		s.Detail += ": " + e.Reason
	}
	if e.DryRun {
		s.Detail += " (dry run: nothing was pushed)"
	}
	return s
}
