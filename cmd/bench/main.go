// Command bench measures the provisioning engine against the
// non-functional targets of the specification in one run, on loopback and
// against real components: a bare HTTP baseline into the sample SCIM
// application, then an initial and an incremental cycle through a Temporal
// dev server and the worker binary run as a separate process, the history
// of every workflow run, and the worker's peak memory.
//
//	go run ./cmd/bench               # 100,000 users, 1,000 changed
//	go run ./cmd/bench -users 1000   # smoke run, under a minute
//	go run ./cmd/bench -users 5000 -faults 503=10%,lost=5%
//	go run ./cmd/bench -profile /tmp/prof   # the worker's CPU and heap profiles
//
// With -faults, the initial cycle runs again as a second job into a fresh
// sample application behind a proxy that refuses or loses a share of the
// requests, and the report sets its time beside the fault-free one.
//
// It exits non-zero when a step fails or the target ends in a wrong state;
// a missed performance target is reported in the table, not as an error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/openprovisioning/provisioner/config"
)

// options are the command's flags.
type options struct {
	users         int
	changed       int
	concurrency   int
	batchSize     int
	batches       int
	maxActivities int
	seed          uint64
	skipBaseline  bool
	timeout       time.Duration
	workerBin     string
	temporalArgs  multiFlag
	workerArgs    multiFlag
	temporalEnv   bool
	codec         bool
	compress      bool
	faults        faultSpec
	profileDir    string
	gcPercent     int
}

// multiFlag collects a flag given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var o options
	flag.IntVar(&o.users, "users", 100000, "rows in the HR export")
	flag.IntVar(&o.changed, "changed", -1, "in-scope rows changed before the incremental cycle (default 1% of -users)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "requests in flight to the target, for the baseline and the job alike")
	flag.IntVar(&o.batchSize, "batch-size", config.DefaultBatchSize, "job option batchSize: staged items per provisioning activity")
	flag.IntVar(&o.batches, "batches", config.DefaultBatches, "job option batches: provisioning activities at once")
	flag.IntVar(&o.maxActivities, "max-activities", 16, "worker flag -max-activities")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated HR export")
	flag.BoolVar(&o.skipBaseline, "skip-baseline", false, "skip the bare HTTP baseline")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "longest wait for one cycle")
	flag.StringVar(&o.workerBin, "worker-bin", "", "worker binary to run instead of building ./worker")
	flag.Var(&o.workerArgs, "worker-arg", "extra argument to the worker (repeatable), e.g. -debug-listen=127.0.0.1:6060 to profile it")
	flag.BoolVar(&o.temporalEnv, "temporal-env", false, "measure against the Temporal that its environment configuration names (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), not a dev server of the bench's own")
	flag.BoolVar(&o.codec, "codec", false, "encrypt workflow history with the payload codec, under a key made for the run, as a worker with -codec-keys-file does")
	flag.BoolVar(&o.compress, "compress", true, "compress large workflow history payloads, the worker's default; -compress=false runs the worker with -compress=false and the bench's client likewise, to measure the difference")
	faults := flag.String("faults", "", "also run the initial cycle through a fault proxy: shares of requests answered 503 or 429 or whose answers are lost after the target acted, a rate above which the target answers 429, and the Retry-After of 503s and 429s (429s: 1 unless set), e.g. 503=10%,429=5%,lost=5% or 429=200/s or 503=10%,lost=5%,retry-after=1")
	flag.StringVar(&o.profileDir, "profile", "", "write the worker's CPU profiles (one per 5 s) and its heap profile for the initial cycle into this folder")
	flag.IntVar(&o.gcPercent, "gc-percent", 400, "garbage collection target of the bench's own process, which runs the sample application and the baseline's client (not of the worker: its environment's GOGC applies)")
	flag.Var(&o.temporalArgs, "temporal-arg", "extra argument to `temporal server start-dev` (repeatable), e.g. --dynamic-config-value")
	flag.Parse()
	var err error
	if o.faults, err = parseFaults(*faults); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if o.changed < 0 {
		o.changed = max(1, o.users/100)
	}

	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// This process holds the export and the sample application's users:
	// a heap that grows with -users, which the collector would scan again
	// every time it doubled, on the two cores the worker is measured on.
	// It collects less often, but as often as it must to stay within half
	// the machine's memory; the baseline and the job share the
	// application alike.
	debug.SetGCPercent(o.gcPercent)
	if total, err := memTotal(); err == nil {
		debug.SetMemoryLimit(total / 2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "bench: the target did not end in the expected state")
		os.Exit(1)
	}
}

func (o options) check() error {
	switch {
	case o.users < 1:
		return fmt.Errorf("-users must be at least 1")
	case o.changed < 0:
		return fmt.Errorf("-changed must not be negative")
	case o.concurrency < 1 || o.batchSize < 1 || o.batches < 1 || o.maxActivities < 1:
		return fmt.Errorf("-concurrency, -batch-size, -batches and -max-activities must be at least 1")
	case o.gcPercent < 100:
		return fmt.Errorf("-gc-percent must be at least 100")
	}
	return nil
}

// logf reports progress on stderr, so stdout holds only the tables.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
