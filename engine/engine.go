// Package engine is the provisioning engine. For each staged source
// object it decides what the target needs — scope, match, plan, push,
// record — and keeps the job's state in step: the object connections,
// the values last pushed, escrows, the target index, the mirror of the
// source's groups, and the work left to the membership and reference
// phases. It knows nothing of Temporal: package activities runs it as
// activities, heartbeats through Heartbeat, classifies its failures and
// returns its log entries as results.
package engine

import (
	"context"
	"sync"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// Config is what an engine works with for one call.
type Config struct {
	Store store.Store
	Job   *config.Job
	// Source and Target are the job's connections; either may be nil
	// when the call does not use it.
	Source connectors.Source
	Target connectors.Target
	// Programs returns the compiled mapping of the job's object i; nil
	// compiles each mapping once per engine.
	Programs func(i int) (*mapping.Program, error)
	// Heartbeat reports that long calls are alive; nil reports nothing.
	Heartbeat Heartbeat
	// Digests keeps the digests of complete snapshot reads, for the next
	// cycle's; nil keeps none, and every read compares every object.
	Digests *ReadDigests
}

// Heartbeat is how the engine tells whoever runs it that a long call is
// still alive.
type Heartbeat interface {
	// Beat reports progress now.
	Beat(ctx context.Context, details ...any)
	// While reports progress() on a clock until stop is called, not only
	// when work finishes: calls slower than the runner's patience must
	// not look stalled.
	While(ctx context.Context, progress func() any) (stop func())
}

// Engine provisions the objects of one job.
type Engine struct {
	store    store.Store
	job      *config.Job
	opts     config.Options
	source   connectors.Source
	target   connectors.Target
	programs func(i int) (*mapping.Program, error)
	beat     Heartbeat
	digests  *ReadDigests
	// records keeps what the engine records of its pushes: the pending
	// operations and the states that follow them. A dry run keeps none.
	records pushRecords
	// writesBack is whether target values may be written back to the
	// source; a dry run writes nothing.
	writesBack bool
}

// pushRecords is the part of the state store that records pushes.
type pushRecords interface {
	Record(ctx context.Context, c store.Cycle, records []store.Record) error
	PutObject(ctx context.Context, job string, st store.ObjectState) error
}

// New returns the engine of a job. This is where a dry run is chosen:
// its target is wrapped to push nothing (DryRun) and what it would
// record of its pushes is dropped.
func New(c Config) *Engine {
	e := &Engine{store: c.Store, job: c.Job, opts: c.Job.Options.WithDefaults(), source: c.Source, target: c.Target,
		programs: c.Programs, beat: c.Heartbeat, digests: c.Digests, records: c.Store, writesBack: true}
	if e.programs == nil {
		e.programs = compiler(c.Job)
	}
	if e.beat == nil {
		e.beat = silent{}
	}
	if c.Job.Options.DryRun {
		if c.Target != nil {
			e.target = DryRun(c.Target)
		}
		e.records, e.writesBack = discarded{}, false
	}
	return e
}

// Target returns the target the engine pushes to.
func (e *Engine) Target() connectors.Target { return e.target }

// crew is the target's crew, when it has one: a push step's workers take
// objects only while they hold a place in it.
func (e *Engine) crew() connectors.Crew {
	c, _ := e.target.(connectors.Crew)
	return c
}

// compiler compiles the job's mappings on first use.
func compiler(job *config.Job) func(int) (*mapping.Program, error) {
	var mu sync.Mutex
	progs := map[int]*mapping.Program{}
	return func(i int) (*mapping.Program, error) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := progs[i]; ok {
			return p, nil
		}
		p, err := mapping.Compile(job.Objects[i].ObjectMapping, mapping.Options{})
		if err == nil {
			progs[i] = p
		}
		return p, err
	}
}

// silent is the heartbeat of an engine nobody watches.
type silent struct{}

func (silent) Beat(context.Context, ...any)                    {}
func (silent) While(context.Context, func() any) (stop func()) { return func() {} }

// discarded records nothing: a dry run's pushes did not happen.
type discarded struct{}

func (discarded) Record(context.Context, store.Cycle, []store.Record) error  { return nil }
func (discarded) PutObject(context.Context, string, store.ObjectState) error { return nil }
