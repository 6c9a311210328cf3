package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
)

// workerProc is the worker binary running as a child process, so that its
// memory and CPU are its own and can be read from /proc.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// startWorker starts the worker on the dev server at address or, when
// address is "", on the Temporal that the environment configuration names.
func startWorker(bin, dir, address string, maxActivities int, extra, env []string) (*workerProc, error) {
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := []string{
		"-state", filepath.Join(dir, "state.db"),
		"-log-format", "json",
		"-log-level", "warn",
		"-max-activities", strconv.Itoa(maxActivities),
	}
	base := os.Environ()
	if address != "" {
		args = append(args, "-address", address)
		base = devServerEnv(dir)
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Env = append(base, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	w := &workerProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		w.err = cmd.Wait()
		logFile.Close()
		close(w.done)
	}()
	return w, nil
}

// devServerEnv is this process's environment without Temporal's
// environment configuration, so that the developer's own profile (an API
// key, TLS settings) does not reach the bench's plaintext dev server.
func devServerEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	return append(env, "TEMPORAL_CONFIG_FILE="+filepath.Join(dir, "no-temporal.toml"))
}

func (w *workerProc) pid() int { return w.cmd.Process.Pid }

// polling returns once the worker polls the provisioning task queue for
// workflow and activity tasks: a cycle is timed from then, as a worker
// that runs for months would run it, not from the process's start.
func (w *workerProc) polling(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		ready := true
		for _, t := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := c.DescribeTaskQueue(ctx, api.TaskQueue, t)
			if err != nil || len(resp.GetPollers()) == 0 {
				ready = false
			}
		}
		if ready {
			return nil
		}
		if err := w.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the worker does not poll %s; see %s", api.TaskQueue, w.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exited reports an early exit, which otherwise shows only as a cycle that
// never finishes.
func (w *workerProc) exited() error {
	select {
	case <-w.done:
		return fmt.Errorf("the worker exited (%v); see %s", w.err, w.log)
	default:
		return nil
	}
}

// stop interrupts the worker, which drains, and kills it if it lingers.
func (w *workerProc) stop() {
	if w.exited() != nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-w.done:
	case <-time.After(15 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}
