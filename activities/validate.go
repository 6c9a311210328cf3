package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
)

// authorize refuses, as an invalid configuration, a job that names what the
// worker's operator does not let jobs read (secrets.Restrict): checked by
// ValidateJob before anything is read, and again where connections open,
// for a cycle started without the job's validation.
func authorize(job *config.Job) error {
	ps := checkAuthority(job, secrets.Restriction())
	if len(ps) == 0 {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(ps.Error(), api.ErrInvalidConfiguration, nil, ps)
}

// checkAuthority returns a problem, naming its field, for every secret in an
// environment variable or file and every file source the authority does
// not allow.
func checkAuthority(job *config.Job, auth *secrets.Authority) config.Problems {
	if auth == nil {
		return nil
	}
	var ps config.Problems
	check := func(field string, err error) {
		if err != nil {
			ps = append(ps, config.Problem{Field: field, Message: err.Error()})
		}
	}
	for _, side := range []struct {
		field string
		conn  any
	}{{"source." + job.Source.Key(), job.Source.Connector}, {"target." + job.Target.Key(), job.Target.Connector}} {
		if n, ok := side.conn.(connectors.SecretNamer); ok {
			for _, r := range n.Secrets() {
				check(connectors.FieldPath(side.field, r.Field), auth.CheckRef(r.Value))
			}
		}
		if f, ok := side.conn.(connectors.FileReader); ok {
			for _, p := range f.SourceFiles() {
				check(connectors.FieldPath(side.field, p.Field), auth.CheckSource(p.Value))
			}
		}
	}
	return ps
}

// attributeCheckTimeout bounds the source calls of validation, within the
// minute the job gives the validation activity, so that a source that does
// not answer is reported as such rather than as an activity time-out.
const attributeCheckTimeout = 45 * time.Second

// checkSourceAttributes opens the job's source and compares the attributes
// each object mapping reads (mappings, scoping clauses, and so matching
// attributes) with those the source has: a misspelt name would otherwise
// read as empty and clear its target attribute on every object. Unknown
// names are returned as config.Problems; a source that cannot be reached is
// an error naming it. What could not be checked, and why, is returned as
// notes.
func (a *Activities) checkSourceAttributes(ctx context.Context, job *config.Job) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, attributeCheckTimeout)
	defer cancel()
	var (
		notes []string
		ps    config.Problems
	)
	// fail reports a source that cannot be reached. One that refuses the
	// credentials is left to the cycle, which quarantines the job until
	// they are fixed: validation notes it and goes on.
	fail := func(err error) ([]string, error) {
		if cctx.Err() != nil && ctx.Err() == nil {
			err = &connectors.Error{Kind: connectors.KindTimeout, Op: "check source attributes",
				Detail: fmt.Sprintf("no answer within %s", attributeCheckTimeout)}
		}
		if connectors.KindOf(err) == connectors.KindUnauthorized {
			notes = append(notes, fmt.Sprintf("source attribute names were not checked: source %s refused the credentials: %v", sourceAddress(job), err))
			if len(ps) > 0 {
				return notes, ps
			}
			return notes, nil
		}
		return nil, fmt.Errorf("source %s: %w", sourceAddress(job), err)
	}
	src, err := a.source(cctx, job)
	if err != nil {
		return fail(err)
	}
	checker, ok := src.(connectors.AttributeChecker)
	if !ok {
		return []string{"source attribute names were not checked: the source cannot list its attributes"}, nil
	}
	for i, o := range job.Objects {
		prog, err := a.program(job, i)
		if err != nil {
			return nil, err
		}
		names := prog.SourceAttributes()
		if len(names) == 0 {
			continue
		}
		check, err := checker.CheckAttributes(cctx, connectors.ObjectType(o.SourceObject), names)
		if errors.Is(err, connectors.ErrAttributesUnknown) {
			notes = append(notes, fmt.Sprintf("objects[%d] (%s): source attribute names were not checked: %v", i, prog.Name(), err))
			continue
		}
		if err != nil {
			return fail(err)
		}
		if len(check.Unchecked) > 0 {
			notes = append(notes, fmt.Sprintf("objects[%d] (%s): source attributes %s were not checked: they are not among %s",
				i, prog.Name(), strings.Join(check.Unchecked, ", "), check.Against))
		}
		for _, u := range check.Unknown {
			ps = append(ps, unknownAttribute(i, o.ObjectMapping, prog.Name(), names, u, check.Against)...)
		}
	}
	if len(ps) > 0 {
		return notes, ps
	}
	return notes, nil
}

// unknownAttribute returns a problem for every place object mapping i reads
// the unknown attribute: compiled with every other name known, the
// mapping's own checks find them with their mapping, clause and position.
func unknownAttribute(i int, om mapping.ObjectMapping, name string, names []string, u connectors.UnknownAttribute, against string) config.Problems {
	why := u.Reason
	if why == "" {
		why = "not in " + against
	}
	if u.Suggestion != "" {
		why += fmt.Sprintf("; did you mean %q?", u.Suggestion)
	}
	field := fmt.Sprintf("objects[%d]", i)
	known := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == u.Name })
	_, err := mapping.Compile(om, mapping.Options{SourceAttributes: known})
	var mps *mapping.Problems
	if !errors.As(err, &mps) || len(*mps) == 0 {
		return config.Problems{{Field: field, Message: fmt.Sprintf("object mapping %q reads unknown source attribute %q: %s", name, u.Name, why)}}
	}
	ps := make(config.Problems, len(*mps))
	for k, p := range *mps {
		ps[k] = config.Problem{Field: field, Message: fmt.Sprintf("object mapping %q: %s: %s", name, p, why)}
	}
	return ps
}

// sourceAddress names where the job's source is, for messages.
func sourceAddress(job *config.Job) string {
	if a, ok := job.Source.Connector.(connectors.Addresser); ok {
		return a.Address()
	}
	if job.Source.Connector != nil {
		return job.Source.Key()
	}
	return "(none)"
}
