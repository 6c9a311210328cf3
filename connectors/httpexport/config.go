// Package httpexport is a source connector for an HR export read from a
// URL over HTTPS: a Workday report-as-a-service (RaaS), a SuccessFactors
// export, any report that answers a GET with CSV, JSON or JSON Lines. The
// records are read by the file source (connectors/file), which parses,
// pages, fingerprints and compares them exactly as it does an export on
// disk: a snapshot source whose read is a consistent copy or nothing.
//
// In a job's configuration:
//
//	source:
//	  report:
//	    url: https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU_HR/Workers?format=json
//	    basic: {username: ISU_HR@acme, password: {env: PROVISIONING_SECRET_WORKDAY}}
//	    recordsPath: Report_Entry      # the array of records in the JSON answer
//	    idColumn: Employee_ID
//	    disabledColumn: Active
//	    disabledValues: ["0"]
//
// Every field of the file source but path applies (format, type, idColumn,
// disabledColumn, disabledValues, membersColumn, delimiter, recordsPath);
// the format, when not set, follows the URL's format query parameter or
// its extension.
//
// Each read downloads the report once, streaming it to a temporary file
// (never whole into memory), and pages through that copy. The next cycle
// asks again with If-None-Match (the answer's ETag) or, without an ETag,
// If-Modified-Since (its Last-Modified date): an unchanged report costs
// that one request, answered 304 Not Modified, and is not read again. A
// report answered again in full with the same bytes is not read again
// either. A download cut short, a non-2xx answer, a redirect, an HTML page
// (a login page) or a body that is not the configured format fails the
// read, naming the URL: a failed read never disables or deletes anybody.
package httpexport

import (
	"context"
	"errors"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/secrets"
)

// Defaults for the zero values of Config.
const (
	// DefaultTimeout is how long the report may take to begin its answer
	// and, once begun, to send more bytes: a large report can take minutes
	// to be generated.
	DefaultTimeout    = 5 * time.Minute
	DefaultMaxRetries = 4
)

// records is the file source's configuration, whose fields a report's
// configuration shares (Path aside): a type of its own, so that none of
// the file source's methods become the report's.
type records file.Config

// Config is a report read over HTTPS. It names secrets, never holds them.
type Config struct {
	// URL is the report's address, https only; it must not hold
	// credentials.
	URL string `json:"url" yaml:"url"`
	// Basic is HTTP basic authentication (a Workday integration system
	// user, a SuccessFactors API user). Set at most one of Basic and OAuth.
	Basic *scim.BasicAuth `json:"basic,omitempty" yaml:"basic,omitempty"`
	// OAuth is the OAuth 2.0 client credentials grant: a bearer token from
	// the token endpoint.
	OAuth *scim.OAuthClientCredentials `json:"oauth,omitempty" yaml:"oauth,omitempty"`
	// CAFile holds certificates (PEM) trusted beside the system's, for the
	// report's and the token endpoint's servers.
	CAFile string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	// Timeout bounds the wait for the answer to begin, and then for each
	// further part of it; default 5m.
	Timeout scim.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxRetries is how often a request is retried after a connection
	// error, a 5xx (not 501) or a 429, after Retry-After; default 4.
	MaxRetries int `json:"maxRetries,omitempty" yaml:"maxRetries,omitempty"`

	records `yaml:",inline"`
}

func init() {
	connectors.RegisterSource("report", func() connectors.SourceConfig { return &Config{} })
}

var _ connectors.SourceConfig = (*Config)(nil)

// Validate checks the configuration and that the secrets it names are
// there; it sends no request (the worker's validation reads the report's
// columns). Every problem is reported as a connectors.FieldError.
func (c Config) Validate() error {
	errs := c.problems()
	for _, f := range c.Secrets() {
		if err := f.Value.Validate(); err != nil {
			errs = append(errs, connectors.SecretProblem(f.Field, err))
		}
	}
	return errors.Join(errs...)
}

// problems lists what is wrong with the configuration, secrets aside.
func (c Config) problems() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	if c.URL == "" {
		bad("url", "required")
	} else if u, err := url.Parse(c.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("url", "%q is not an https URL", redactURL(c.URL))
	} else if u.User != nil {
		bad("url", "must not hold credentials; use basic or oauth")
	}
	if c.Basic != nil && c.OAuth != nil {
		bad("basic", "set at most one of basic and oauth")
	}
	if c.Basic != nil && c.Basic.Username == "" {
		bad("basic.username", "required")
	}
	if o := c.OAuth; o != nil {
		if u, err := url.Parse(o.TokenURL); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("oauth.tokenURL", "required: an https URL")
		}
		if o.ClientID == "" {
			bad("oauth.clientID", "required")
		}
	}
	if c.Path != "" {
		bad("path", "a report is read from url; path is the file source's")
	}
	if c.Timeout < 0 || c.MaxRetries < 0 {
		bad("timeout", "timeout and maxRetries must not be negative")
	}
	fc := c.fileConfig()
	if fc.Format == "" {
		bad("format", "cannot tell the format from the URL: set csv, json or jsonl")
	} else if err := fc.Columns(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// fileConfig is the configuration the file source reads the report with:
// the format, when not set, is what the URL says (its format query
// parameter, as Workday's format=json, or its extension).
func (c Config) fileConfig() file.Config {
	fc := file.Config(c.records)
	if fc.Format != "" {
		return fc
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fc
	}
	for _, key := range []string{"format", "$format"} {
		switch f := strings.ToLower(u.Query().Get(key)); f {
		case file.CSV, file.JSON, file.JSONL:
			fc.Format = f
			return fc
		}
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".csv":
		fc.Format = file.CSV
	case ".json":
		fc.Format = file.JSON
	case ".jsonl", ".ndjson":
		fc.Format = file.JSONL
	}
	return fc
}

// OpenSource opens the report as a job's source. It sends no request.
func (c Config) OpenSource(ctx context.Context, log *logrus.Entry) (connectors.Source, error) {
	return connectors.Opened[connectors.Source](c.Open(ctx, log))
}

// ResolvePaths takes the relative CA and secret files from dir.
func (c *Config) ResolvePaths(dir string) {
	ps := []*string{&c.CAFile}
	if c.Basic != nil {
		ps = append(ps, &c.Basic.Password.File)
	}
	if c.OAuth != nil {
		ps = append(ps, &c.OAuth.ClientSecret.File)
	}
	for _, p := range ps {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Secrets names the credentials the configuration reads.
func (c Config) Secrets() []connectors.Field[secrets.Ref] {
	var out []connectors.Field[secrets.Ref]
	if c.Basic != nil {
		out = append(out, connectors.Field[secrets.Ref]{Field: "basic.password", Value: c.Basic.Password})
	}
	if c.OAuth != nil {
		out = append(out, connectors.Field[secrets.Ref]{Field: "oauth.clientSecret", Value: c.OAuth.ClientSecret})
	}
	return out
}

// ObjectTypes lists the type the report holds.
func (c Config) ObjectTypes() []connectors.ObjectType {
	if c.Type == "" {
		return []connectors.ObjectType{connectors.User}
	}
	return []connectors.ObjectType{c.Type}
}

// Address is the report's URL without its query, which may carry more
// than an address should show.
func (c Config) Address() string { return redactURL(c.URL) }

// redactURL is u without credentials or query, for messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an invalid URL)"
	}
	p.User, p.RawQuery, p.ForceQuery, p.Fragment = nil, "", false, ""
	return p.String()
}
