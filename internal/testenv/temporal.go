// Package testenv starts the real components integration tests run against:
// a Temporal dev server from the Temporal CLI (built once and cached by
// scripts/temporal-cli), and the project's own programs built from source.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/internal/testenv/daemon"
)

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// TemporalCLI returns the path of the Temporal CLI, building it when missing.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	cliOnce.Do(func() {
		out, err := exec.Command(filepath.Join(RepoRoot(), "scripts", "temporal-cli")).Output()
		cliPath, cliErr = strings.TrimSpace(string(out)), err
	})
	if cliErr != nil {
		t.Fatalf("Temporal CLI: %v", cliErr)
	}
	return cliPath
}

// Temporal is a running dev server.
type Temporal struct {
	Server *testsuite.DevServer
	Client client.Client
	// UI is the Web UI's address, "" when the server runs without it.
	UI string
	// opts start the server again on Restart.
	opts testsuite.DevServerOptions
}

// StartTemporal starts a Temporal dev server on a free loopback port with the
// provisioning search attributes registered; extra arguments are passed to
// `temporal server start-dev` (for example dynamic configuration).
func StartTemporal(t testing.TB, extra ...string) *Temporal {
	t.Helper()
	return startTemporal(t, "", "", extra)
}

// StartTemporalRestartable is StartTemporal with the server's data in a
// file, so that Restart can stop the server and start it again with every
// workflow where it was.
func StartTemporalRestartable(t testing.TB, extra ...string) *Temporal {
	t.Helper()
	return startTemporal(t, "", filepath.Join(t.TempDir(), "temporal.db"), extra)
}

// Restart stops the dev server of StartTemporalRestartable and starts it
// again on the same port and data; clients and workers reconnect.
func (tmp *Temporal) Restart(t testing.TB) {
	t.Helper()
	if tmp.opts.DBFilename == "" {
		t.Fatal("restart: the dev server keeps no data file (start it with StartTemporalRestartable)")
	}
	// The server ends on the interrupt, which is its exit status.
	_ = tmp.Server.Stop()
	opts := tmp.opts
	co := *opts.ClientOptions
	co.HostPort = tmp.Server.FrontendHostPort()
	opts.ClientOptions = &co
	tmp.Server = launch(t, opts)
	tmp.Server.Client().Close()
}

// StartTemporalWithUI is StartTemporal with the Web UI served too; extra
// arguments are passed to `temporal server start-dev`, for example
// --ui-codec-endpoint for a codec server.
func StartTemporalWithUI(t testing.TB, extra ...string) *Temporal {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	tmp := startTemporal(t, port, "", extra)
	tmp.UI = "http://127.0.0.1:" + port
	return tmp
}

func startTemporal(t testing.TB, uiPort, dbFile string, extra []string) *Temporal {
	t.Helper()
	sas := []temporal.SearchAttributeUpdate{}
	for _, k := range api.SearchAttributeKeys() {
		sas = append(sas, k.ValueSet(""))
	}
	// The server's output is kept, not printed: the test shows it if it
	// fails. A panic of the server printed in a test's output reads as a
	// panic of the test binary, and a failed test is then not run again.
	out := &tail{}
	co := &client.Options{Namespace: "default", Logger: quiet{}}
	if dbFile != "" {
		port, err := daemon.RestartablePort()
		if err != nil {
			t.Fatalf("Temporal dev server: %v", err)
		}
		co.HostPort = fmt.Sprintf("127.0.0.1:%d", port)
	}
	opts := testsuite.DevServerOptions{
		ExistingPath:     TemporalCLI(t),
		LogLevel:         "error",
		ClientOptions:    co,
		SearchAttributes: temporal.NewSearchAttributes(sas...),
		ExtraArgs:        extra,
		EnableUI:         uiPort != "",
		UIPort:           uiPort,
		DBFilename:       dbFile,
		Stdout:           out,
		Stderr:           out,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the Temporal dev server's last output:\n%s", out)
		}
	})
	srv := launch(t, opts)
	tmp := &Temporal{Server: srv, Client: srv.Client(), opts: opts}
	t.Cleanup(func() { _ = tmp.Server.Stop() })
	return tmp
}

// launch starts a dev server process and waits until it answers.
func launch(t testing.TB, opts testsuite.DevServerOptions) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		t.Fatalf("start Temporal dev server: %v", err)
	}
	return srv
}

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 16 << 10

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - tailSize; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// quiet keeps SDK client chatter out of test output.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// Build compiles a main package of the repository (e.g. "./worker") into a
// test folder and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
