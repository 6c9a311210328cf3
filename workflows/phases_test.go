package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/workflows"
)

// calls records the activities a cycle ran, in order.
type calls struct {
	mu   sync.Mutex
	list []string
}

func (c *calls) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, s)
}

func (c *calls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.list...)
}

// groupsJob provisions users with a manager reference, and groups.
func groupsJob() config.Job {
	job := testJob()
	job.Objects[0].Attributes = append(job.Objects[0].Attributes, mapping.AttributeMapping{Target: "manager", Type: mapping.Direct, Source: "managerId", Reference: "User"})
	job.Objects = append(job.Objects, config.Object{ObjectMapping: mapping.ObjectMapping{SourceObject: "Group", TargetObject: "Group",
		Attributes: []mapping.AttributeMapping{{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1}}}})
	return job
}

// phaseEnv mocks a cycle whose membership phase has two pages of groups.
func phaseEnv(c *calls) *testsuite.TestWorkflowEnvironment {
	env := (&testsuite.WorkflowTestSuite{}).NewTestWorkflowEnvironment()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(activities.FetchResult{Staged: 20, Read: 20}, nil)
	env.OnActivity(acts.ProvisionBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		c.add(fmt.Sprintf("batch %d-%d", in.From, in.To))
		return activities.BatchResult{Entries: make([]audit.Entry, in.To-in.From+1)}, nil
	})
	env.OnActivity(acts.SyncMemberships, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PhaseInput) (activities.PhaseResult, error) {
		c.add("members after " + in.Cursor.After)
		update := audit.Entry{ObjectType: "Group", Action: audit.Update, Status: audit.Success}
		if in.Cursor.After == "" {
			return activities.PhaseResult{Entries: []audit.Entry{update}, Next: activities.PhaseCursor{After: "G10"}}, nil
		}
		return activities.PhaseResult{Entries: []audit.Entry{update}, Done: true}, nil
	})
	env.OnActivity(acts.ResolveReferences, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PhaseInput) (activities.PhaseResult, error) {
		c.add("references")
		return activities.PhaseResult{Done: true}, nil
	})
	env.OnActivity(acts.FinishCycle, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishInput) error {
		c.add("finish")
		return nil
	})
	return env
}

func groupsCycle() workflows.CycleInput {
	return workflows.CycleInput{Job: groupsJob(), Cycle: store.Cycle{Job: "hr", ID: "1-x"}, Number: 1, Kind: api.Initial, Parent: "provisioning-job:hr"}
}

// Memberships follow every object batch, page by page, then references,
// and only then is the watermark saved; their entries are counted.
func TestPhasesFollowTheBatches(t *testing.T) {
	var c calls
	env := phaseEnv(&c)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, groupsCycle())
	require.NoError(t, env.GetWorkflowError())
	got := c.get()
	require.Len(t, got, 6)
	require.ElementsMatch(t, []string{"batch 1-10", "batch 11-20"}, got[:2])
	require.Equal(t, []string{"members after ", "members after G10", "references", "finish"}, got[2:])
	var res workflows.CycleResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 2, res.Summary.Counts.Of(audit.Update, audit.Success))
}

// A cycle that continues as new in a phase carries the phase's cursor, and
// the next run resumes there without provisioning anything again.
func TestPhasesResumeAfterContinueAsNew(t *testing.T) {
	var c calls
	env := phaseEnv(&c)
	in := groupsCycle()
	in.State = workflows.CycleState{Fetched: true, Fetch: activities.FetchResult{Staged: 20}, NextSeq: 21,
		Memberships: workflows.PhaseState{Cursor: activities.PhaseCursor{After: "G10"}}}
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, in)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can))
	var next workflows.CycleInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, in.State.Memberships, next.State.Memberships)
	require.Empty(t, c.get())

	env = phaseEnv(&c)
	env.ExecuteWorkflow(workflows.ProvisioningCycle, next)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"members after G10", "references", "finish"}, c.get())
}

// A job without groups or references runs no phase.
func TestNoPhasesForUsersOnly(t *testing.T) {
	var c calls
	env := phaseEnv(&c)
	in := groupsCycle()
	in.Job = testJob()
	env.ExecuteWorkflow(workflows.ProvisioningCycle, in)
	require.NoError(t, env.GetWorkflowError())
	require.NotContains(t, c.get(), "references")
	require.Equal(t, "finish", c.get()[len(c.get())-1])
	require.Len(t, c.get(), 3)
}
