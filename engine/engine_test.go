package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// world is a job provisioning users, matched by userName, from an
// in-memory source to an in-memory target, over a state store.
type world struct {
	st     store.Store
	job    config.Job
	source *memorySource
	target *memoryTarget
	// pushTo, when set, is the target the engine pushes to instead.
	pushTo connectors.Target
	cycles int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return &world{
		st: st, source: &memorySource{}, target: newMemoryTarget(),
		job: config.Job{
			Name: "memory",
			Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
				{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
				{Target: "title", Type: mapping.Direct, Source: "title"},
			}}}},
		},
	}
}

func (w *world) engine() *engine.Engine {
	var target connectors.Target = w.target
	if w.pushTo != nil {
		target = w.pushTo
	}
	return engine.New(engine.Config{Store: w.st, Job: &w.job, Source: w.source, Target: target})
}

// run stages the objects in a cycle of their own, provisions them in one
// batch and returns their entries by source ID.
func (w *world) run(t *testing.T, objs ...connectors.Object) map[string]audit.Entry {
	t.Helper()
	ctx := context.Background()
	w.cycles++
	c := store.Cycle{Job: w.job.Name, ID: fmt.Sprint(w.cycles)}
	items := make([]store.StagedItem, len(objs))
	for i, o := range objs {
		items[i] = store.StagedItem{Seq: i + 1, Type: connectors.User, Object: o}
	}
	require.NoError(t, w.st.Stage(ctx, c, items))
	b, err := w.engine().ProvisionBatch(ctx, engine.BatchRequest{Cycle: c, From: 1, To: len(objs)})
	require.NoError(t, err)
	require.Len(t, b.Entries, len(objs))
	require.Len(t, b.Encoded, len(objs))
	out := map[string]audit.Entry{}
	for _, e := range b.Entries {
		out[e.SourceID] = e
	}
	return out
}

// state returns the job's state of a source user; false when it has none.
func (w *world) state(t *testing.T, id string) (store.ObjectState, bool) {
	t.Helper()
	m, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{id})
	require.NoError(t, err)
	st, ok := m[id]
	return st, ok
}

func user(id, userName, title string) connectors.Object {
	return connectors.Object{ID: id, Attributes: connectors.Attributes{"userName": userName, "title": title}}
}

// An object goes through its life: created, its change pushed alone,
// left alone when nothing changed, disabled, then deleted.
func TestObjectLife(t *testing.T) {
	w := newWorld(t)

	e := w.run(t, user("E1", "ava", "Engineer"))["E1"]
	require.Equal(t, audit.Create, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, []audit.Property{{Name: "title", New: "Engineer"}, {Name: "userName", New: "ava"}}, e.Modified)
	require.Equal(t, []string{"Create"}, w.target.pushes())
	st, ok := w.state(t, "E1")
	require.True(t, ok)
	require.Equal(t, e.TargetID, st.TargetID)
	require.True(t, st.Active)

	e = w.run(t, user("E1", "ava", "Lead"))["E1"]
	require.Equal(t, audit.Update, e.Action)
	require.Equal(t, []audit.Property{{Name: "title", Old: "Engineer", New: "Lead"}}, e.Modified)
	require.Equal(t, []string{"Update"}, w.target.pushes())
	o, _ := w.target.object(st.TargetID)
	require.Equal(t, "Lead", o.Attributes["title"])

	e = w.run(t, user("E1", "ava", "Lead"))["E1"]
	require.Equal(t, audit.Other, e.Action)
	require.Equal(t, audit.Skipped, e.Status)
	require.Empty(t, w.target.pushes())

	disabled := user("E1", "ava", "Lead")
	disabled.Disabled = true
	e = w.run(t, disabled)["E1"]
	require.Equal(t, audit.Disable, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, []string{"SetActive"}, w.target.pushes())
	o, _ = w.target.object(st.TargetID)
	require.False(t, o.Active)

	e = w.run(t, connectors.Object{ID: "E1", Deleted: true})["E1"]
	require.Equal(t, audit.Delete, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, []string{"Delete"}, w.target.pushes())
	_, ok = w.target.object(st.TargetID)
	require.False(t, ok)
	_, ok = w.state(t, "E1")
	require.False(t, ok, "a deleted object's state is forgotten")
}

