package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// result is everything one run measured.
type result struct {
	o             options
	rows, inScope int
	load          string // other work sharing the machine skews the figures

	baselineTime time.Duration // zero when skipped
	baselineCPU  time.Duration // this process's, client and target alike

	initial, incremental phase
	usersExact           check
	patches              check
	onDemand             onDemand

	runs         []runSize
	tl1, tl2     timeline
	timelineErr  error
	peakRSS      int64
	peakRSSError error
	profiles     []string // files written for -profile

	// With -faults: the initial cycle of a second job through the fault
	// proxy, what the proxy did meanwhile, and the target's state after.
	faulted      phase
	faultCounts  faultCounts
	faultedExact check
}

// phase is one measured cycle.
type phase struct {
	wall       time.Duration
	summary    api.CycleSummary
	requests   sampleapp.Stats
	cpu        map[string]time.Duration
	cpuWall    time.Duration
	usersAfter int
}

// check is a correctness check: a failed one fails the run.
type check struct {
	ok     bool
	detail string
}

const token = "bench-token"

func run(ctx context.Context, o options) (bool, error) {
	root, err := repoRoot()
	if err != nil {
		return false, err
	}
	dir, err := os.MkdirTemp("", "provisioner-bench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	// The job's configuration is validated here as well as by the worker.
	if err := os.Setenv(tokenEnv, token); err != nil {
		return false, err
	}

	built := make(chan error, 1)
	bin := o.workerBin
	if bin == "" {
		go func() {
			var err error
			bin, err = buildWorker(ctx, root, dir)
			built <- err
		}()
	} else {
		built <- nil
	}

	logf("generating an HR export of %d rows", o.users)
	staff := hrexport.Generate(o.users, o.seed)
	var want []*hrexport.Employee
	for i := range staff {
		if inScope(&staff[i]) {
			want = append(want, &staff[i])
		}
	}
	r := &result{o: o, rows: len(staff), inScope: len(want), load: loadAverage()}

	if !o.skipBaseline {
		if r.baselineTime, r.baselineCPU, err = runBaseline(ctx, want, o.concurrency); err != nil {
			return false, err
		}
	}

	keys, codecEnv, err := benchCodec(o.codec, dir)
	if err != nil {
		return false, err
	}
	c, address, stop, err := connect(ctx, root, dir, o, codec.Codec{Keys: keys, Uncompressed: !o.compress})
	if err != nil {
		return false, err
	}
	defer stop()
	tgt, err := startTarget(token, nil, 0)
	if err != nil {
		return false, err
	}
	defer tgt.close()

	hrPath := filepath.Join(dir, "hr.csv")
	if err := writeHR(hrPath, staff); err != nil {
		return false, err
	}
	job := benchJob(jobName, hrPath, tgt.url, 0, o)
	if err := job.Validate(); err != nil {
		return false, fmt.Errorf("job configuration: %w", err)
	}
	if err := <-built; err != nil {
		return false, err
	}
	workerArgs := o.workerArgs
	var debugAddr string
	if o.profileDir != "" {
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return false, err
		}
		workerArgs = append(workerArgs, "-debug-listen="+debugAddr)
	}
	if !o.compress {
		workerArgs = append(workerArgs, "-compress=false")
	}
	w, err := startWorker(bin, dir, address, o.maxActivities, workerArgs, append(codecEnv, tokenEnv+"="+token))
	if err != nil {
		return false, err
	}
	defer w.stop()
	pids := map[string]int{"worker": w.pid(), "temporal": childNamed("temporal"), "bench+sampleapp": os.Getpid()}
	if err := w.polling(ctx, c); err != nil {
		return false, err
	}

	logf("initial cycle: %d rows, %d in scope", r.rows, r.inScope)
	var prof *profiler
	if o.profileDir != "" {
		prof = startProfiler(ctx, debugAddr, o.profileDir)
	}
	r.initial, err = measureCycle(ctx, c, jobName, tgt, w, pids, 1, o.timeout, func() error { return startJob(ctx, c, job) })
	if prof != nil {
		files, perr := prof.stop()
		if err == nil && perr != nil {
			err = fmt.Errorf("-profile: %w", perr)
		}
		r.profiles = files
	}
	if err != nil {
		return false, err
	}
	r.usersExact = checkUsers(tgt.app, want, false)

	changed, err := changeTitles(staff, o.changed)
	if err != nil {
		return false, err
	}
	if err := writeHR(hrPath, staff); err != nil {
		return false, err
	}
	logf("incremental cycle: %d rows changed", len(changed))
	r.incremental, err = measureCycle(ctx, c, jobName, tgt, w, pids, 2, o.timeout, func() error {
		return c.SignalWorkflow(ctx, api.JobWorkflowID(jobName), "", api.SignalSyncNow, nil)
	})
	if err != nil {
		return false, err
	}
	r.patches = checkPatches(r.incremental.requests, o.changed)
	if c := checkUsers(tgt.app, want, true); !c.ok {
		r.patches = c
	}

	logf("provision on demand: %d new hires, one request each", onDemandHires)
	if r.onDemand, err = measureOnDemand(ctx, c, hrPath, staff); err != nil {
		return false, err
	}

	logf("reading workflow histories")
	if r.runs, err = historySizes(ctx, c, 2); err != nil {
		return false, err
	}
	r.tl1, r.timelineErr = cycleTimeline(ctx, c, r.runs, 1)
	if r.timelineErr == nil {
		r.tl2, r.timelineErr = cycleTimeline(ctx, c, r.runs, 2)
	}
	r.peakRSS, r.peakRSSError = peakRSS(w.pid())

	if o.faults.on() {
		if err := runFaulted(ctx, c, r, staff, want, filepath.Join(dir, "hr-faults.csv"), w, pids); err != nil {
			return false, err
		}
	}
	w.stop()

	report(os.Stdout, r)
	ok := r.usersExact.ok && r.patches.ok && r.onDemand.created == onDemandHires
	if o.faults.on() {
		ok = ok && r.faultedExact.ok
	}
	return ok, nil
}

