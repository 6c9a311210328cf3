package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
)

// batchRun asks runBatch for one batch with the given timeouts; the cycle
// runs its batches the same way with a heartbeat timeout of a minute.
type batchRun struct {
	In           activities.BatchInput `json:"in"`
	StartToClose time.Duration         `json:"startToClose"`
	Heartbeat    time.Duration         `json:"heartbeat"`
	Attempts     int32                 `json:"attempts"`
}

func runBatch(ctx workflow.Context, r batchRun) (activities.BatchResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: r.StartToClose,
		HeartbeatTimeout:    r.Heartbeat,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: r.Attempts},
	})
	var res activities.BatchResult
	err := workflow.ExecuteActivity(ctx, "ProvisionBatch", r.In).Get(ctx, &res)
	return res, err
}

// posts counts the users POSTed to the application, by userName, and lets
// hold decide how long each POST waits before it reaches the application.
type posts struct {
	mu    sync.Mutex
	count map[string]int
	hold  func(r *http.Request, userName string, n int)
}

func (p *posts) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var u struct {
				UserName string `json:"userName"`
			}
			_ = json.Unmarshal(body, &u)
			p.mu.Lock()
			p.count[u.UserName]++
			n := p.count[u.UserName]
			p.mu.Unlock()
			p.hold(r, u.UserName, n)
			if r.Context().Err() != nil {
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

func (p *posts) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.count {
		out[k] = v
	}
	return out
}

// batchOnTemporal stages users in a match world behind p and runs one
// batch of them on a real Temporal server with the given timeouts.
func batchOnTemporal(t *testing.T, p *posts, concurrency int, users []string, r batchRun) activities.BatchResult {
	t.Helper()
	w := newMatchWorldBehind(t, p.wrap)
	w.job.Options.Concurrency = concurrency
	rows := make([][3]string, len(users))
	for i, u := range users {
		rows[i] = [3]string{u, u, "Engineer"}
	}
	w.stage(t, rows...)

	tmp := testenv.StartTemporal(t)
	const queue = "batch-attempts"
	wk := worker.New(tmp.Client, queue, worker.Options{})
	wk.RegisterWorkflow(runBatch)
	wk.RegisterActivity(w.acts)
	require.NoError(t, wk.Start())
	t.Cleanup(wk.Stop)

	r.In = activities.BatchInput{Job: w.job, Cycle: w.cycle, From: 1, To: len(users)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := tmp.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, runBatch, r)
	require.NoError(t, err)
	var res activities.BatchResult
	require.NoError(t, run.Get(ctx, &res))
	return res
}

// A batch whose target calls each take longer than its heartbeat timeout
// heartbeats while they are in flight: it is not timed out and started
// again while it still pushes, so every user is POSTed once.
func TestSlowBatchIsNotStartedTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	p := &posts{count: map[string]int{}, hold: func(*http.Request, string, int) { time.Sleep(3 * time.Second) }}
	users := []string{"u1@example.com", "u2@example.com", "u3@example.com", "u4@example.com"}
	res := batchOnTemporal(t, p, 2, users, batchRun{StartToClose: time.Minute, Heartbeat: 2 * time.Second, Attempts: 3})
	for _, e := range res.Entries {
		require.Equal(t, audit.Success, e.Status, e.Reason)
		require.Equal(t, audit.Create, e.Action)
	}
	want := map[string]int{}
	for _, u := range users {
		want[u] = 1
	}
	require.Equal(t, want, p.counts(), "one POST per user: no second attempt ran alongside the first")
}

// A batch started again after its attempt ended resumes after the items
// the attempt finished: they were recorded as they finished, and are not
// pushed again.
func TestRetriedBatchResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	// The last user's first POST hangs until its attempt times out.
	p := &posts{count: map[string]int{}, hold: func(r *http.Request, userName string, n int) {
		if userName == "u3@example.com" && n == 1 {
			<-r.Context().Done()
		}
	}}
	users := []string{"u1@example.com", "u2@example.com", "u3@example.com"}
	res := batchOnTemporal(t, p, 1, users, batchRun{StartToClose: 4 * time.Second, Heartbeat: 2 * time.Second, Attempts: 2})
	for _, e := range res.Entries {
		require.Equal(t, audit.Success, e.Status, e.Reason)
		require.Equal(t, audit.Create, e.Action)
	}
	require.Equal(t, map[string]int{"u1@example.com": 1, "u2@example.com": 1, "u3@example.com": 2}, p.counts(),
		"the first two users are recorded by the first attempt and not pushed again")
}
