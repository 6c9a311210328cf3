package postgres

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/openprovisioning/provisioner/internal/testenv/debian"
)

// binGlob is where Debian puts each PostgreSQL version's programs, off the PATH.
const binGlob = "/usr/lib/postgresql/*/bin"

// tools are the PostgreSQL programs a server needs, found once per process.
type tools struct {
	initdb   string
	postgres string // from the same installation as initdb
}

var (
	findOnce  sync.Once
	found     tools
	errLookup error
)

// lookup finds the tools, installing Debian's package when they are missing
// and the process may do so (root with apt-get), as on a fresh CI machine.
func lookup() (tools, error) {
	findOnce.Do(func() { found, errLookup = debian.Locate(locate, "postgresql") })
	return found, errLookup
}

func locate() (tools, error) {
	initdb, err := exec.LookPath("initdb")
	if err == nil {
		// PATH often holds links to one version's programs; its postgres is
		// beside the link's target.
		initdb, err = filepath.EvalSymlinks(initdb)
	}
	if err != nil {
		initdb = newestInitdb()
	}
	if initdb == "" {
		return tools{}, errors.New("initdb not found on PATH nor in " + binGlob + " (install Debian's postgresql package)")
	}
	t := tools{initdb: initdb, postgres: filepath.Join(filepath.Dir(initdb), "postgres")}
	if _, err := os.Stat(t.postgres); err != nil {
		return t, fmt.Errorf("postgres not found beside %s", initdb)
	}
	return t, nil
}

// newestInitdb returns the initdb of the highest version Debian installed.
func newestInitdb() string {
	dirs, _ := filepath.Glob(binGlob)
	version := func(dir string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		p := filepath.Join(d, "initdb")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}
