package activities

import (
	"context"
	"time"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/store"
)

// countEntries counts the entries an activity returns in the
// provisioning metrics: entries are counted once they are in its result.
func (a *Activities) countEntries(job string, entries []audit.Entry) {
	if a.Metrics != nil {
		metrics.CountEntries(a.Metrics, job, entries)
	}
}

// escrowTypes are the object types a job may hold in escrow.
var escrowTypes = []connectors.ObjectType{connectors.User, connectors.Group}

// countEscrows records how many of the job's objects wait in escrow. The
// count is only for the metrics: a store that fails to give it leaves the
// gauge as it was.
func (a *Activities) countEscrows(ctx context.Context, job string) {
	if a.Metrics == nil {
		return
	}
	for _, t := range escrowTypes {
		n := 0
		err := a.Store.DueEscrows(ctx, job, t, endOfTime, func(store.ObjectState) error { n++; return nil })
		if err != nil {
			a.logger(job).WithError(err).Warn("escrowed objects not counted")
			return
		}
		metrics.Escrowed(a.Metrics, job, string(t), n, time.Now())
	}
}
