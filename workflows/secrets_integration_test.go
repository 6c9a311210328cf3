package workflows_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/store/sqlite"
	"github.com/openprovisioning/provisioner/workflows"
)

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bearer tokens, right or rejected, appear nowhere in workflow histories,
// search attributes, memos or worker logs (at debug level).
func TestSecretsStayOutOfHistoryAndLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client

	logs := &syncBuffer{}
	log := logrus.New()
	log.SetOutput(logs)
	log.SetLevel(logrus.DebugLevel)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	acts := activities.New(st, log)
	wk := worker.New(c, api.TaskQueue, worker.Options{})
	workflows.Register(wk)
	wk.RegisterActivity(acts)
	require.NoError(t, wk.Start())
	t.Cleanup(func() { wk.Stop(); acts.Connections.Close(); st.Close() })

	good := newWorld(t, "secret-good")
	writeHR(t, good.hrPath, people(20))
	startJob(t, c, good.job)
	waitCycle(t, c, good.job.Name, 1, time.Minute)
	require.Len(t, good.users(t), inScope(people(20)))
	goodToken := "test-token-secret-good"

	// A target that rejects the token: every call fails with 401.
	bad := newWorld(t, "secret-bad")
	writeHR(t, bad.hrPath, people(5))
	badToken := "rejected-token-value-7f3a"
	t.Setenv(tokenEnv, badToken)
	startJob(t, c, bad.job)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, bad.job.Name)
		return err == nil && s.State == api.Quarantined
	}, time.Minute, 200*time.Millisecond)

	ctx := context.Background()
	for _, job := range []string{good.job.Name, bad.job.Name} {
		runs := []string{api.JobWorkflowID(job)}
		resp, err := c.ListWorkflow(ctx, listRequest(`ProvisioningJob = "`+job+`"`))
		require.NoError(t, err)
		for _, ex := range resp.Executions {
			runs = append(runs, ex.Execution.WorkflowId+"\x00"+ex.Execution.RunId)
			raw, err := protojson.Marshal(ex)
			require.NoError(t, err)
			assertNoSecret(t, string(raw), "visibility record of "+ex.Execution.WorkflowId, goodToken, badToken)
		}
		for _, r := range runs {
			id, run, _ := strings.Cut(r, "\x00")
			assertNoSecret(t, historyJSON(t, c, id, run), "history of "+id, goodToken, badToken)
		}
	}
	assertNoSecret(t, logs.String(), "worker logs", goodToken, badToken)
	require.Contains(t, logs.String(), "job=secret-bad", "the logs were captured")
}

func historyJSON(t *testing.T, c client.Client, id, run string) string {
	t.Helper()
	var b strings.Builder
	it := c.GetWorkflowHistory(context.Background(), id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		raw, err := protojson.Marshal(ev)
		require.NoError(t, err)
		b.Write(raw)
	}
	require.NotZero(t, b.Len())
	return b.String()
}

// assertNoSecret also looks for the base64 form, since payloads are encoded.
func assertNoSecret(t *testing.T, text, where string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotContains(t, text, s, "a secret appears in the %s", where)
		for _, enc := range base64Forms(s) {
			require.NotContains(t, text, enc, "a secret appears (base64) in the %s", where)
		}
	}
}

// base64Forms returns the secret as it would look inside base64-encoded
// payload data at each of the three alignments, trimmed of edge characters.
func base64Forms(s string) []string {
	var out []string
	for pad := 0; pad < 3; pad++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", pad) + s))
		start, end := (pad*4+2)/3+1, len(enc)-4
		if start < end {
			out = append(out, enc[start:end])
		}
	}
	return out
}
