package activities

import (
	"context"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// IndexInput asks for the target's objects to be indexed for a cycle.
type IndexInput struct {
	Job   config.Job  `json:"job"`
	Cycle store.Cycle `json:"cycle"`
}

// IndexResult says how many target objects were indexed: none when the
// target cannot list its objects.
type IndexResult struct {
	Objects int `json:"objects"`
}

// IndexTarget reads every target object of the job's object types once and
// indexes it by the values of its matching attributes (engine.IndexType), so that the cycle's
// batches match against the index instead of querying the target for each
// object. Targets that cannot list their objects are not indexed; batches
// then query them. A retried call keeps the types already complete and
// reads the others again from the start.
func (a *Activities) IndexTarget(ctx context.Context, in IndexInput) (_ IndexResult, err error) {
	defer classify(&err)
	tgt, err := a.target(ctx, &in.Job)
	if err != nil {
		return IndexResult{}, err
	}
	lister, ok := tgt.(connectors.Lister)
	if !ok {
		return IndexResult{}, nil
	}
	eng := a.engine(&in.Job, nil, tgt)
	log := a.logger(in.Job.Name).WithField("cycle", in.Cycle.ID)
	var res IndexResult
	for i, o := range in.Job.Objects {
		t := connectors.ObjectType(o.SourceObject)
		prog, err := a.program(&in.Job, i)
		if err != nil {
			continue // its objects fail with the mapping error
		}
		matching := prog.Matching()
		if len(matching) == 0 {
			continue
		}
		_, complete, err := a.Store.TargetIndexed(ctx, in.Cycle, t)
		if err != nil {
			return res, err
		}
		if complete {
			continue
		}
		n, err := eng.IndexType(ctx, in.Cycle, lister, t, matching)
		switch connectors.KindOf(err) {
		case connectors.KindUnauthorized:
			a.forgetTarget(&in.Job, tgt)
		case connectors.KindInvalidRequest, connectors.KindServiceIncompatible, connectors.KindNotFound:
			// Asking again will not help: the type stays unindexed.
			log.WithError(err).WithField("objectType", t).Warn("the target cannot list its objects; they are matched by query")
			continue
		}
		if err != nil {
			return res, err
		}
		res.Objects += n
		log.WithFields(map[string]any{"objectType": t, "objects": n}).Info("indexed target objects")
	}
	return res, nil
}
