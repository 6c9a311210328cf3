// Package daemon runs the servers tests need (slapd, PostgreSQL) as child
// processes: started, waited for until they answer, and stopped.
package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/openprovisioning/provisioner/internal/testenv/debian"
)

// Process is a server running as a child process.
type Process struct {
	cmd  *exec.Cmd
	exit chan struct{}
}

// Start starts cmd and waits until ready succeeds. It fails, with the end
// of the server's log, when the server exits first, and after timeout.
func Start(name string, cmd *exec.Cmd, log func() []byte, ready func() error, timeout time.Duration) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exit: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exit) }()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exit:
			return nil, fmt.Errorf("%s exited at start: %s", name, debian.Tail(log(), 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if ready() == nil {
			return p, nil
		}
	}
	p.Stop(os.Kill)
	return nil, fmt.Errorf("%s did not answer within %s", name, timeout)
}

// Stop sends the server sig (its way to shut down fast), and kills it if
// it has not exited after ten seconds. It is safe to call more than once.
func (p *Process) Stop(sig os.Signal) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exit:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exit
	}
}
