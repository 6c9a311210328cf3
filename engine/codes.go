package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/openprovisioning/provisioner/connectors"
)

// Codes of failures the engine itself raises.
const (
	CodeInvalidSourceRecord    = "InvalidSourceRecord"
	CodeMappingError           = "MappingError"
	CodeDuplicateTargetEntries = "DuplicateTargetEntries"
	CodeInternalError          = "InternalError"
)

// SoftDeletedAttribute is the computed source attribute Azure mappings use
// for `active`: true when the source object is disabled.
const SoftDeletedAttribute = "IsSoftDeleted"

// duplicateTargets is a matching value more than one target object has:
// the object fails rather than being linked to a guess.
type duplicateTargets struct {
	n         int
	attribute string
	value     string
}

func (d *duplicateTargets) Error() string {
	return fmt.Sprintf("%d target objects have %s %q", d.n, d.attribute, d.value)
}

// CodeOf is the error code a log entry gives err: its connector failure
// kind, or the engine's own code.
func CodeOf(err error) string {
	var dup *duplicateTargets
	if errors.As(err, &dup) {
		return CodeDuplicateTargetEntries
	}
	if k := connectors.KindOf(err); k != "" {
		return string(k)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return string(connectors.KindTimeout)
	}
	return CodeInternalError
}
