package connectors

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/secrets"
)

// SourceConfig is a source connector's configuration, as a job holds it
// under its key (source.file, source.scim, …).
type SourceConfig interface {
	// Validate returns every problem with the configuration, without
	// contacting the system: each a FieldError (made with Invalid, or
	// SecretProblem for a secret that is not there) naming its field
	// relative to the connection, joined with errors.Join, and those of a
	// nested configuration re-rooted with Under. Any other error is
	// reported at the connection itself.
	Validate() error
	// OpenSource connects to the source.
	OpenSource(ctx context.Context, log *logrus.Entry) (Source, error)
}

// TargetConfig is a target connector's configuration, as a job holds it
// under its key (target.scim, target.ldap, …).
type TargetConfig interface {
	// Validate is as SourceConfig's.
	Validate() error
	// OpenTarget connects to the target.
	OpenTarget(ctx context.Context, log *logrus.Entry) (Target, error)
}

// PathResolver is implemented by configurations that name local files:
// relative paths are taken from dir, the folder of the job's file.
type PathResolver interface {
	ResolvePaths(dir string)
}

// Field is a value a configuration names, at its field path relative to
// the connection ("token", "[1].path").
type Field[T any] struct {
	Field string
	Value T
}

// SecretNamer is implemented by configurations that name secrets, so that
// the worker can refuse those its operator does not let jobs read.
type SecretNamer interface {
	Secrets() []Field[secrets.Ref]
}

// FileReader is implemented by configurations that read local files as a
// source, which the worker's operator confines to folders.
type FileReader interface {
	SourceFiles() []Field[string]
}

// Addresser is implemented by configurations that can say where their
// system is (a file's path, a URL), for messages.
type Addresser interface {
	Address() string
}

// TypeHolder is implemented by source configurations that know which
// object types the source holds before it is read.
type TypeHolder interface {
	ObjectTypes() []ObjectType
}

// registry maps configuration keys to configuration types, in the order
// they were registered (the order configuration messages list them in).
type registry[C any] struct {
	mu   sync.RWMutex
	keys []string
	news map[string]func() C
}

func (r *registry[C]) register(key string, newConfig func() C) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.news[key]; dup {
		panic(fmt.Sprintf("connectors: %q registered twice", key))
	}
	if r.news == nil {
		r.news = map[string]func() C{}
	}
	r.keys = append(r.keys, key)
	r.news[key] = newConfig
}

func (r *registry[C]) new(key string) (C, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.news[key]
	if !ok {
		var zero C
		return zero, false
	}
	return f(), true
}

// keyOf returns the key of the configuration type c has.
func (r *registry[C]) keyOf(c C) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := reflect.TypeOf(c)
	for _, k := range r.keys {
		if reflect.TypeOf(r.news[k]()) == t {
			return k, true
		}
	}
	return "", false
}

func (r *registry[C]) list() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.keys...)
}

var (
	sources registry[SourceConfig]
	targets registry[TargetConfig]
)

// RegisterSource makes a source connector's configuration known under key:
// newConfig returns an empty one (a pointer) to decode a job's into.
func RegisterSource(key string, newConfig func() SourceConfig) {
	sources.register(key, newConfig)
}

// RegisterTarget makes a target connector's configuration known under key.
func RegisterTarget(key string, newConfig func() TargetConfig) {
	targets.register(key, newConfig)
}

// NewSourceConfig returns an empty source configuration of the key.
func NewSourceConfig(key string) (SourceConfig, bool) { return sources.new(key) }

// NewTargetConfig returns an empty target configuration of the key.
func NewTargetConfig(key string) (TargetConfig, bool) { return targets.new(key) }

// SourceKey returns the key c's type is registered under.
func SourceKey(c SourceConfig) (string, bool) { return sources.keyOf(c) }

// TargetKey returns the key c's type is registered under.
func TargetKey(c TargetConfig) (string, bool) { return targets.keyOf(c) }

// SourceKeys lists the registered source keys.
func SourceKeys() []string { return sources.list() }

// TargetKeys lists the registered target keys.
func TargetKeys() []string { return targets.list() }

// Opened returns what a connector's Open returned as the interface I (a
// Source, a Target), with no nil pointer inside it when err is set.
func Opened[I, T any](c T, err error) (I, error) {
	var none I
	if err != nil {
		return none, err
	}
	return any(c).(I), nil
}