// An unlinked object is linked to the target object its matching value
// finds, and only what differs is pushed; one whose value two target
// objects have fails rather than being linked to a guess.
func TestMatching(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	bo, err := w.target.Create(ctx, connectors.User, connectors.Attributes{"userName": "bo", "title": "Clerk"})
	require.NoError(t, err)
	for range 2 {
		_, err := w.target.Create(ctx, connectors.User, connectors.Attributes{"userName": "cy"})
		require.NoError(t, err)
	}
	w.target.pushes()

	got := w.run(t, user("E2", "bo", "Clerk"), user("E3", "cy", "Clerk"))
	require.Equal(t, audit.Skipped, got["E2"].Status)
	require.Equal(t, bo, got["E2"].TargetID)
	require.Contains(t, got["E2"].Reason, "matched an existing target object")
	st, ok := w.state(t, "E2")
	require.True(t, ok)
	require.Equal(t, bo, st.TargetID)

	require.Equal(t, audit.Failure, got["E3"].Status)
	require.Equal(t, engine.CodeDuplicateTargetEntries, got["E3"].ErrorCode)
	require.Empty(t, w.target.pushes(), "nothing is created or changed")
}

// An object the target refuses goes to escrow, its retry put off longer
// after each failure; staging skips it until its retry is due unless
// its record changes.
func TestEscrow(t *testing.T) {
	w := newWorld(t)
	w.target.refuse["dee"] = &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "create", Detail: "title refused"}

	for attempt, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
		start := time.Now()
		e := w.run(t, user("E4", "dee", "Chef"))["E4"]
		require.Equal(t, audit.Failure, e.Status)
		require.Equal(t, string(connectors.KindInvalidRequest), e.ErrorCode)
		st, ok := w.state(t, "E4")
		require.True(t, ok)
		require.NotNil(t, st.Escrow)
		require.Equal(t, attempt+1, st.Escrow.Attempts)
		require.WithinRange(t, st.Escrow.RetryAfter, start.Add(wait), time.Now().Add(wait))
		require.False(t, st.Linked())
	}

	ctx := context.Background()
	w.source.objects = map[connectors.ObjectType][]connectors.Object{connectors.User: {user("E4", "dee", "Chef")}}
	c := store.Cycle{Job: w.job.Name, ID: "staging"}
	steps := engine.ReadSteps(&w.job)
	require.Equal(t, []engine.ReadStep{{Type: connectors.User, Object: 0}}, steps)
	stager, err := w.engine().Stager(ctx, c, false, steps[0])
	require.NoError(t, err)
	n, err := stager.Page(ctx, w.source.objects[connectors.User], 0)
	require.NoError(t, err)
	require.Zero(t, n.Staged, "an escrowed object waits for its retry")

	n, err = stager.Page(ctx, []connectors.Object{user("E4", "dee", "Cook")}, 0)
	require.NoError(t, err)
	require.Equal(t, 1, n.Staged, "a changed record is tried at once")
	require.Equal(t, 1, n.Unlinked)
}

// A snapshot source's object missing from a complete read is staged
// disabled; a linked one counts as a removal.
func TestAbsentObjectIsStagedDisabled(t *testing.T) {
	w := newWorld(t)
	w.run(t, user("E5", "eve", "Pilot"))
	ctx := context.Background()
	c := store.Cycle{Job: w.job.Name, ID: "absent"}
	stager, err := w.engine().Stager(ctx, c, false, engine.ReadSteps(&w.job)[0])
	require.NoError(t, err)
	_, err = stager.Page(ctx, nil, 0)
	require.NoError(t, err)
	complete, err := stager.MarkLive(ctx)
	require.NoError(t, err)
	require.True(t, complete)
	staged, removals, err := stager.Absent(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 1, staged)
	require.Equal(t, 1, removals)
	items, err := w.st.Staged(ctx, c, 1, 1)
	require.NoError(t, err)
	require.Equal(t, "E5", items[0].Object.ID)
	require.True(t, items[0].Object.Disabled)
}

