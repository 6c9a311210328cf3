// Package slapd runs a private OpenLDAP server for tests: a slapd.conf and
// an mdb database in the test's temporary directory, listening on free
// loopback ports, stopped when the test ends. It installs Debian's slapd and
// ldap-utils when they are missing and the test runs as root, so a fresh CI
// machine with only Go and apt needs no setup step.
package slapd

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/internal/testenv/daemon"
	"github.com/openprovisioning/provisioner/internal/testenv/debian"
	"github.com/openprovisioning/provisioner/internal/testenv/testcert"
)

// The directory tree every server holds.
const (
	Base   = "dc=example,dc=org"
	RootDN = "cn=admin," + Base
	People = "ou=people," + Base
	Groups = "ou=groups," + Base
)

// Options shape a server.
type Options struct {
	// TLS also serves ldaps:// (and StartTLS on ldap://) with a certificate
	// signed by a CA generated for this server (Server.CACertFile).
	TLS bool
	// Schemas are extra schema definitions in slapd.conf syntax, such as
	// ADSchema.
	Schemas []string
	// Preload is LDIF loaded with slapadd before the server starts: the fast
	// way to fill a large directory. Entries get entryUUID, entryCSN and
	// timestamps as if they had been added over LDAP.
	Preload io.Reader
}

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT; StartTLS works on it when Options.TLS.
	URL string
	// LDAPSURL is ldaps://127.0.0.1:PORT when Options.TLS, else "".
	LDAPSURL string
	// RootPW is the password of RootDN; RootPWFile holds it with no newline.
	RootPW     string
	RootPWFile string
	// CACertFile is the PEM file of the CA that signed the server's
	// certificate, when Options.TLS.
	CACertFile string

	tools tools
	dir   string
	proc  *daemon.Process
}

// Start runs a server for the test and stops it in t.Cleanup. When slapd is
// missing and cannot be installed the test fails under CI (CI set) and is
// skipped elsewhere.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	tl, err := lookup()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("slapd: %v", err)
		}
		t.Skipf("slapd: %v", err)
	}
	s := &Server{tools: tl, dir: t.TempDir(), RootPW: rand.Text()}
	if err := s.prepare(opts); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	// A free port can be taken by someone else between our probe and
	// slapd's bind, so a failed start is retried on new ports.
	for attempt := 1; ; attempt++ {
		err = s.start(opts.TLS)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("slapd: %v", err)
		}
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) prepare(opts Options) error {
	if appArmorEnabled() {
		// Debian's AppArmor profile for /usr/sbin/slapd forbids reading a
		// configuration in a temporary directory; a copy of the binary at
		// another path runs unconfined.
		p := filepath.Join(s.dir, "slapd")
		if err := copyFile(s.tools.slapd, p, 0o755); err != nil {
			return err
		}
		s.tools.slapd = p
	}
	s.RootPWFile = filepath.Join(s.dir, "rootpw")
	if err := os.WriteFile(s.RootPWFile, []byte(s.RootPW), 0o600); err != nil {
		return err
	}
	if opts.TLS {
		if err := testcert.Write(s.dir); err != nil {
			return err
		}
		s.CACertFile = filepath.Join(s.dir, "ca.pem")
	}
	conf, err := writeConfig(s.dir, s.tools, opts, s.RootPW)
	if err != nil {
		return err
	}
	in := io.Reader(strings.NewReader(baseLDIF))
	if opts.Preload != nil {
		in = io.MultiReader(in, opts.Preload)
	}
	// slapadd is slapd run under another name; -q skips consistency checks
	// that only matter for a crash during the load.
	cmd := exec.Command(s.tools.slapd, "-f", conf, "-q")
	cmd.Args[0] = "slapadd"
	cmd.Stdin = in
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("slapadd: %v\n%s", err, debian.Tail(out, 4000))
	}
	return nil
}

// start runs slapd on new free ports, which Restart starts it on again.
func (s *Server) start(withTLS bool) error {
	port, err := daemon.RestartablePort()
	if err != nil {
		return err
	}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	if withTLS {
		tlsPort, err := daemon.RestartablePort()
		if err != nil {
			return err
		}
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
	}
	return s.run()
}

// run starts slapd on the server's URLs and waits until it answers.
func (s *Server) run() error {
	urls := s.URL + "/"
	if s.LDAPSURL != "" {
		urls += " " + s.LDAPSURL + "/"
	}
	var logs bytes.Buffer
	// -d keeps slapd in the foreground, so it is our child to stop.
	cmd := exec.Command(s.tools.slapd, "-f", filepath.Join(s.dir, "slapd.conf"), "-h", urls, "-d", "0")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	s.proc, err = daemon.Start("slapd on "+s.URL, cmd, logs.Bytes, s.ping, 15*time.Second)
	return err
}

// Restart stops the server and starts it again on the same ports and data,
// closing every client connection as a directory restart or an idle
// time-out would.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.run(); err != nil {
		t.Fatalf("slapd: restart: %v", err)
	}
}

// ping binds as the root DN: the server is ready when that works.
func (s *Server) ping() error {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(2 * time.Second)
	return c.Bind(RootDN, s.RootPW)
}

// Stop ends the server; tests call it to make the directory unreachable.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.proc.Stop(syscall.SIGTERM)
	s.proc = nil
}

// Conn returns a connection bound as the root DN, closed when the test ends.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("slapd: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(RootDN, s.RootPW); err != nil {
		t.Fatalf("slapd: bind: %v", err)
	}
	return c
}

// Modify applies LDIF with ldapmodify as the root DN: records without a
// changetype are added, others (modify, delete, modrdn) applied as written.
func (s *Server) Modify(t testing.TB, ldif string) {
	t.Helper()
	cmd := exec.Command(s.tools.ldapmodify, "-a", "-x", "-H", s.URL, "-D", RootDN, "-y", s.RootPWFile)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slapd: ldapmodify: %v\n%s", err, out)
	}
}

func appArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}
