package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
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
func (a *Activities) ProvisionOnDemand(ctx context.Context, in OnDemandInput) (_ api.OnDemandResult, err error) {
	defer classify(&err)
	res := api.OnDemandResult{Type: in.Type, SourceID: in.SourceID}
	idx, ok := in.Job.ObjectIndex(in.Type)
	if !ok {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("job %s does not provision %s objects", in.Job.Name, in.Type), api.ErrRequestRefused, nil)
	}
	src, err := a.source(ctx, &in.Job)
	if err != nil {
		return res, err
	}
	getter, ok := src.(connectors.Getter)
	if !ok {
		return res, temporal.NewNonRetryableApplicationError("the job's source cannot read one object by ID", api.ErrRequestRefused, nil)
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
		res.Steps = []api.OnDemandStep{{Name: api.StepImport, Status: audit.Failure, Detail: fmt.Sprintf("the source has no %s with ID %q", in.Type, in.SourceID)}}
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
func onDemandSteps(prog *mapping.Program, obj connectors.Object, tr *engine.Trace, e audit.Entry) []api.OnDemandStep {
	imp := api.OnDemandStep{Name: api.StepImport, Status: audit.Success, Detail: "read " + obj.Locator}
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
	steps := []api.OnDemandStep{imp}
	switch {
	case obj.Invalid != "":
		imp.Status, imp.Detail = audit.Failure, obj.Invalid
		return []api.OnDemandStep{imp}
	case obj.Deleted:
		steps[0].Detail += " (deleted in the source)"
		return append(steps, actionStep(e))
	}
	sc := api.OnDemandStep{Name: api.StepScope, Status: audit.Success, Detail: "in scope"}
	if tr.Scope != nil {
		for gi, g := range tr.Scope.Groups {
			for _, c := range g.Clauses {
				actual := engine.LoggedValue(c.Actual)
				if prog.RedactedSource(c.Clause.Attribute) && actual != "" {
					actual = audit.Redacted
				}
				sc.Clauses = append(sc.Clauses, api.OnDemandClause{Group: gi + 1, Attribute: c.Clause.Attribute, Operator: c.Clause.Operator, Value: c.Clause.Value, Actual: actual, Passed: c.Passed})
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
	m := api.OnDemandStep{Name: api.StepMatch, Status: audit.Success, Detail: strings.Join(tr.Match, "; ")}
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

func actionStep(e audit.Entry) api.OnDemandStep {
	s := api.OnDemandStep{Name: api.StepAction, Status: e.Status, Values: e.Modified}
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
