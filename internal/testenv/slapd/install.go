package slapd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/openprovisioning/provisioner/internal/testenv/debian"
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
	findOnce.Do(func() { found, errLookup = debian.Locate(locate, "slapd", "ldap-utils") })
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
