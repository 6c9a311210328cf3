package activities

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
)

// connectionStepTimeout bounds each step of a connection test, so that a
// system that does not answer is reported as a time-out of its step.
const connectionStepTimeout = 30 * time.Second

// TestConnection tests a job's connections as Azure's "Test connection"
// does, and more: it opens the source and reads one page of its first
// object type, opens the target and queries it for an object that cannot
// exist (a random GUID in the first matching attribute) expecting none,
// and makes each connector's own checks (connectors.ConnectionTester). It
// writes nothing. Each step is timed; a failed step is classified for an
// operator, and the steps that needed it are left out. A configuration
// the worker does not allow fails the activity as invalid.
func (a *Activities) TestConnection(ctx context.Context, job config.Job) (_ api.ConnectionTest, err error) {
	defer classify(&err)
	if err := authorize(&job); err != nil {
		return api.ConnectionTest{}, err
	}
	if err := job.Validate(); err != nil {
		var ps config.Problems
		errors.As(err, &ps)
		return api.ConnectionTest{}, temporal.NewNonRetryableApplicationError(err.Error(), api.ErrInvalidConfiguration, nil, ps)
	}
	t := connectionTest{ConnectionTest: api.ConnectionTest{Job: job.Name, Steps: []api.ConnectionStep{}}}
	t.source(ctx, &job, a)
	if err := t.target(ctx, &job, a); err != nil {
		return api.ConnectionTest{}, err
	}
	return t.ConnectionTest, nil
}

type connectionTest struct{ api.ConnectionTest }

// step runs one step within its time bound and records it; it reports
// whether the step passed.
func (t *connectionTest) step(ctx context.Context, name string, run func(ctx context.Context) (string, error)) bool {
	sctx, cancel := context.WithTimeout(ctx, connectionStepTimeout)
	defer cancel()
	start := time.Now()
	note, err := run(sctx)
	s := api.ConnectionStep{Name: name, Duration: time.Since(start), Note: note}
	if err != nil {
		if sctx.Err() != nil && ctx.Err() == nil && connectors.KindOf(err) == "" {
			err = fmt.Errorf("no answer within %s: %w", connectionStepTimeout, err)
		}
		s.Failure, s.Error = classifyConnectionFailure(err), err.Error()
	}
	t.Steps = append(t.Steps, s)
	return err == nil
}

func (t *connectionTest) source(ctx context.Context, job *config.Job, a *Activities) {
	var src connectors.Source
	where := "source " + sourceAddress(job)
	if !t.step(ctx, "open "+where, func(ctx context.Context) (_ string, err error) {
		src, err = job.Source.Connector.OpenSource(ctx, a.logger(job.Name).WithField("side", "source"))
		return "", err
	}) {
		return
	}
	defer src.Close()
	typ := connectors.ObjectType(job.Objects[0].SourceObject)
	read := t.step(ctx, fmt.Sprintf("read one page of %s from the source", typ), func(ctx context.Context) (string, error) {
		p, err := src.Read(ctx, connectors.ReadRequest{Type: typ, PageSize: 1})
		if err != nil {
			return "", err
		}
		if p.Unchanged {
			return "unchanged since the last read", nil
		}
		return fmt.Sprintf("%d objects on the first page", len(p.Objects)), nil
	})
	if read {
		t.checks(ctx, "source", src)
	}
}

func (t *connectionTest) target(ctx context.Context, job *config.Job, a *Activities) error {
	prog, err := a.program(job, 0)
	if err != nil {
		return err
	}
	var tgt connectors.Target
	where := "target " + job.Target.Key()
	if ad, ok := job.Target.Connector.(connectors.Addresser); ok {
		where = "target " + ad.Address()
	}
	if !t.step(ctx, "open "+where, func(ctx context.Context) (_ string, err error) {
		tgt, err = job.Target.Connector.OpenTarget(ctx, a.logger(job.Name).WithField("side", "target"))
		return "", err
	}) {
		return nil
	}
	defer tgt.Close()
	typ := connectors.ObjectType(job.Objects[0].TargetObject)
	matching := prog.Matching()
	if len(matching) > 0 {
		attr, guid := matching[0], uuid.NewString()
		queried := t.step(ctx, fmt.Sprintf("query %s for %s = a random GUID, expecting none", typ, attr), func(ctx context.Context) (string, error) {
			found, err := tgt.Find(ctx, typ, attr, guid)
			if err == nil && len(found) > 0 {
				err = errUnexpectedObjects{fmt.Sprintf("the target answered a query for %s %q with %d objects: it does not filter by %s", attr, guid, len(found), attr)}
			}
			return "", err
		})
		if !queried {
			return nil
		}
	}
	t.checks(ctx, "target", tgt)
	return nil
}

// checks makes a connector's own checks, when it has some, until one fails.
func (t *connectionTest) checks(ctx context.Context, side string, c any) {
	tester, ok := c.(connectors.ConnectionTester)
	if !ok {
		return
	}
	for _, c := range tester.ConnectionChecks() {
		if !t.step(ctx, side+": "+c.Name, c.Run) {
			return
		}
	}
}

// errUnexpectedObjects is a query for an object that cannot exist finding
// some: the system ignores the filter, and matching would link the wrong
// objects.
type errUnexpectedObjects struct{ msg string }

func (e errUnexpectedObjects) Error() string { return e.msg }

// classifyConnectionFailure tells an operator what kind of failure err is.
// Connectors that keep the network's error are classified by its type;
// those that keep only its text (with secrets redacted), by the messages
// Go's network and TLS stacks write, which are stable.
func classifyConnectionFailure(err error) api.ConnectionFailure {
	var (
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		unexp    errUnexpectedObjects
	)
	switch {
	case errors.As(err, &unexp):
		return api.FailureUnexpectedObjects
	case errors.As(err, &dns):
		return api.FailureDNS
	case errors.As(err, &unknown):
		return api.FailureTLSUnknownCA
	case errors.As(err, &hostname):
		return api.FailureTLSNameMismatch
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return api.FailureTLSExpired
	case errors.Is(err, syscall.ECONNREFUSED):
		return api.FailureRefused
	}
	switch connectors.KindOf(err) {
	case connectors.KindUnauthorized:
		return api.FailureUnauthorized
	case connectors.KindForbidden:
		return api.FailureForbidden
	case connectors.KindNotFound:
		return api.FailureNotFound
	case connectors.KindServiceIncompatible:
		return api.FailureIncompatible
	}
	text := err.Error()
	for _, m := range []struct {
		text    string
		failure api.ConnectionFailure
	}{
		{"no such host", api.FailureDNS},
		{"server misbehaving", api.FailureDNS},
		{"certificate signed by unknown authority", api.FailureTLSUnknownCA},
		{"certificate is not valid for", api.FailureTLSNameMismatch},
		{"certificate is valid for", api.FailureTLSNameMismatch},
		{"certificate has expired", api.FailureTLSExpired},
		{"connection refused", api.FailureRefused},
		{"no route to host", api.FailureUnreachable},
		{"network is unreachable", api.FailureUnreachable},
		{"connection reset", api.FailureUnreachable},
		{"tls:", api.FailureTLS},
		{"x509:", api.FailureTLS},
	} {
		if strings.Contains(text, m.text) {
			return m.failure
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || connectors.KindOf(err) == connectors.KindTimeout || strings.Contains(text, "timeout") || strings.Contains(text, "deadline exceeded") {
		return api.FailureTimeout
	}
	return api.FailureOther
}
