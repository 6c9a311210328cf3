package workflows_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/workflows"
)

// codecDir holds histories recorded with the payload codec, and the test
// key that encrypted them.
var codecDir = filepath.Join("testdata", "codec")

func codecTestKeys(t *testing.T) *codec.Keys {
	t.Helper()
	keys, err := codec.LoadKeys(secrets.Ref{File: filepath.Join(codecDir, "test.keys")})
	require.NoError(t, err)
	return keys
}

// Histories encrypted by the payload codec replay with its keys, as a
// worker with the codec replays its running jobs; without the keys they do
// not, so they are encrypted indeed.
func TestReplayEncodedHistories(t *testing.T) {
	keys := codecTestKeys(t)
	files, err := filepath.Glob(filepath.Join(codecDir, "*.json*"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no encoded histories in %s", codecDir)
	kinds := map[string]bool{}
	for _, path := range files {
		m := recordedName.FindStringSubmatch(filepath.Base(path))
		require.NotNil(t, m, "%s: name recorded histories WORKFLOW-VERSION-[KIND-]N.json[.gz]", path)
		kinds[m[1]] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			h := readHistory(t, path)
			require.NoError(t, replayWith(h, keys))
			require.Error(t, replayWith(h, nil), "replays without the keys: not encrypted")
		})
	}
	require.True(t, kinds["job"] && kinds["cycle"], "encoded job and cycle histories")
}

// replayWith replays a history with the payload codec of keys, or without
// a codec when keys is nil.
func replayWith(h *historypb.History, keys *codec.Keys) error {
	r, err := worker.NewWorkflowReplayerWithOptions(codec.Codec{Keys: keys}.ReplayerOptions())
	if err != nil {
		return err
	}
	workflows.Register(r)
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	return r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
}

// recordCodecEnv names the workflow version TestRecordEncodedHistories
// records, e.g. RECORD_CODEC_HISTORIES=v5.
const recordCodecEnv = "RECORD_CODEC_HISTORIES"

// TestRecordEncodedHistories records the users job (see recordUsers: every
// signal, update and query) with the payload codec and the test key into
// testdata/codec, replacing the histories of the same version.
func TestRecordEncodedHistories(t *testing.T) {
	version := os.Getenv(recordCodecEnv)
	if version == "" {
		t.Skipf("set %s=vN to record encoded histories of workflow version N", recordCodecEnv)
	}
	require.Regexp(t, `^v[0-9]+$`, version)
	out, err := filepath.Abs(codecDir)
	require.NoError(t, err)
	old, err := filepath.Glob(filepath.Join(out, "*-"+version+"-*"))
	require.NoError(t, err)
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}

	keys := codecTestKeys(t)
	tmp := testenv.StartTemporal(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60")
	opts := client.Options{HostPort: tmp.Server.FrontendHostPort(), Identity: "recorder", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	codec.Codec{Keys: keys}.ClientOptions(&opts)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	startWorker(t, c)
	t.Chdir(t.TempDir())
	const name = "recorded-codec"
	// The rollback reads the job's log: the reader decodes with the codec.
	runID := recordUsers(t, history.WithConverter(c, opts.DataConverter), name)
	jobRuns, cycles := recordJob(t, c, out, fmt.Sprintf("%s-users", version), api.JobWorkflowID(name), runID)
	require.Greater(t, len(jobRuns), 1, "the job continued as new")
	require.NotEmpty(t, cycles)
}
