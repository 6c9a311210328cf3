// Package samba runs a real Active Directory domain controller for tests:
// Samba's AD DC, installed from Debian's packages when missing, serving LDAP
// on 127.0.0.1:389 and LDAPS on 127.0.0.1:636 with a certificate signed by a
// CA made for the test. It has what an imitation cannot: objectGUID,
// uSNChanged and invocationId, userAccountControl, unicodePwd, the Deleted
// Objects container, ranged member lists, and simple binds refused without
// TLS.
//
// Samba's LDAP ports are fixed, and go test runs the test binaries of
// several packages at once: a DC holds a machine-wide file lock for its
// lifetime, so tests that start one wait for each other. A domain is
// provisioned once per machine and Samba version (about 6 s) and kept as a
// template outside the repository; each DC starts from a fresh copy of it
// (about 1 s), so every test sees a domain nobody else wrote to.
package samba

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/internal/testenv/daemon"
	"github.com/openprovisioning/provisioner/internal/testenv/debian"
	"github.com/openprovisioning/provisioner/internal/testenv/testcert"
)

// The domain every DC serves.
const (
	Realm = "AD.EXAMPLE.ORG"
	// NetBIOSDomain is the pre-Windows 2000 domain name.
	NetBIOSDomain = "EXAMPLE"
	Base          = "DC=ad,DC=example,DC=org"
	// AdminDN is the built-in Administrator account.
	AdminDN = "CN=Administrator,CN=Users," + Base
	// Users is the default container of user accounts.
	Users = "CN=Users," + Base
	// URL and LDAPSURL are where every DC listens: AD's ports are fixed.
	URL      = "ldap://127.0.0.1:389"
	LDAPSURL = "ldaps://127.0.0.1:636"
)

// DC is a running domain controller.
type DC struct {
	// AdminPassword is Administrator's password; AdminPasswordFile holds
	// it with no newline.
	AdminPassword     string
	AdminPasswordFile string
	// CACertFile is the PEM file of the CA that signed the DC's certificate
	// (valid for 127.0.0.1 and localhost).
	CACertFile string

	dir  string
	proc *daemon.Process
	lock *os.File
}

// inProcess serialises DCs within one test binary; the file lock does so
// between binaries.
var inProcess sync.Mutex

// Start runs a DC for the test and stops it in t.Cleanup. Under -short the
// test is skipped; elsewhere a DC that cannot be installed or started fails
// it.
func Start(t testing.TB) *DC {
	t.Helper()
	if testing.Short() {
		t.Skip("samba: needs a Samba AD domain controller; skipped with -short")
	}
	tl, err := lookup()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	inProcess.Lock()
	lock, err := acquire(t)
	if err != nil {
		inProcess.Unlock()
		t.Fatalf("samba: %v", err)
	}
	d := &DC{dir: t.TempDir(), lock: lock}
	t.Cleanup(func() {
		d.Stop()
		_ = d.lock.Close() // releases the lock
		inProcess.Unlock()
	})
	tmpl, err := template(tl)
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	if err := d.prepare(tmpl); err != nil {
		t.Fatalf("samba: %v", err)
	}
	if err := d.run(tl); err != nil {
		t.Fatalf("samba: %v", err)
	}
	return d
}

// lockPath is machine-wide, like the ports it guards.
var lockPath = filepath.Join(os.TempDir(), "openprovisioning-samba-ad-dc.lock")

// acquire takes the machine's DC lock, waiting for whoever holds it.
func acquire(t testing.TB) (*os.File, error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		return f, nil
	}
	t.Logf("samba: waiting for another test's domain controller to stop (%s)", lockPath)
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %v", lockPath, err)
	}
	t.Logf("samba: waited %s for the domain controller lock", time.Since(start).Round(time.Millisecond))
	return f, nil
}

// templateDir holds a provisioned domain, never served itself.
type templateDir struct {
	dir      string
	password string
}

