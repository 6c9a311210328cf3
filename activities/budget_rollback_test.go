package activities_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
)

// A rollback chunk whose entries would outgrow the result's budget is done
// up to where they fit, and says where the rest start; the rest, sent
// again, are done then. No restore is done twice or left out.
func TestRollBackStopsAtTheBudget(t *testing.T) {
	w := newOnDemandWorld(t)
	var plan audit.RollbackPlan
	for i := range 150 {
		r := audit.Restore{ObjectType: "User", SourceID: fmt.Sprintf("E%03d", i), TargetID: fmt.Sprintf("gone-%03d", i), Action: audit.Update}
		for a := range 40 {
			v := fmt.Sprintf("user %03d attribute %02d ", i, a) + strings.Repeat("v", 200)
			r.Properties = append(r.Properties, audit.Property{Name: fmt.Sprintf("a%02d", a), Old: v + "now", New: v + "before"})
		}
		plan.Restores = append(plan.Restores, r)
	}
	done := map[string]int{}
	calls := 0
	for start := 0; start < len(plan.Restores); {
		calls++
		require.Less(t, calls, 10)
		chunk := audit.RollbackPlan{Restores: plan.Restores[start:]}
		v, err := w.env.ExecuteActivity(w.acts.RollBack, activities.RollbackInput{Job: w.job, Plan: chunk, RequestID: fmt.Sprint("r", calls)})
		require.NoError(t, err)
		var res api.RollbackResult
		require.NoError(t, v.Get(&res))
		b, err := json.Marshal(res.Entries)
		require.NoError(t, err)
		require.LessOrEqual(t, len(b), activities.ResultBudget)
		for _, e := range res.Entries {
			done[e.SourceID]++
		}
		if res.Next == 0 {
			require.Len(t, res.Entries, len(chunk.Restores))
			break
		}
		require.Equal(t, len(res.Entries), res.Next)
		require.Equal(t, chunk.Restores[res.Next-1].SourceID, res.Entries[len(res.Entries)-1].SourceID, "restores are taken in order")
		start += res.Next
	}
	require.Greater(t, calls, 1, "the entries did not fit one result")
	require.Len(t, done, len(plan.Restores))
	for id, n := range done {
		require.Equal(t, 1, n, id)
	}
}
