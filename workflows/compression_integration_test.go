package workflows_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/workflows"
)

// With the workers' default codec, batch results are stored in history
// compressed while the workflows' inputs stay plain JSON; the provisioning
// log reads every entry back, through the codec's client or any other, and
// the histories replay with the codec (and not without it).
func TestBatchResultsStoredCompressed(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	opts := client.Options{HostPort: tmp.Server.FrontendHostPort(), Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	codec.Codec{}.ClientOptions(&opts)
	_, gzipOff := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone)
	require.True(t, gzipOff, "gRPC gzip is off when payloads are compressed")
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	startWorker(t, c)

	w := newWorld(t, "compressed")
	w.job.Options.BatchSize = 40
	ps := people(200)
	writeHR(t, w.hrPath, ps)
	jobID := api.JobWorkflowID(w.job.Name)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: jobID, TaskQueue: api.TaskQueue}, workflows.ProvisioningJob, workflows.JobInput{Config: w.job})
	require.NoError(t, err)
	waitCycle(t, c, w.job.Name, 1, 2*time.Minute)
	require.Len(t, w.users(t), inScope(ps))

	compressed, plainInputs := 0, 0
	var cycles []string
	for _, jh := range runChain(t, c, jobID, run.GetRunID()) {
		for _, ev := range jh.GetEvents() {
			if child := ev.GetChildWorkflowExecutionStartedEventAttributes().GetWorkflowExecution(); child != nil {
				for _, ch := range runChain(t, c, child.GetWorkflowId(), child.GetRunId()) {
					for _, cev := range ch.GetEvents() {
						for _, p := range cev.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads() {
							if string(p.GetMetadata()[converter.MetadataEncoding]) == codec.EncodingZstd {
								compressed++
							}
						}
						for _, p := range cev.GetActivityTaskScheduledEventAttributes().GetInput().GetPayloads() {
							require.Equal(t, converter.MetadataEncodingJSON, string(p.GetMetadata()[converter.MetadataEncoding]), "activity inputs stay plain")
							plainInputs++
						}
					}
					require.NoError(t, replayCompressed(ch, codec.Codec{}.ReplayerOptions()))
					require.Error(t, replayCompressed(ch, worker.WorkflowReplayerOptions{}), "replays without the codec: not compressed")
					cycles = append(cycles, child.GetRunId())
				}
			}
		}
	}
	require.NotEmpty(t, cycles)
	require.GreaterOrEqual(t, compressed, inScope(ps)/w.job.Options.BatchSize, "every full batch's result is compressed")
	require.NotZero(t, plainInputs)

	for name, cl := range map[string]client.Client{"codec client": history.WithConverter(c, opts.DataConverter), "plain client": tmp.Client} {
		created := 0
		require.NoError(t, history.Read(context.Background(), cl, "default", w.job.Name, func(e audit.Entry) error {
			if e.Action == audit.Create && e.Status == audit.Success {
				created++
			}
			return nil
		}), name)
		require.Equal(t, inScope(ps), created, name)
	}
}

// replayCompressed replays a cycle's history with the replayer options o.
func replayCompressed(h *historypb.History, o worker.WorkflowReplayerOptions) error {
	r, err := worker.NewWorkflowReplayerWithOptions(o)
	if err != nil {
		return err
	}
	workflows.Register(r)
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	return r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
}