// A dry run plans what it would push and pushes nothing: its target
// records the create, the target and the job's state stay as they were.
func TestDryRunPushesNothing(t *testing.T) {
	w := newWorld(t)
	w.job.Options.DryRun = true
	ctx := context.Background()
	c := store.Cycle{Job: w.job.Name, ID: "dry"}
	require.NoError(t, w.st.Stage(ctx, c, []store.StagedItem{{Seq: 1, Type: connectors.User, Object: user("E6", "fay", "Poet")}}))
	eng := w.engine()
	b, err := eng.ProvisionBatch(ctx, engine.BatchRequest{Cycle: c, From: 1, To: 1})
	require.NoError(t, err)
	e := b.Entries[0]
	require.Equal(t, audit.Create, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.True(t, e.DryRun)
	require.Equal(t, engine.DryRunID, e.TargetID)

	pushes := engine.Pushes(eng.Target())
	require.Len(t, pushes, 1)
	require.Equal(t, "Create", pushes[0].Call)
	require.Equal(t, connectors.Attributes{"userName": "fay", "title": "Poet"}, pushes[0].Attributes)
	require.Empty(t, w.target.pushes())
	_, ok := w.state(t, "E6")
	require.False(t, ok, "a dry run records no state of its plans")
}

// groupTarget is a memory target that holds group members, which a dry
// run must never reach.
type groupTarget struct{ *memoryTarget }

func (groupTarget) AddMembers(context.Context, string, []string) error {
	return fmt.Errorf("members pushed")
}

func (groupTarget) RemoveMembers(context.Context, string, []string) error {
	return fmt.Errorf("members pushed")
}

// A dry run over a target that holds groups holds them too, recording
// the members it would push; over one that does not, it does not.
func TestDryRunTargetHoldsGroupsAsItsTarget(t *testing.T) {
	ctx := context.Background()
	d := engine.DryRun(groupTarget{newMemoryTarget()})
	m, ok := d.(connectors.MembershipTarget)
	require.True(t, ok)
	require.NoError(t, m.AddMembers(ctx, "g1", []string{"t1", "t2"}))
	require.NoError(t, m.RemoveMembers(ctx, "g1", []string{"t3"}))
	require.Equal(t, []engine.Push{
		{Call: "AddMembers", Type: connectors.Group, TargetID: "g1", Members: []string{"t1", "t2"}},
		{Call: "RemoveMembers", Type: connectors.Group, TargetID: "g1", Members: []string{"t3"}},
	}, engine.Pushes(d))
	_, ok = engine.DryRun(newMemoryTarget()).(connectors.MembershipTarget)
	require.False(t, ok)
	require.Nil(t, engine.Pushes(newMemoryTarget()))
}

// An object out of scope is logged with the clauses it failed, and one in
// scope is created, when the scope is matched without being explained.
func TestOutOfScopeIsExplained(t *testing.T) {
	w := newWorld(t)
	w.job.Objects[0].Scope = mapping.ScopingFilter{Groups: []mapping.FilterGroup{{Clauses: []mapping.Clause{
		{Attribute: "title", Operator: "EQUALS", Value: "Engineer"},
	}}}}
	got := w.run(t, user("1", "ann", "Engineer"), user("2", "bob", "Sales"))
	require.Equal(t, audit.Create, got["1"].Action)
	require.Equal(t, audit.Success, got["1"].Status)
	require.Equal(t, audit.Skipped, got["2"].Status)
	require.Equal(t, `the source object is out of scope: title EQUALS "Engineer" is false (value "Sales")`, got["2"].Reason)
}