// template returns the provisioned domain for this Samba version,
// provisioning it first when there is none; the caller holds the lock.
func template(tl tools) (templateDir, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return templateDir{}, err
	}
	name := "samba-ad-dc-" + regexp.MustCompile(`[^A-Za-z0-9.+-]+`).ReplaceAllString(tl.version, "_")
	t := templateDir{dir: filepath.Join(cache, "openprovisioning", name)}
	pw, err := os.ReadFile(filepath.Join(t.dir, "ready"))
	if err == nil {
		t.password = string(pw)
		return t, nil
	}
	if err := os.RemoveAll(t.dir); err != nil {
		return t, err
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return t, err
	}
	// Upper and lower case letters and digits meet AD's password
	// complexity rules.
	t.password = "Adm1n-" + strings.ToLower(rand.Text()[:8]) + rand.Text()[:8]
	cmd := exec.Command(tl.sambaTool, "domain", "provision",
		"--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
		"--realm="+Realm, "--domain="+NetBIOSDomain, "--host-name=dc1",
		"--adminpass="+t.password, "--targetdir="+t.dir,
		"--option=interfaces=lo", "--option=bind interfaces only=yes")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(t.dir)
		return t, fmt.Errorf("samba-tool domain provision: %v\n%s", err, debian.Tail(out, 4000))
	}
	// The marker, holding the password, says the template is complete.
	return t, os.WriteFile(filepath.Join(t.dir, "ready"), []byte(t.password), 0o600)
}

// prepare copies the template into the DC's directory, points its
// configuration there, and writes the TLS certificate.
func (d *DC) prepare(t templateDir) error {
	if out, err := exec.Command("cp", "-a", t.dir+"/.", d.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("copying the domain template: %v: %s", err, out)
	}
	conf := filepath.Join(d.dir, "etc", "smb.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, bytes.ReplaceAll(b, []byte(t.dir), []byte(d.dir)), 0o644); err != nil {
		return err
	}
	certs := filepath.Join(d.dir, "tls")
	if err := os.Mkdir(certs, 0o700); err != nil {
		return err
	}
	if err := testcert.Write(certs); err != nil {
		return err
	}
	d.CACertFile = filepath.Join(certs, "ca.pem")
	d.AdminPassword = t.password
	d.AdminPasswordFile = filepath.Join(d.dir, "adminpw")
	return os.WriteFile(d.AdminPasswordFile, []byte(d.AdminPassword), 0o600)
}

// run starts samba in the foreground, in one process, serving LDAP alone.
func (d *DC) run(tl tools) error {
	var logs syncBuffer
	certs := filepath.Join(d.dir, "tls")
	cmd := exec.Command(tl.samba, "--interactive", "--model=single",
		"--configfile="+filepath.Join(d.dir, "etc", "smb.conf"),
		"--option=server services=ldap",
		// Tests lose nothing when a crash loses writes; syncing each one
		// makes an add take tens of milliseconds.
		"--option=ldb:nosync=true",
		"--option=pid directory="+d.dir,
		"--option=tls enabled=yes",
		"--option=tls keyfile="+filepath.Join(certs, "server.key"),
		"--option=tls certfile="+filepath.Join(certs, "server.pem"),
		"--option=tls cafile="+d.CACertFile)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	d.proc, err = daemon.Start("samba on "+LDAPSURL, cmd, logs.Bytes, d.ping, time.Minute)
	return err
}

// ping binds as Administrator over LDAPS: the DC is ready when that works.
func (d *DC) ping() error { return d.BindAs(AdminDN, d.AdminPassword) }

// BindAs signs in over LDAPS with a DN or user principal name and a
// password, and signs out.
func (d *DC) BindAs(user, password string) error {
	c, err := d.dial(user, password)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

func (d *DC) dial(user, password string) (*ldap.Conn, error) {
	pem, err := os.ReadFile(d.CACertFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no certificate in " + d.CACertFile)
	}
	c, err := ldap.DialURL(LDAPSURL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}),
		ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(user, password); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Stop ends the DC; it is safe to call more than once.
func (d *DC) Stop() {
	d.proc.Stop(syscall.SIGTERM)
	d.proc = nil
}

// Conn returns a connection over LDAPS bound as Administrator, closed when
// the test ends.
func (d *DC) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := d.dial(AdminDN, d.AdminPassword)
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// AddOU creates organizational units, parents before children.
func (d *DC) AddOU(t testing.TB, dns ...string) {
	t.Helper()
	c := d.Conn(t)
	for _, dn := range dns {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		if err := c.Add(req); err != nil {
			t.Fatalf("samba: add %s: %v", dn, err)
		}
	}
}

// syncBuffer collects a server's output, written by the process's copier
// goroutine and read by the test on failure.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
