package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/openprovisioning/provisioner/secrets"
)

// authorityFlags say what job configurations may read on the worker's
// host. Whoever may start a workflow in the namespace writes job
// configurations; only the worker's operator sets these.
type authorityFlags struct {
	env, secretDirs, sourceDirs list
}

func (f *authorityFlags) register(fs *flag.FlagSet) {
	f.env.set(os.Getenv("PROVISIONING_ALLOW_ENV"))
	f.secretDirs.set(os.Getenv("PROVISIONING_ALLOW_SECRET_DIRS"))
	f.sourceDirs.set(os.Getenv("PROVISIONING_ALLOW_SOURCE_DIRS"))
	fs.Var(&f.env, "allow-env", "environment variables job configurations may read secrets from: names, or prefixes ending in *, comma-separated or repeated (env PROVISIONING_ALLOW_ENV; default "+secrets.DefaultEnv+")")
	fs.Var(&f.secretDirs, "allow-secret-dir", "folders job configurations may read secret files from, comma-separated or repeated (env PROVISIONING_ALLOW_SECRET_DIRS; default none)")
	fs.Var(&f.sourceDirs, "allow-source-dir", "folders file sources may read and write back to, comma-separated or repeated (env PROVISIONING_ALLOW_SOURCE_DIRS; default the system's temporary folder, "+os.TempDir()+")")
}

// authority returns what the flags allow; every folder must exist. When
// the operator allowed nothing, jobs may read the variables named for them
// (secrets.DefaultEnv), no secret file, and sources in the system's
// temporary folder, where first trials and tests put their exports; never
// the worker's own settings, its working folder or the host's files.
func (f *authorityFlags) authority() (*secrets.Authority, error) {
	a := &secrets.Authority{Env: f.env.values, SecretDirs: f.secretDirs.values, SourceDirs: f.sourceDirs.values}
	if len(a.Env) == 0 {
		a.Env = []string{secrets.DefaultEnv}
	}
	if len(a.SourceDirs) == 0 {
		a.SourceDirs = []string{os.TempDir()}
	}
	for _, dirs := range []struct {
		flag string
		list []string
	}{{"-allow-secret-dir", a.SecretDirs}, {"-allow-source-dir", a.SourceDirs}} {
		for i, d := range dirs.list {
			abs, err := filepath.Abs(d)
			if err == nil {
				var st os.FileInfo
				if st, err = os.Stat(abs); err == nil && !st.IsDir() {
					err = fmt.Errorf("not a folder")
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", dirs.flag, d, err)
			}
			dirs.list[i] = abs
		}
	}
	return a, nil
}

// list is a flag of comma-separated values that may be repeated; values
// given on the command line replace those from the environment.
type list struct {
	values  []string
	fromCLI bool
}

func (l *list) String() string { return strings.Join(l.values, ",") }

func (l *list) Set(s string) error {
	if !l.fromCLI {
		l.values, l.fromCLI = nil, true
	}
	l.set(s)
	return nil
}

func (l *list) set(s string) {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			l.values = append(l.values, v)
		}
	}
}
