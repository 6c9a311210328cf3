package slapd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Where distributions put OpenLDAP's programs, modules and schemas. The
// sbin directories are searched explicitly because they are often missing
// from a non-root PATH.
var (
	binDirs    = []string{"/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/libexec"}
	moduleDirs = []string{"/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/local/libexec/openldap", "/usr/libexec/openldap"}
	schemaDirs = []string{"/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema"}
)

// tools are the OpenLDAP files a server needs, found once per process.
type tools struct {
	slapd      string // the server; slapadd is the same binary under another name
	ldapmodify string
	moduleDir  string // "" when back_mdb is built in
	schemaDir  string
}

var (
	findOnce  sync.Once
	found     tools
	errLookup error
)

// lookup finds the tools, installing Debian's packages when they are missing
// and the process may do so (root with apt-get), as on a fresh CI machine.
func lookup() (tools, error) {
	findOnce.Do(func() {
		found, errLookup = locate()
		if errLookup == nil {
			return
		}
		if err := install(); err != nil {
			errLookup = fmt.Errorf("%w; installing failed: %v", errLookup, err)
			return
		}
		found, errLookup = locate()
	})
	return found, errLookup
}

func locate() (tools, error) {
	var t tools
	var err error
	if t.slapd, err = findProgram("slapd"); err != nil {
		return t, err
	}
	if t.ldapmodify, err = findProgram("ldapmodify"); err != nil {
		return t, err
	}
	t.schemaDir = firstDirWith(schemaDirs, "core.schema")
	if t.schemaDir == "" {
		return t, errors.New("OpenLDAP schema directory (core.schema) not found")
	}
	t.moduleDir = firstDirWith(moduleDirs, "back_mdb.la")
	if t.moduleDir == "" {
		t.moduleDir = firstDirWith(moduleDirs, "back_mdb.so")
	}
	return t, nil
}

func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range binDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (install Debian's slapd and ldap-utils packages)", name)
}

func firstDirWith(dirs []string, file string) string {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, file)); err == nil {
			return d
		}
	}
	return ""
}

// install runs apt-get; a first failure is usually stale package lists on
// a fresh machine, so the lists are updated and the install tried again.
func install() error {
	if os.Geteuid() != 0 {
		return errors.New("not root, cannot run apt-get")
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return errors.New("apt-get not available")
	}
	run := func(args ...string) error {
		// The lock timeout lets test binaries of several packages, started
		// at once by go test, wait for each other's installs.
		cmd := exec.Command(apt, append([]string{"-o", "DPkg::Lock::Timeout=600"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %v: %v\n%s", args, err, tail(out, 2000))
		}
		return nil
	}
	pkgs := []string{"install", "-y", "--no-install-recommends", "slapd", "ldap-utils"}
	if run(pkgs...) == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(pkgs...)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
