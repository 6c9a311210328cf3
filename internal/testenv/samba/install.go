package samba

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/openprovisioning/provisioner/internal/testenv/debian"
)

// packages are Debian's packages a domain controller needs: the server,
// its AD services and samba-tool's provisioning data.
var packages = []string{"samba", "samba-ad-dc", "samba-ad-provision"}

// tools are Samba's programs, found once per process.
type tools struct {
	samba     string
	sambaTool string
	version   string // `samba -V`, naming the cached template
}

var (
	findOnce  sync.Once
	found     tools
	errLookup error
)

// lookup finds the tools, installing Debian's packages when they are missing
// and the process may do so (root with apt-get), as on a fresh CI machine.
func lookup() (tools, error) {
	findOnce.Do(func() { found, errLookup = debian.Locate(locate, packages...) })
	return found, errLookup
}

func locate() (tools, error) {
	var t tools
	var err error
	if t.samba, err = findProgram("samba"); err != nil {
		return t, err
	}
	if t.sambaTool, err = findProgram("samba-tool"); err != nil {
		return t, err
	}
	// samba-tool provisions from schema files another package holds.
	if _, err := os.Stat("/usr/share/samba/setup/ad-schema"); err != nil {
		if _, err2 := os.Stat("/usr/local/samba/share/setup/ad-schema"); err2 != nil {
			return t, errors.New("samba-tool's AD schema files not found (install Debian's samba-ad-provision package)")
		}
	}
	out, err := exec.Command(t.samba, "-V").Output()
	if err != nil {
		return t, fmt.Errorf("samba -V: %v", err)
	}
	t.version = strings.TrimSpace(string(bytes.TrimPrefix(out, []byte("Version "))))
	return t, nil
}

func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/samba/sbin", "/usr/local/samba/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (install Debian's %s packages)", name, strings.Join(packages, ", "))
}
