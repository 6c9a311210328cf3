package workflows_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/workflows"
)

// Every change ID the workflows pass to workflow.GetVersion is a constant
// of versions.go, the ladder of releases, and no two share a value.
func TestChangeIDsAreInVersions(t *testing.T) {
	fset := token.NewFileSet()
	versions, err := parser.ParseFile(fset, "versions.go", nil, 0)
	require.NoError(t, err)
	ladder := map[string]string{} // constant → change ID
	ast.Inspect(versions, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok && len(v.Names) == 1 && len(v.Values) == 1 {
			if lit, ok := v.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				ladder[v.Names[0].Name], _ = strconv.Unquote(lit.Value)
			}
		}
		return true
	})
	seen := map[string]string{}
	for name, id := range ladder {
		require.NotContains(t, seen, id, "%s and %s share the change ID %q", name, seen[id], id)
		seen[id] = name
	}

	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	uses := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "GetVersion" {
				return true
			}
			uses++
			var declared bool
			if id, ok := call.Args[1].(*ast.Ident); ok {
				_, declared = ladder[id.Name]
			}
			require.True(t, declared, "%s: declare the change ID as a constant of versions.go, in the ladder of releases", fset.Position(call.Pos()))
			return true
		})
	}
	require.NotZero(t, uses, "no change ID found")
}

// A job whose configuration leaves options to their defaults hands its
// cycles the defaults resolved, so a cycle's history records the values
// it decided with.
func (s *jobSuite) TestCyclesGetResolvedDefaults() {
	job := testJob()
	job.Options, job.Interval = config.Options{}, 0
	s.at(time.Hour, s.env.CancelWorkflow)
	s.env.ExecuteWorkflow(workflows.ProvisioningJob, workflows.JobInput{Config: job})

	s.Require().Len(s.fetches, 2, "cycles at the default interval of 40 minutes")
	got := s.fetches[0].Job
	s.Equal(config.DefaultBatchSize, got.Options.BatchSize)
	s.Equal(config.DefaultBatches, got.Options.Batches)
	s.Equal(config.DefaultConcurrency, got.Options.Concurrency)
	s.Equal(config.EscrowThreshold{Minimum: config.DefaultEscrowMinimum, Percent: config.DefaultEscrowPercent, Total: config.DefaultEscrowTotal, Cap: config.DefaultEscrowCap}, got.Options.EscrowThreshold)
	s.Equal(config.Duration(config.DefaultInterval), got.Interval)
	s.Equal(workflows.ResolveDefaults(job), got)
}

// The cycles of the defaults kind of job were recorded with defaults other
// than those compiled in: they replay because a cycle reads the options
// recorded in its input, and would not if it read the compiled defaults.
func TestReplayReadsRecordedDefaults(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cycle-*-defaults-*.json*"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded cycles of the defaults kind of job: record them with %s", recordEnv)
	diverged := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			h := readHistory(t, path)
			input := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
			var in workflows.CycleInput
			require.NoError(t, json.Unmarshal(input.GetData(), &in))
			require.Equal(t, recordedBatchSize, in.Job.Options.BatchSize, "recorded with other defaults")
			require.NotEqual(t, config.DefaultBatchSize, in.Job.Options.BatchSize)
			require.NoError(t, replay(h))

			// The same cycle reading the compiled defaults cuts other batches.
			var raw map[string]any
			require.NoError(t, json.Unmarshal(input.GetData(), &raw))
			opts := raw["job"].(map[string]any)["options"].(map[string]any)
			delete(opts, "batchSize")
			delete(opts, "batches")
			input.Data, err = json.Marshal(raw)
			require.NoError(t, err)
			err := replay(h)
			if err != nil {
				diverged++
			}
			if in.State.Fetched && in.State.Fetch.Staged-in.State.NextSeq+1 > recordedBatchSize {
				require.Error(t, err, "a replay with the compiled defaults")
			}
		})
	}
	require.Positive(t, diverged, "no cycle replayed with the compiled defaults diverged")
}