// runFaulted times the initial cycle of a second job, over the same
// export as it stands, into a fresh sample application behind the fault
// proxy.
func runFaulted(ctx context.Context, c client.Client, r *result, staff []hrexport.Employee, want []*hrexport.Employee, hrPath string, w *workerProc, pids map[string]int) error {
	o := r.o
	tgt, err := startTarget(token, &o.faults, o.seed)
	if err != nil {
		return err
	}
	defer tgt.close()
	if err := writeHR(hrPath, staff); err != nil {
		return err
	}
	job := benchJob(faultsJobName, hrPath, tgt.url, faultsMaxRetries, o)
	if err := job.Validate(); err != nil {
		return fmt.Errorf("job configuration: %w", err)
	}
	logf("initial cycle through the fault proxy (%s): %d rows, %d in scope", o.faults, r.rows, r.inScope)
	r.faulted, err = measureCycle(ctx, c, faultsJobName, tgt, w, pids, 1, o.timeout, func() error { return startJob(ctx, c, job) })
	if err != nil {
		return err
	}
	r.faultCounts = tgt.faults.counts()
	r.faultedExact = checkUsers(tgt.app, want, true)
	return nil
}

func runBaseline(ctx context.Context, users []*hrexport.Employee, concurrency int) (time.Duration, time.Duration, error) {
	logf("baseline: POST %d users with %d connections", len(users), concurrency)
	tgt, err := startTarget(token, nil, 0)
	if err != nil {
		return 0, 0, err
	}
	defer tgt.close()
	self := os.Getpid()
	cpu0, _ := cpuTime(self)
	d, err := baseline(ctx, tgt, token, users, concurrency)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: %w", err)
	}
	cpu1, _ := cpuTime(self)
	if n := tgt.app.Stats().Users; n != len(users) {
		return 0, 0, fmt.Errorf("baseline: the target holds %d users, not %d", n, len(users))
	}
	return d, cpu1 - cpu0, nil
}

// measureCycle starts a cycle with begin and times it until the job
// reports it finished, with the target's requests and the CPU each process
// used meanwhile.
func measureCycle(ctx context.Context, c client.Client, job string, tgt *target, w *workerProc, pids map[string]int, n int, timeout time.Duration, begin func() error) (phase, error) {
	var p phase
	tgt.app.ResetStats()
	// The bench's process holds the sample application, with every user
	// it has created, and has just read them all or written the export:
	// its garbage collector runs now rather than in the cycle measured,
	// whose wall time it would slow by seconds at a million users.
	runtime.GC()
	meter := newCPUMeter(pids)
	start := time.Now()
	if err := begin(); err != nil {
		return p, err
	}
	st, err := waitCycle(ctx, c, job, n, timeout, w)
	p.wall = time.Since(start)
	if err != nil {
		return p, err
	}
	p.cpu, p.cpuWall = meter.since()
	p.requests = tgt.app.Stats()
	p.summary = *st.LastCycle
	p.usersAfter = p.requests.Users
	logf("%s: cycle %d finished in %s", job, n, p.wall.Round(time.Millisecond))
	return p, nil
}
