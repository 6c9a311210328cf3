// Command worker runs provisioning jobs: it connects to Temporal, registers
// the provisioning workflows and activities on the provisioning task queue,
// and runs until interrupted. Several workers may share the task queue.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/codec"
	_ "github.com/openprovisioning/provisioner/connectors/all"
	"github.com/openprovisioning/provisioner/internal/logging"
	"github.com/openprovisioning/provisioner/internal/temporalx"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		address   = flag.String("address", "", temporalx.AddressHelp)
		namespace = flag.String("namespace", "", temporalx.NamespaceHelp)
		statePath = flag.String("state", envOr("PROVISIONING_STATE", "provisioning.db"), "state store: a SQLite file, or a PostgreSQL URL postgres://user@host/db shared by workers on several machines (password in PGPASSWORD) (env PROVISIONING_STATE)")
		logFormat = flag.String("log-format", "auto", "log format: json, text or auto (text on a terminal)")
		logLevel  = flag.String("log-level", "info", "log level")
		maxActs   = flag.Int("max-activities", 16, "activities run at once by this worker")
		debug     = flag.String("debug-listen", "", "serve Go's profiler (/debug/pprof/) on this loopback host:port, e.g. 127.0.0.1:6060")
		heapMiB   = flag.Uint64("heap-budget", 128, "MiB the Go heap may grow to between garbage collections while its live part is under half of it, which spares CPU; 0 collects as Go does by default; a GOGC in the environment overrides it")
	)
	var allow authorityFlags
	allow.register(flag.CommandLine)
	var auditTo auditFlags
	auditTo.register(flag.CommandLine)
	var cdc codec.Config
	cdc.RegisterKeys(flag.CommandLine)
	compress := flag.Bool("compress", true, "compress workflow history payloads of 2 KB and more (batch results) with zstd; -compress=false writes them as plain JSON, as before, to measure the difference")
	cdc.RegisterServer(flag.CommandLine)
	var obs observeFlags
	obs.register(flag.CommandLine)
	flag.Parse()

	log, err := logging.New(*logFormat, *logLevel)
	if err != nil {
		return err
	}
	heapBudget := "Go's default"
	if keepHeapWithin(*heapMiB << 20) {
		heapBudget = fmt.Sprintf("%d MiB", *heapMiB)
	}
	if *debug != "" {
		if err := serveProfiler(*debug, log); err != nil {
			return err
		}
	}
	auth, err := allow.authority()
	if err != nil {
		return err
	}
	secrets.Restrict(auth)
	sinks, err := auditTo.sinks()
	if err != nil {
		return err
	}
	notifier, err := obs.notifier()
	if err != nil {
		return err
	}
	exp, err := obs.exporter(log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	st, stateName, err := openStore(ctx, *statePath)
	cancel()
	if err != nil {
		return err
	}
	defer st.Close()

	keys, err := cdc.Keys()
	if err != nil {
		return err
	}
	conn := temporalx.Connection{Address: *address, Namespace: *namespace, Logger: logging.Temporal{Entry: log.WithField("component", "temporal")}}
	copts, err := conn.ClientOptions()
	if err != nil {
		return err
	}
	cd := codec.Codec{Keys: keys, Uncompressed: !*compress}
	cd.ClientOptions(&copts)
	if exp != nil {
		copts.MetricsHandler = exp.Handler
	}
	c, err := temporalx.Dial(copts)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	err = temporalx.RegisterSearchAttributes(ctx, c, copts.Namespace)
	cancel()
	if err != nil {
		return err
	}

	acts := activities.New(st, log)
	acts.Trail = &activities.Trail{Client: history.WithConverter(c, copts.DataConverter), Sinks: sinks}
	acts.Notifier = notifier
	if exp != nil {
		acts.Metrics = exp.Handler
	}
	defer acts.Connections.Close()
	// Where the system cannot unlink an open file, a digest's is removed here.
	defer acts.Digests.Close()
	fatal := make(chan error, 1)
	w := worker.New(c, api.TaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: *maxActs, OnFatalError: func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}})
	workflows.Register(w)
	w.RegisterActivity(acts)
	if err := serveCodec(cdc, cd, log); err != nil {
		return err
	}
	health := &metrics.Health{Client: c}
	if err := obs.serve(exp, health, log); err != nil {
		return err
	}
	log.WithFields(map[string]any{"address": copts.HostPort, "namespace": copts.Namespace, "connection": temporalx.Security(copts), "taskQueue": api.TaskQueue, "state": stateName,
		"allowEnv": auth.Env, "allowSecretDirs": auth.SecretDirs, "allowSourceDirs": auth.SourceDirs, "audit": sinkNames(sinks),
		"notify": notifier.Targets(), "heapBudget": heapBudget}).Info("worker started")
	return runWorker(w, health, fatal)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
