package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// FinishInput closes a cycle.
type FinishInput struct {
	Job   string      `json:"job"`
	Cycle store.Cycle `json:"cycle"`
	// Watermarks are saved only now, when every staged item was handled, so a
	// cycle that is interrupted is read again in full, never skipped.
	Watermarks map[connectors.ObjectType]string `json:"watermarks,omitempty"`
	DryRun     bool                             `json:"dryRun,omitempty"`
}

// FinishCycle saves the watermarks and drops the cycle's staging area; a
// dry run's watermarks go with the rest of its state.
func (a *Activities) FinishCycle(ctx context.Context, in FinishInput) (err error) {
	defer classify(&err)
	a = a.forCycle(in.DryRun, in.Cycle)
	for t, w := range in.Watermarks {
		if err := a.Store.SetWatermark(ctx, in.Job, t, w); err != nil {
			return err
		}
	}
	if !in.DryRun {
		// From here until an object state is written, the next cycle's
		// fetch may compare with this cycle's read (engine.ReadDigests).
		if err := a.Store.SettleCycle(ctx, in.Cycle); err != nil {
			return err
		}
		a.countEscrows(ctx, in.Job)
	}
	return a.Store.EndCycle(ctx, in.Cycle)
}

// ResetInput asks for part of a job's state to be cleared.
type ResetInput struct {
	Job   string           `json:"job"`
	Scope store.ResetScope `json:"scope"`
	// Abandon is a stopped cycle the restart discards.
	Abandon *store.Cycle `json:"abandon,omitempty"`
}

// ResetJob clears the selected state of a job (a restart).
func (a *Activities) ResetJob(ctx context.Context, in ResetInput) (err error) {
	defer classify(&err)
	if in.Abandon != nil {
		if err := a.Store.EndCycle(ctx, *in.Abandon); err != nil {
			return err
		}
	}
	return a.Store.Reset(ctx, in.Job, in.Scope)
}

// ValidatedJob describes a configuration the worker accepted.
type ValidatedJob struct {
	// MappingVersion fingerprints the mappings, scoping and target actions.
	MappingVersion string `json:"mappingVersion"`
	// Notes say what could not be checked and why (a source that
	// publishes no schema); they are also logged as warnings.
	Notes []string `json:"notes,omitempty"`
}

// ValidateJob checks the configuration where the job runs — it may name
// only the secrets and source files the worker's operator allows, these
// must be readable by the worker, and the source must have every attribute
// the mappings read — before anything is pushed. A source that cannot be
// reached fails validation with its address and the error.
func (a *Activities) ValidateJob(ctx context.Context, job config.Job) (_ ValidatedJob, err error) {
	defer classify(&err)
	if err := authorize(&job); err != nil {
		return ValidatedJob{}, err
	}
	if err := job.Validate(); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			return ValidatedJob{}, temporal.NewNonRetryableApplicationError(err.Error(), api.ErrInvalidConfiguration, nil, ps)
		}
		return ValidatedJob{}, temporal.NewNonRetryableApplicationError(err.Error(), api.ErrInvalidConfiguration, nil)
	}
	notes, err := a.checkSourceAttributes(ctx, &job)
	var ps config.Problems
	if errors.As(err, &ps) {
		return ValidatedJob{}, temporal.NewNonRetryableApplicationError(err.Error(), api.ErrInvalidConfiguration, nil, ps)
	}
	if err != nil {
		return ValidatedJob{}, err
	}
	for _, n := range notes {
		a.logger(job.Name).Warn(n)
	}
	return ValidatedJob{MappingVersion: job.MappingVersion(), Notes: notes}, nil
}
