// Package postgres runs a private PostgreSQL server for tests: a cluster
// made by initdb in a temporary directory, listening on a free loopback
// port, stopped when the test ends. It installs Debian's postgresql package
// when missing and the test runs as root, so a fresh CI machine with only Go
// and apt needs no setup step. PostgreSQL refuses to run as root, so a root
// test runs it as the postgres user (or nobody).
package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openprovisioning/provisioner/internal/testenv/daemon"
	"github.com/openprovisioning/provisioner/internal/testenv/debian"
)

// User is the server's superuser; TCP connections authenticate with its
// password, so DSNs carry one as in production.
const User = "postgres"

// Server is a running PostgreSQL server.
type Server struct {
	tools    tools
	dir      string
	cred     *syscall.Credential // nil unless the test runs as root
	password string
	port     int
	proc     *daemon.Process
	dsn      string
	created  atomic.Int64
}

// Start runs a server for the test, stops it in t.Cleanup, and creates a
// database for the test (DSN). The test fails when PostgreSQL is missing and
// cannot be installed.
func Start(t testing.TB) *Server {
	t.Helper()
	tl, err := lookup()
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	// Not t.TempDir: its parents are private to root, and the server may
	// run as another user.
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{tools: tl, dir: dir, password: rand.Text()}
	if err := s.prepare(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind, so a failed start is retried on a new port.
	for attempt := 1; ; attempt++ {
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("postgres: %v", err)
		}
	}
	t.Cleanup(s.Stop)
	s.dsn = s.Database(t)
	return s
}

// DSN is the URL of the database Start created, with the password.
func (s *Server) DSN() string { return s.dsn }

// Database creates an empty database and returns its URL: tests, or
// subtests, that each take one share no state.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := "test" + strconv.FormatInt(s.created.Add(1), 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("postgres: create database: %v", err)
	}
	return s.url(name)
}

func (s *Server) url(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(User, s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// prepare makes the cluster. As root, the directory and the programs
// belong to an unprivileged user.
func (s *Server) prepare() error {
	if os.Geteuid() == 0 {
		if err := s.runAsUnprivileged(); err != nil {
			return err
		}
	}
	pwfile := filepath.Join(s.dir, "password")
	if err := os.WriteFile(pwfile, []byte(s.password), 0o600); err != nil {
		return err
	}
	if err := s.chown(pwfile); err != nil {
		return err
	}
	args := []string{"-D", filepath.Join(s.dir, "data"), "-U", User, "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "-N", "--no-instructions"}
	// An ICU default collation does not sort byte by byte, as production
	// databases do not, so tests catch queries that rely on byte order
	// without asking for it. Builds without ICU, or before PostgreSQL 15,
	// get the C collation.
	out, err := s.command(s.tools.initdb, append(args, "--locale-provider=icu", "--icu-locale=en-US")...).CombinedOutput()
	if err != nil {
		out, err = s.command(s.tools.initdb, args...).CombinedOutput()
	}
	if err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, debian.Tail(out, 4000))
	}
	return nil
}

func (s *Server) runAsUnprivileged() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		if u, err = user.Lookup("nobody"); err != nil {
			return errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as")
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return s.chown(s.dir)
}

func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	// Pdeathsig stops the server should the test binary die without cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// start runs the server on a new free port and waits until it answers.
func (s *Server) start() error {
	port, err := daemon.FreePort()
	if err != nil {
		return err
	}
	s.port = port
	logPath := filepath.Join(s.dir, "server.log")
	logs, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logs.Close()
	// Durability settings are off: the cluster is thrown away. Backends
	// outlive a killed server while a query runs, so queries are bounded.
	cmd := s.command(s.tools.postgres, "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "statement_timeout=2min")
	cmd.Stdout, cmd.Stderr = logs, logs
	log := func() []byte {
		out, _ := os.ReadFile(logPath)
		return out
	}
	s.proc, err = daemon.Start("postgres", cmd, log, s.ping, 30*time.Second)
	return err
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop ends the server. It is safe to call more than once.
func (s *Server) Stop() {
	// SIGINT is PostgreSQL's fast shutdown: clients are disconnected.
	s.proc.Stop(syscall.SIGINT)
	s.proc = nil
}
