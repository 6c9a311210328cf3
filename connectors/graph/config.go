package graph

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/cacerts"
	"github.com/openprovisioning/provisioner/secrets"
)

// Defaults for the zero values of Config.
const (
	DefaultAuthority      = "https://login.microsoftonline.com"
	DefaultGraphURL       = "https://graph.microsoft.com/v1.0"
	DefaultPageSize       = 200
	DefaultTimeout        = 60 * time.Second
	DefaultMaxRetries     = 6
	DefaultMaxRetryWait   = 5 * time.Minute
	DefaultMaxConcurrency = 4
	// maxPageSize is the most users or groups Graph returns in one page.
	maxPageSize = 999
)

// Config is the source connection to a Microsoft Entra ID tenant through
// Microsoft Graph: the OAuth 2.0 client credentials of an application
// registration with User.Read.All and Group.Read.All (and
// Application.Read.All for assignments). It names secrets, never holds them.
//
//	tenant: contoso.onmicrosoft.com
//	clientID: 6731de76-14a6-49ae-97bc-6eba6914391e
//	clientSecret: {env: ENTRA_CLIENT_SECRET}     # or certificate: {file: /run/secrets/app.pem}
//	servicePrincipal: 4e9e8f6c-…                  # "sync only assigned users and groups"
type Config struct {
	// Tenant is the directory: its ID or one of its verified domains.
	Tenant string `json:"tenant" yaml:"tenant"`
	// ClientID is the application (client) ID of the app registration.
	ClientID string `json:"clientID" yaml:"clientID"`
	// ClientSecret is one of the application's client secrets. Set exactly
	// one of ClientSecret and Certificate.
	ClientSecret secrets.Ref `json:"clientSecret,omitzero" yaml:"clientSecret,omitempty"`
	// Certificate holds a PEM certificate registered with the application
	// and its private key (RSA), which signs the client assertion.
	Certificate secrets.Ref `json:"certificate,omitzero" yaml:"certificate,omitempty"`
	// Authority is the Microsoft identity platform's host; the default is
	// the global cloud's (https://login.microsoftonline.us for US
	// Government, https://login.chinacloudapi.cn for China).
	Authority string `json:"authority,omitempty" yaml:"authority,omitempty"`
	// GraphURL is Graph's base with its version; the default is the global
	// cloud's v1.0 (https://graph.microsoft.us/v1.0,
	// https://microsoftgraph.chinacloudapi.cn/v1.0). The token's scope is
	// its host's /.default.
	GraphURL string `json:"graphURL,omitempty" yaml:"graphURL,omitempty"`
	// CACertFile is a PEM file of certificate authorities trusted beside
	// the system's, for a TLS-inspecting proxy with a private CA.
	CACertFile string `json:"caCertFile,omitempty" yaml:"caCertFile,omitempty"`
	// ServicePrincipal is the object ID of the provisioned application's
	// service principal in the tenant. When set, only the users and groups
	// assigned to it are in scope (Azure's "sync only assigned users and
	// groups"): users assigned directly or as members of an assigned group;
	// the others are read as disabled (IsSoftDeleted). Their app roles are
	// the appRoleAssignments attribute either way.
	ServicePrincipal string `json:"servicePrincipal,omitempty" yaml:"servicePrincipal,omitempty"`
	// NestedGroupAssignment counts the members of groups nested in an
	// assigned group as assigned. Azure counts direct members only.
	NestedGroupAssignment bool `json:"nestedGroupAssignment,omitempty" yaml:"nestedGroupAssignment,omitempty"`
	// PageSize is the $top asked of each page; default 200, at most 999.
	PageSize int `json:"pageSize,omitempty" yaml:"pageSize,omitempty"`
	// Timeout bounds each HTTP attempt; default 60s.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxConcurrency caps requests in flight to the tenant from this
	// worker; default 4.
	MaxConcurrency int `json:"maxConcurrency,omitempty" yaml:"maxConcurrency,omitempty"`
	// MaxRetries is how often a throttled (429, 503) or failed request is
	// retried; default 6.
	MaxRetries int `json:"maxRetries,omitempty" yaml:"maxRetries,omitempty"`
	// MaxRetryWait caps one wait before a retry, Retry-After included;
	// default 5m.
	MaxRetryWait Duration `json:"maxRetryWait,omitempty" yaml:"maxRetryWait,omitempty"`
}

var (
	_ connectors.SourceConfig = (*Config)(nil)
	_ connectors.SecretNamer  = (*Config)(nil)
	_ connectors.PathResolver = (*Config)(nil)
	_ connectors.Addresser    = (*Config)(nil)
	_ connectors.TypeHolder   = (*Config)(nil)
)

// tenantPattern is a directory ID (a GUID) or a domain name.
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// guidPattern is an object or application ID.
var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// Validate returns every problem with the configuration as a
// connectors.FieldError, and checks that the secret it names is there.
func (c Config) Validate() error { return errors.Join(c.problems(true)...) }

