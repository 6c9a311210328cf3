package workflows

import (
	"testing"

	"github.com/openprovisioning/provisioner/config"
)

// ResolveOtherDefaults has jobs fill in what f sets before the defaults
// compiled in, until the test ends, to record histories made with other
// defaults. Set it before the worker starts: its workflows read it.
func ResolveOtherDefaults(t testing.TB, f func(config.Job) config.Job) {
	old := resolveDefaults
	resolveDefaults = func(cfg config.Job) config.Job { return old(f(cfg)) }
	t.Cleanup(func() { resolveDefaults = old })
}

// ResolveDefaults is how jobs resolve their defaults.
func ResolveDefaults(cfg config.Job) config.Job { return resolveDefaults(cfg) }
