package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/workflows"
)

func replayCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE...",
		Short: "Replay recorded workflow histories against this build's workflow code",
		Long: `Replay workflow histories of provisioning jobs and cycles against the
workflow code of this build. A history is JSON as written by
"temporal workflow show -o json" or the Web UI's download, gzipped when its
name ends in .gz; histories encrypted by the payload codec need its keys
(--codec-keys-file or --codec-keys-env). Exits 1 when any history does not
replay: running workflows with such a history would fail on a worker of
this build.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := g.codec.Keys()
			if err != nil {
				return invalidError{err}
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, path := range args {
				h, err := loadHistory(path)
				if err == nil {
					err = replay(h, keys)
				}
				if err != nil {
					failed++
					fmt.Fprintf(out, "FAIL %s: %v\n", path, err)
					continue
				}
				start := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
				fmt.Fprintf(out, "ok   %s (%s, %d events)\n", path, start.GetWorkflowType().GetName(), len(h.GetEvents()))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d histories do not replay", failed, len(args))
			}
			return nil
		},
	}
}

// replay replays one history with every provisioning workflow registered,
// under its recorded workflow ID: a job derives its cycles' IDs from its own.
// Payloads are decompressed, and decrypted with keys when given.
func replay(h *historypb.History, keys *codec.Keys) error {
	r, err := worker.NewWorkflowReplayerWithOptions(codec.Codec{Keys: keys}.ReplayerOptions())
	if err != nil {
		return err
	}
	workflows.Register(r)
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	return r.ReplayWorkflowHistoryWithOptions(quietLogger{}, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
}

func loadHistory(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		r = gz
	}
	h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	if err != nil {
		return nil, err
	}
	if len(h.GetEvents()) == 0 {
		return nil, fmt.Errorf("no events")
	}
	return h, nil
}