func (c Config) problems(checkSecrets bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	switch {
	case c.Tenant == "":
		bad("tenant", "required: the directory's ID or a verified domain")
	case !tenantPattern.MatchString(c.Tenant):
		bad("tenant", "%q is not a directory ID or a domain name", c.Tenant)
	case strings.EqualFold(c.Tenant, "common") || strings.EqualFold(c.Tenant, "organizations") || strings.EqualFold(c.Tenant, "consumers"):
		bad("tenant", "%q is not one directory: client credentials need the tenant itself", c.Tenant)
	}
	if !guidPattern.MatchString(c.ClientID) {
		bad("clientID", "required: the application (client) ID, a GUID")
	}
	switch {
	case c.ClientSecret.IsZero() == c.Certificate.IsZero():
		bad("clientSecret", "set exactly one of clientSecret, certificate")
	case checkSecrets && !c.ClientSecret.IsZero():
		if err := c.ClientSecret.Validate(); err != nil {
			errs = append(errs, connectors.SecretProblem("clientSecret", err))
		}
	case checkSecrets:
		if pem, err := c.Certificate.Resolve(); err != nil {
			errs = append(errs, connectors.SecretProblem("certificate", err))
		} else if _, err := parseCertificate(pem); err != nil {
			bad("certificate", "%s (%s)", err, c.Certificate)
		}
	}
	for _, u := range []struct{ field, value string }{{"authority", c.Authority}, {"graphURL", c.GraphURL}} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		switch {
		case err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http"):
			bad(u.field, "%q is not an https URL", u.value)
		case p.Scheme == "http" && !loopback(p.Hostname()):
			bad(u.field, "%q must be https: credentials and directory data travel over it", u.value)
		case p.User != nil || p.RawQuery != "" || p.Fragment != "":
			bad(u.field, "%q must have no credentials, query or fragment", u.value)
		}
	}
	if c.CACertFile != "" {
		if _, err := c.rootCAs(); err != nil {
			bad("caCertFile", "%v", err)
		}
	}
	if c.ServicePrincipal != "" && !guidPattern.MatchString(c.ServicePrincipal) {
		bad("servicePrincipal", "%q is not an object ID (a GUID): the service principal's, not the application's name", c.ServicePrincipal)
	}
	if c.NestedGroupAssignment && c.ServicePrincipal == "" {
		bad("nestedGroupAssignment", "needs servicePrincipal: assignments are read from it")
	}
	if c.PageSize < 0 || c.PageSize > maxPageSize {
		bad("pageSize", "must be between 1 and %d", maxPageSize)
	}
	for _, n := range []struct {
		field string
		value int64
	}{{"timeout", int64(c.Timeout)}, {"maxConcurrency", int64(c.MaxConcurrency)}, {"maxRetries", int64(c.MaxRetries)}, {"maxRetryWait", int64(c.MaxRetryWait)}} {
		if n.value < 0 {
			bad(n.field, "must not be negative")
		}
	}
	return errs
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// withDefaults returns the configuration with zero values replaced.
func (c Config) withDefaults() Config {
	if c.Authority == "" {
		c.Authority = DefaultAuthority
	}
	if c.GraphURL == "" {
		c.GraphURL = DefaultGraphURL
	}
	c.Authority = strings.TrimRight(c.Authority, "/")
	c.GraphURL = strings.TrimRight(c.GraphURL, "/")
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetryWait == 0 {
		c.MaxRetryWait = Duration(DefaultMaxRetryWait)
	}
	return c
}

// tokenURL is the tenant's v2.0 token endpoint.
func (c Config) tokenURL() string {
	return c.Authority + "/" + url.PathEscape(c.Tenant) + "/oauth2/v2.0/token"
}

// scope asks for the application permissions granted on Graph.
func (c Config) scope() string {
	u, err := url.Parse(c.GraphURL)
	if err != nil {
		return "https://graph.microsoft.com/.default"
	}
	return u.Scheme + "://" + u.Host + "/.default"
}

// Secrets names the credential the configuration reads.
func (c Config) Secrets() []connectors.Field[secrets.Ref] {
	if !c.Certificate.IsZero() {
		return []connectors.Field[secrets.Ref]{{Field: "certificate", Value: c.Certificate}}
	}
	if !c.ClientSecret.IsZero() {
		return []connectors.Field[secrets.Ref]{{Field: "clientSecret", Value: c.ClientSecret}}
	}
	return nil
}

// ResolvePaths takes a relative secret file from dir.
func (c *Config) ResolvePaths(dir string) {
	if c.CACertFile != "" && !filepath.IsAbs(c.CACertFile) {
		c.CACertFile = filepath.Join(dir, c.CACertFile)
	}
	for _, r := range []*secrets.Ref{&c.ClientSecret, &c.Certificate} {
		if r.File != "" && !filepath.IsAbs(r.File) {
			r.File = filepath.Join(dir, r.File)
		}
	}
}

// Address names the tenant and the Graph endpoint, for messages.
func (c Config) Address() string {
	return c.withDefaults().GraphURL + " (tenant " + c.Tenant + ")"
}

// ObjectTypes are what the source holds.
func (Config) ObjectTypes() []connectors.ObjectType {
	return []connectors.ObjectType{connectors.User, connectors.Group}
}

// rootCAs returns the system's certificate authorities with those of
// CACertFile, or nil (the system's) when none is named.
func (c Config) rootCAs() (*x509.CertPool, error) { return cacerts.Pool(c.CACertFile) }

// Duration is a time.Duration written as "30s" in configuration.
type Duration time.Duration

// MarshalText writes the duration as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "30s" or "2m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use units such as 500ms, 30s, 2m", b)
	}
	*d = Duration(v)
	return nil
}
