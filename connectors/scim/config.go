package scim

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/secrets"
)

// Dialects of PATCH requests.
const (
	// DialectRFC sends RFC 7644 requests: lower-case ops, boolean active,
	// member removal by `members[value eq "id"]` paths.
	DialectRFC = "rfc"
	// DialectAzure sends what Azure's provisioning service sends by default,
	// for applications built against it: "Add"/"Replace"/"Remove", active as
	// the string "True"/"False", member removal by a value list.
	DialectAzure = "azure"
)

// Change detection settings for SCIM as a source.
const (
	ChangeDetectionAuto     = "auto"     // probe for meta.lastModified filtering
	ChangeDetectionDelta    = "delta"    // always filter by meta.lastModified
	ChangeDetectionSnapshot = "snapshot" // always read everything
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxConcurrency  = 8
	DefaultPageSize        = 100
	DefaultMemberBatchSize = 100
	DefaultMaxRetries      = 4
	DefaultMaxRetryWait    = 30 * time.Second
	DefaultFilterAttribute = "userName"
)

// Config is a connection to a SCIM 2.0 service provider, used as a target
// or as a source. It names secrets, never holds them.
//
//	baseURL: https://app.example.com/scim/v2
//	token: {env: APP_SCIM_TOKEN}
//	dialect: rfc
//	maxConcurrency: 16
//	requestsPerSecond: 50
type Config struct {
	// BaseURL is the SCIM base, the URL /Users and /Groups are below.
	BaseURL string `json:"baseURL" yaml:"baseURL"`
	// Token is a bearer token. Set exactly one of Token, Basic and OAuth.
	Token secrets.Ref `json:"token,omitzero" yaml:"token,omitempty"`
	// Basic is HTTP basic authentication.
	Basic *BasicAuth `json:"basic,omitempty" yaml:"basic,omitempty"`
	// OAuth is the OAuth 2.0 client credentials grant.
	OAuth *OAuthClientCredentials `json:"oauth,omitempty" yaml:"oauth,omitempty"`
	// Dialect is "rfc" (default) or "azure"; see DialectRFC and DialectAzure.
	Dialect string `json:"dialect,omitempty" yaml:"dialect,omitempty"`
	// Timeout bounds each HTTP attempt; default 30s.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxConcurrency caps requests in flight to the service; default 8.
	MaxConcurrency int `json:"maxConcurrency,omitempty" yaml:"maxConcurrency,omitempty"`
	// RequestsPerSecond caps the request rate, retries included; 0 means
	// no limit.
	RequestsPerSecond float64 `json:"requestsPerSecond,omitempty" yaml:"requestsPerSecond,omitempty"`
	// MaxRetries is how often a request is retried after a connection
	// error, a 5xx or a 429; default 4.
	MaxRetries int `json:"maxRetries,omitempty" yaml:"maxRetries,omitempty"`
	// MaxRetryWait caps the wait before a retry, Retry-After included;
	// default 30s.
	MaxRetryWait Duration `json:"maxRetryWait,omitempty" yaml:"maxRetryWait,omitempty"`
	// PageSize is the count asked for when listing; default 100.
	PageSize int `json:"pageSize,omitempty" yaml:"pageSize,omitempty"`
	// MemberBatchSize is the most member changes in one group PATCH;
	// default 100.
	MemberBatchSize int `json:"memberBatchSize,omitempty" yaml:"memberBatchSize,omitempty"`
	// UserFilterAttribute is the user attribute the connection test queries
	// with a random GUID, as Azure does; default userName.
	UserFilterAttribute string `json:"userFilterAttribute,omitempty" yaml:"userFilterAttribute,omitempty"`
	// ChangeDetection, for SCIM as a source: "auto" (default) probes whether
	// the service filters on meta.lastModified; "delta" or "snapshot" skip
	// the probe.
	ChangeDetection string `json:"changeDetection,omitempty" yaml:"changeDetection,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string      `json:"username" yaml:"username"`
	Password secrets.Ref `json:"password" yaml:"password"`
}

// OAuthClientCredentials obtains bearer tokens with the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4).
type OAuthClientCredentials struct {
	TokenURL     string      `json:"tokenURL" yaml:"tokenURL"`
	ClientID     string      `json:"clientID" yaml:"clientID"`
	ClientSecret secrets.Ref `json:"clientSecret" yaml:"clientSecret"`
	Scopes       []string    `json:"scopes,omitempty" yaml:"scopes,omitempty"`
}

// Validate checks the configuration and that the secrets it names are
// there. Every problem is reported as a connectors.FieldError.
func (c Config) Validate() error {
	return errors.Join(c.problems(true)...)
}

// problems lists what is wrong with the configuration; the secrets are
// only looked up when checkSecrets is set.
func (c Config) problems(checkSecrets bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	secret := func(field string, ref secrets.Ref) {
		if !checkSecrets {
			return
		}
		if err := ref.Validate(); err != nil {
			errs = append(errs, connectors.SecretProblem(field, err))
		}
	}
	if c.BaseURL == "" {
		bad("baseURL", "required")
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("baseURL", "%q is not an http or https URL", c.BaseURL)
	} else if u.User != nil {
		bad("baseURL", "must not hold credentials; use token, basic or oauth")
	} else if u.RawQuery != "" || u.Fragment != "" {
		// Azure's flags (?aadOptscim062020) are query strings; here the
		// dialect setting chooses the requests.
		bad("baseURL", "must not have a query or fragment; set dialect to choose Azure-style requests")
	}

	methods := 0
	if !c.Token.IsZero() {
		methods++
		secret("token", c.Token)
	}
	if c.Basic != nil {
		methods++
		if c.Basic.Username == "" {
			bad("basic.username", "required")
		}
		secret("basic.password", c.Basic.Password)
	}
	if o := c.OAuth; o != nil {
		methods++
		if u, err := url.Parse(o.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("oauth.tokenURL", "required: an http or https URL")
		}
		if o.ClientID == "" {
			bad("oauth.clientID", "required")
		}
		secret("oauth.clientSecret", o.ClientSecret)
	}
	if methods != 1 {
		bad("token", "set exactly one of token, basic, oauth")
	}

	switch strings.ToLower(c.Dialect) {
	case "", DialectRFC, DialectAzure:
	default:
		bad("dialect", "%q is not rfc or azure", c.Dialect)
	}
	switch strings.ToLower(c.ChangeDetection) {
	case "", ChangeDetectionAuto, ChangeDetectionDelta, ChangeDetectionSnapshot:
	default:
		bad("changeDetection", "%q is not auto, delta or snapshot", c.ChangeDetection)
	}
	for _, n := range []struct {
		field string
		value float64
	}{
		{"timeout", float64(c.Timeout)},
		{"maxConcurrency", float64(c.MaxConcurrency)},
		{"requestsPerSecond", c.RequestsPerSecond},
		{"maxRetries", float64(c.MaxRetries)},
		{"maxRetryWait", float64(c.MaxRetryWait)},
		{"pageSize", float64(c.PageSize)},
		{"memberBatchSize", float64(c.MemberBatchSize)},
	} {
		if n.value < 0 {
			bad(n.field, "must not be negative")
		}
	}
	return errs
}

// withDefaults returns the configuration with zero values replaced.
func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.Dialect = strings.ToLower(c.Dialect)
	if c.Dialect == "" {
		c.Dialect = DialectRFC
	}
	c.ChangeDetection = strings.ToLower(c.ChangeDetection)
	if c.ChangeDetection == "" {
		c.ChangeDetection = ChangeDetectionAuto
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
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.MemberBatchSize == 0 {
		c.MemberBatchSize = DefaultMemberBatchSize
	}
	if c.UserFilterAttribute == "" {
		c.UserFilterAttribute = DefaultFilterAttribute
	}
	return c
}

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
