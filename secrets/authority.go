package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Authority is what a worker's operator lets job configurations read on the
// worker's host. A job configuration is written by whoever may start a
// workflow in the namespace, and a secret it names is sent to a server it
// names: unchecked, `token: {env: PGPASSWORD}` with a baseURL of the
// sender's choosing would ship the state store's password out, and a file
// source could read (and write back to) any file the worker can.
type Authority struct {
	// Env lists the environment variables secrets may be read from: a name,
	// or a prefix ending in "*".
	Env []string
	// SecretDirs are the folders, at any depth, secret files may be read from.
	SecretDirs []string
	// SourceDirs are the folders, at any depth, file sources may read and
	// write values back to.
	SourceDirs []string
}

// DefaultEnv is what job configurations may name when the worker's operator
// allowed no environment variable: a prefix no other program uses, so that
// only variables set for jobs are read.
const DefaultEnv = "PROVISIONING_SECRET_*"

// ErrNotAllowed is matched by errors for what the authority refuses.
var ErrNotAllowed = errors.New("not allowed by this worker")

var restriction atomic.Pointer[Authority]

// Restrict applies the authority to every reference a job configuration
// named when it is resolved (see Ref.Resolve); nil lifts it. The worker sets
// it once as it starts, so that a configuration that reaches a connector
// without the worker's validation is refused all the same.
func Restrict(a *Authority) { restriction.Store(a) }

// Restriction returns the authority set by Restrict, nil when none is.
func Restriction() *Authority { return restriction.Load() }

// CheckRef refuses a reference the authority does not let a job
// configuration name. A nil authority allows every reference.
func (a *Authority) CheckRef(r Ref) error {
	switch {
	case a == nil:
		return nil
	case r.Env != "":
		for _, pattern := range a.Env {
			if prefix, ok := strings.CutSuffix(pattern, "*"); (ok && strings.HasPrefix(r.Env, prefix)) || pattern == r.Env {
				return nil
			}
		}
		return fmt.Errorf("environment variable %s is %w (it lets jobs read %s; its operator sets -allow-env)", r.Env, ErrNotAllowed, list(a.Env))
	case r.File != "":
		return within("secret file", r.File, a.SecretDirs, "-allow-secret-dir")
	}
	return nil
}

// CheckSource refuses a file source's path outside the authority's source
// folders. A nil authority allows every path.
func (a *Authority) CheckSource(path string) error {
	if a == nil {
		return nil
	}
	return within("source file", path, a.SourceDirs, "-allow-source-dir")
}

func list(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}

// within checks that path is inside one of dirs once both are made
// absolute and their symbolic links followed, so that neither "../" nor a
// link inside an allowed folder leads out of it.
func within(what, path string, dirs []string, flag string) error {
	p, err := realPath(path)
	if err != nil {
		return fmt.Errorf("%s %s cannot be located: %v", what, path, err)
	}
	for _, d := range dirs {
		rd, err := realPath(d)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(rd, p)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	if p != filepath.Clean(path) {
		path += " (" + p + ")"
	}
	return fmt.Errorf("%s %s is %w: it is outside the folders it lets jobs read (%s; its operator sets %s)", what, path, ErrNotAllowed, list(dirs), flag)
}

// realPath is the absolute path with symbolic links followed; for a file
// not there yet (a source whose first export has not arrived), those of
// its nearest existing folder.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		real, err := filepath.EvalSymlinks(abs)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", err
		}
		rest = filepath.Join(filepath.Base(abs), rest)
		abs = parent
	}
}
