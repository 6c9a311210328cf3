// Package activities holds the provisioning job's activities: fetch changed
// objects from the source into the state store's staging area, provision a
// batch of staged objects, run the membership and reference phases, and
// finish or reset a cycle. They hold the job's bulk data so the workflows
// carry only cursors, counters and outcomes. The provisioning itself is
// package engine's; the activities are its Temporal layer: their inputs
// and results, heartbeats, the classification of their failures, the
// connections they open and cache, and the metrics of what they return.
package activities

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/sirupsen/logrus"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/dryrun"
)

// Activities holds what the activities share on one worker: the state store
// and the open connections, reused across calls of the same job. Every
// exported method is an activity.
type Activities struct {
	Store       store.Store
	Log         *logrus.Logger
	Connections *Connections
	// Trail receives the provisioning log (ExportLog); nil keeps it in
	// history only.
	Trail *Trail
	// Metrics records the provisioning metrics; nil records none.
	Metrics client.MetricsHandler
	// Notifier sends the job's notices (Notify); nil sends none.
	Notifier *notify.Notifier
	// Digests keeps what each job's last complete snapshot read found, so
	// that the next cycle compares only what changed; nil keeps none.
	Digests *engine.ReadDigests
}

// Connections caches open source and target connections and compiled
// mappings, keyed by the configuration they came from.
type Connections struct {
	mu       sync.Mutex
	sources  map[string]connectors.Source
	targets  map[string]connectors.Target
	programs map[string]*mapping.Program
}

// New returns the activities over a state store.
func New(st store.Store, log *logrus.Logger) *Activities {
	warn := func(msg string, err error) { log.WithError(err).Warn(msg) }
	return &Activities{Store: st, Log: log, Digests: engine.NewReadDigests("", warn), Connections: &Connections{
		sources:  map[string]connectors.Source{},
		targets:  map[string]connectors.Target{},
		programs: map[string]*mapping.Program{},
	}}
}

// forCycle returns the activities as one cycle runs them. A dry run works
// on a state of its own, which reads the job's and keeps what the cycle
// writes apart from it: the next real cycle finds the job's state as the
// dry run found it. Every activity of a cycle that writes the state
// starts with it.
func (a *Activities) forCycle(dryRun bool, c store.Cycle) *Activities {
	if !dryRun {
		return a
	}
	dry := *a
	dry.Store = dryrun.New(a.Store, c.ID)
	return &dry
}

// Close closes every cached connection.
func (c *Connections) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.sources {
		s.Close()
		delete(c.sources, k)
	}
	for k, t := range c.targets {
		t.Close()
		delete(c.targets, k)
	}
}

// engine returns the provisioning engine of a job over the worker's state
// store, with the connections the call uses (nil for those it does not).
func (a *Activities) engine(job *config.Job, src connectors.Source, tgt connectors.Target) *engine.Engine {
	return engine.New(engine.Config{
		Store: a.Store, Job: job, Source: src, Target: tgt, Heartbeat: heartbeat{}, Digests: a.Digests,
		Programs: func(i int) (*mapping.Program, error) { return a.program(job, i) },
	})
}

func (a *Activities) logger(job string) *logrus.Entry {
	return a.Log.WithField("job", job)
}

// target returns the job's target connection, opening it on first use. The
// key covers the connection settings, so a changed configuration reconnects.
func (a *Activities) target(ctx context.Context, job *config.Job) (connectors.Target, error) {
	if err := authorize(job); err != nil {
		return nil, err
	}
	key := engine.Fingerprint(job.Name, job.Target)
	c := a.Connections
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.targets[key]; ok {
		return t, nil
	}
	if job.Target.Connector == nil {
		return nil, fmt.Errorf("target: no connection configured")
	}
	t, err := job.Target.Connector.OpenTarget(ctx, a.logger(job.Name).WithField("side", "target"))
	if err != nil {
		return nil, err
	}
	c.targets[key] = t
	return t, nil
}

// forgetTarget drops the job's cached target connection after the target
// refused its credentials, so that the next call opens it again and reads
// the secret anew: a rotated token is picked up without a restart.
func (a *Activities) forgetTarget(job *config.Job, t connectors.Target) {
	forget(a.Connections, a.Connections.targets, engine.Fingerprint(job.Name, job.Target), t)
}

// forgetRefusedSource drops the job's cached source connection when err is
// the source refusing the job, as forgetTarget does for the target.
func (a *Activities) forgetRefusedSource(job *config.Job, s connectors.Source, err error) {
	if refusal(connectors.KindOf(err)) {
		forget(a.Connections, a.Connections.sources, engine.Fingerprint(job.Name, job.Source), s)
	}
}

// forget closes conn and drops it from the cache m, unless another
// connection was cached under key since.
func forget[T interface {
	comparable
	Close() error
}](c *Connections, m map[string]T, key string, conn T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m[key] == conn {
		delete(m, key)
		conn.Close()
	}
}

// refused reports whether the target refused the credentials of a call
// behind one of the entries.
func refused(entries []audit.Entry) bool {
	return slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.ErrorCode == string(connectors.KindUnauthorized) })
}

// source returns the job's source connection, opening it on first use.
func (a *Activities) source(ctx context.Context, job *config.Job) (connectors.Source, error) {
	if err := authorize(job); err != nil {
		return nil, err
	}
	key := engine.Fingerprint(job.Name, job.Source)
	c := a.Connections
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sources[key]; ok {
		return s, nil
	}
	if job.Source.Connector == nil {
		return nil, fmt.Errorf("source: no connection configured")
	}
	s, err := job.Source.Connector.OpenSource(ctx, a.logger(job.Name).WithField("side", "source"))
	if err != nil {
		return nil, err
	}
	c.sources[key] = s
	return s, nil
}

// program returns the compiled mapping of one object type.
func (a *Activities) program(job *config.Job, i int) (*mapping.Program, error) {
	key := engine.Fingerprint(job.Name, job.Objects[i].ObjectMapping)
	c := a.Connections
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.programs[key]; ok {
		return p, nil
	}
	p, err := mapping.Compile(job.Objects[i].ObjectMapping, mapping.Options{})
	if err != nil {
		return nil, err
	}
	c.programs[key] = p
	return p, nil
}
