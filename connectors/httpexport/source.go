package httpexport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
)

// Source reads the report. It is the file source's reading (paging, the
// snapshot compare, reads by ID, the columns check) over the downloaded
// copy, without its writeback: a report cannot be written to.
type Source struct {
	records *file.Source
	origin  *origin
}

var (
	_ connectors.Source           = (*Source)(nil)
	_ connectors.Getter           = (*Source)(nil)
	_ connectors.AttributeChecker = (*Source)(nil)
)

// Open checks the configuration, resolves its secrets and returns the
// source. It sends no request: the first read does.
func (c Config) Open(_ context.Context, log *logrus.Entry) (*Source, error) {
	op := "open " + redactURL(c.URL)
	if errs := c.problems(); len(errs) > 0 {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: errors.Join(errs...).Error()}
	}
	timeout := time.Duration(c.Timeout)
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	tr, err := c.transport(timeout)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: err.Error()}
	}
	creds, err := c.resolve(&http.Client{Transport: tr, Timeout: timeout})
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindUnauthorized, Op: op, Detail: err.Error()}
	}
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	fc := c.fileConfig()
	o := &origin{
		url: c.URL, name: redactURL(c.URL), format: fc.Format,
		http: newClient(tr, creds, retries), idle: tr, secrets: creds.secrets, timeout: timeout,
		log: log.WithField("report", redactURL(c.URL)),
	}
	records, err := file.NewSource(fc, o)
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: err.Error()}
	}
	return &Source{records: records, origin: o}, nil
}

// ChangeDetection is Snapshot: every read is the whole report, compared
// with the last.
func (s *Source) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

// Read returns the next page of the report; see file.Source.Read. The
// first page of a read downloads the report, unless the server says it is
// unchanged since the read Since names: the page is then Unchanged.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	return s.records.Read(ctx, req)
}

// Get returns the record whose ID is id, from the report as it is now: the
// latest copy when the server says it is unchanged, a new download
// otherwise.
func (s *Source) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	return s.records.Get(ctx, t, id, attributes)
}

// checkMargin is how long before its caller's deadline a columns check
// gives up waiting for the report.
const checkMargin = 5 * time.Second

// CheckAttributes compares names with the report's columns, reading no
// more of it than the file source reads of a file. A report generated too
// slowly to begin its answer before ctx's deadline is not an error but
// connectors.ErrAttributesUnknown: the job goes on, and its reads check the
// configured columns.
func (s *Source) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	cctx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadline(ctx, deadline.Add(-checkMargin))
		defer cancel()
	}
	check, err := s.records.CheckAttributes(cctx, t, names)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		return connectors.AttributeCheck{}, fmt.Errorf("%w: the report %s did not answer in time", connectors.ErrAttributesUnknown, s.origin.name)
	}
	return check, err
}

// Close ends a read in progress and drops the latest copy.
func (s *Source) Close() error {
	err := s.records.Close()
	s.origin.close()
	return err
}
