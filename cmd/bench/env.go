package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/internal/temporalx"
	"github.com/openprovisioning/provisioner/secrets"
)

const modulePath = "github.com/openprovisioning/provisioner"

// repoRoot finds the repository from the working folder: the worker is
// built from source and the Temporal CLI comes from the repository's script.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run bench inside the %s repository", modulePath)
		}
		dir = parent
	}
}

// temporalCLI returns the Temporal CLI's path; the script builds it when
// missing and honours TEMPORAL_CLI.
func temporalCLI(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "temporal-cli"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("temporal CLI: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// startTemporal starts a dev server on a free loopback port with the
// provisioning search attributes, its output going to log.
func startTemporal(ctx context.Context, cli string, extra []string, log io.Writer, cd codec.Codec) (*testsuite.DevServer, error) {
	var sas []temporal.SearchAttributeUpdate
	for _, k := range api.SearchAttributeKeys() {
		sas = append(sas, k.ValueSet(""))
	}
	co := &client.Options{Namespace: "default", Logger: quiet{}}
	cd.ClientOptions(co)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		ClientOptions:    co,
		SearchAttributes: temporal.NewSearchAttributes(sas...),
		ExtraArgs:        extra,
		Stdout:           log,
		Stderr:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	return srv, nil
}

// connect starts a dev server of the bench's own and returns its client and
// address, or with -temporal-env dials the Temporal that Temporal's
// environment configuration names, whose address the worker reads from
// the same configuration (""). The client encodes payloads with cd, as the
// worker does. stop ends what was started.
func connect(ctx context.Context, root, dir string, o options, cd codec.Codec) (c client.Client, address string, stop func(), err error) {
	if o.temporalEnv {
		opts, err := temporalx.Connection{Logger: quiet{}}.ClientOptions()
		if err != nil {
			return nil, "", nil, err
		}
		cd.ClientOptions(&opts)
		logf("connecting to Temporal at %s, namespace %s (%s)", opts.HostPort, opts.Namespace, temporalx.Security(opts))
		if c, err = temporalx.Dial(opts); err != nil {
			return nil, "", nil, err
		}
		return c, "", c.Close, nil
	}
	cli, err := temporalCLI(ctx, root)
	if err != nil {
		return nil, "", nil, err
	}
	srvLog, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		return nil, "", nil, err
	}
	logf("starting the Temporal dev server")
	srv, err := startTemporal(ctx, cli, o.temporalArgs, srvLog, cd)
	if err != nil {
		srvLog.Close()
		return nil, "", nil, err
	}
	return srv.Client(), srv.FrontendHostPort(), func() { _ = srv.Stop(); srvLog.Close() }, nil
}

// quiet keeps SDK client chatter out of the report.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// buildWorker compiles ./worker into dir.
func buildWorker(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "worker")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./worker")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ./worker: %w\n%s", err, out)
	}
	return bin, nil
}

// benchCodec makes the payload codec's key for a run with -codec, in a
// file in dir, and returns it with the environment that gives the worker
// that file; without -codec, the environment keeps the codec off for the
// worker whatever the caller's environment says.
func benchCodec(on bool, dir string) (*codec.Keys, []string, error) {
	off := []string{codec.EnvKeys + "=", codec.EnvKeysFile + "="}
	if !on {
		return nil, off, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, "codec.keys")
	if err := os.WriteFile(path, []byte("bench="+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	keys, err := codec.LoadKeys(secrets.Ref{File: path})
	if err != nil {
		return nil, nil, err
	}
	return keys, append(off, codec.EnvKeysFile+"="+path), nil
}
