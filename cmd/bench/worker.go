package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// workerProc is the worker binary running as a child process, so that its
// memory and CPU are its own and can be read from /proc.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

func startWorker(bin, dir, address string, maxActivities int, extra, env []string) (*workerProc, error) {
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{
		"-address", address,
		"-state", filepath.Join(dir, "state.db"),
		"-log-format", "json",
		"-log-level", "warn",
		"-max-activities", strconv.Itoa(maxActivities),
	}, extra...)...)
	cmd.Env = append(os.Environ(), env...)
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

func (w *workerProc) pid() int { return w.cmd.Process.Pid }

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
