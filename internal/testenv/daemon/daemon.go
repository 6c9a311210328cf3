// Package daemon runs the servers tests need (slapd, PostgreSQL) as child
// processes: started, waited for until they answer, and stopped.
package daemon

import (
	"fmt"
	"math/rand/v2"
	"net"
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

// RestartablePort returns a free loopback port for a server that is
// stopped and started again on the same port. It is below the kernel's
// range of ephemeral ports where the kernel says what that range is: a
// port the kernel hands out could, between the stop and the start,
// become the local end of another process's connection (the tests of
// other packages run at the same time), and the server would fail to
// bind it, where ports below the range are only taken on purpose.
func RestartablePort() (int, error) {
	if r, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var low, high int
		if _, err := fmt.Sscan(string(r), &low, &high); err == nil && low > 2048 {
			from := max(1024, low-12000)
			for range 100 {
				port := from + rand.IntN(low-from)
				if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
					l.Close()
					return port, nil
				}
			}
		}
	}
	return FreePort()
}

// FreePort returns a loopback port free now, from the kernel.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
