package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/secrets"
)

// Dialects set defaults for the two directory families the connector knows.
const (
	OpenLDAP        = "openldap"
	ActiveDirectory = "activedirectory"
)

// Delta attributes a source can detect changes by.
const (
	DeltaModifyTimestamp = "modifyTimestamp"
	DeltaEntryCSN        = "entryCSN"
	DeltaUSNChanged      = "uSNChanged"
	// DeltaNone makes the source a snapshot source: every read is full.
	DeltaNone = "none"
)

// Connection says how to reach and bind to a directory; source and target
// configurations share it.
type Connection struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string `json:"url" yaml:"url"`
	// BindDN is who binds: a DN, or for Active Directory also a user
	// principal name (svc@corp.example.org) or a down-level logon name
	// (CORP\svc), which AD takes in a simple bind.
	BindDN string `json:"bindDN,omitempty" yaml:"bindDN,omitempty"`
	// BindPassword names where the password is kept; it is resolved on Open.
	BindPassword secrets.Ref `json:"bindPassword,omitempty" yaml:"bindPassword,omitempty"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool `json:"startTLS,omitempty" yaml:"startTLS,omitempty"`
	// CACertFile is a PEM file of the CAs to trust instead of the system's.
	CACertFile string `json:"caCertFile,omitempty" yaml:"caCertFile,omitempty"`
	// InsecureSkipVerify turns certificate verification off (tests only).
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty" yaml:"insecureSkipVerify,omitempty"`
	// Timeout bounds dialling and each request; 30s by default.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Config configures an LDAP source (OpenLDAP or Active Directory). It
// names the bind password, never holds it.
//
//	url: ldaps://dc1.example.org
//	bindDN: cn=provisioning,ou=services,dc=example,dc=org
//	bindPassword: {env: LDAP_BIND_PASSWORD}
//	caCertFile: /etc/provisioner/ldap-ca.pem
//	dialect: activedirectory   # objectGUID, uSNChanged, userAccountControl
//	baseDNs: ["ou=staff,dc=example,dc=org"]
//	pageSize: 1000
//	multiValued: [proxyAddresses]
type Config struct {
	Connection `yaml:",inline"`
	// Dialect is "openldap" (default) or "activedirectory"; it only sets the
	// defaults of the fields below.
	Dialect string `json:"dialect,omitempty" yaml:"dialect,omitempty"`
	// BaseDNs are searched (whole subtree) in order.
	BaseDNs     []string `json:"baseDNs" yaml:"baseDNs"`
	UserFilter  string   `json:"userFilter,omitempty" yaml:"userFilter,omitempty"`
	GroupFilter string   `json:"groupFilter,omitempty" yaml:"groupFilter,omitempty"`
	// IDAttribute is the source anchor: entryUUID (OpenLDAP) or objectGUID (AD).
	IDAttribute string `json:"idAttribute,omitempty" yaml:"idAttribute,omitempty"`
	// Delta is modifyTimestamp, entryCSN, uSNChanged or none.
	Delta string `json:"delta,omitempty" yaml:"delta,omitempty"`
	// PageSize is the LDAP paged-results size; 500 by default (AD's
	// MaxPageSize is 1000).
	PageSize int `json:"pageSize,omitempty" yaml:"pageSize,omitempty"`
	// Attributes are read when a request names none; empty means all user
	// attributes.
	Attributes []string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	// MultiValued attributes are always returned as []string; others are a
	// string when they hold one value.
	MultiValued []string `json:"multiValued,omitempty" yaml:"multiValued,omitempty"`
	// DisabledAttribute marks disabled accounts: with DisabledMask it is an
	// integer whose masked bits mean disabled (AD userAccountControl, 2);
	// with DisabledValues any of those values means disabled; with neither,
	// its presence does (pwdAccountLockedTime).
	DisabledAttribute string   `json:"disabledAttribute,omitempty" yaml:"disabledAttribute,omitempty"`
	DisabledValues    []string `json:"disabledValues,omitempty" yaml:"disabledValues,omitempty"`
	DisabledMask      int64    `json:"disabledMask,omitempty" yaml:"disabledMask,omitempty"`
	// MemberAttribute holds a group's member DNs; "member" by default.
	MemberAttribute string `json:"memberAttribute,omitempty" yaml:"memberAttribute,omitempty"`
	// MemberRangeSize asks for a group's members in ranges of this many
	// values ("member;range=0-1499"), as Active Directory serves large
	// groups; 1500 (AD's MaxValRange) with the activedirectory dialect, 0
	// (the whole attribute at once) otherwise.
	MemberRangeSize int `json:"memberRangeSize,omitempty" yaml:"memberRangeSize,omitempty"`
	// ReferenceAttributes hold DNs of other entries (manager, secretary);
	// they are read as those entries' IDs, which is what a reference mapping
	// resolves to target IDs. ["manager"] when unset; [] for none.
	ReferenceAttributes []string `json:"referenceAttributes,omitempty" yaml:"referenceAttributes,omitempty"`
}

const (
	defaultTimeout  = 30 * time.Second
	defaultPageSize = 500
	// defaultMemberRange is AD's default MaxValRange.
	defaultMemberRange = 1500
)

// withDefaults fills unset fields from the dialect.
func (c Config) withDefaults() Config {
	c.Connection = c.Connection.withDefaults()
	ad := strings.EqualFold(c.Dialect, ActiveDirectory)
	def := func(v *string, openldap, activedirectory string) {
		if *v != "" {
			return
		}
		*v = openldap
		if ad {
			*v = activedirectory
		}
	}
	def(&c.UserFilter, "(objectClass=inetOrgPerson)", "(&(objectCategory=person)(objectClass=user))")
	def(&c.GroupFilter, "(objectClass=groupOfNames)", "(objectClass=group)")
	def(&c.IDAttribute, "entryUUID", "objectGUID")
	def(&c.Delta, DeltaModifyTimestamp, DeltaUSNChanged)
	def(&c.MemberAttribute, "member", "member")
	if ad && c.MemberRangeSize == 0 {
		c.MemberRangeSize = defaultMemberRange
	}
	if ad && c.DisabledAttribute == "" {
		c.DisabledAttribute, c.DisabledMask = "userAccountControl", 2
	}
	if c.PageSize == 0 {
		c.PageSize = defaultPageSize
	}
	if c.ReferenceAttributes == nil {
		c.ReferenceAttributes = []string{"manager"}
	}
	return c
}

func (c Connection) withDefaults() Connection {
	if c.Timeout == 0 {
		c.Timeout = Duration(defaultTimeout)
	}
	return c
}

// Validate checks the configuration and that the bind password it names is
// there, without contacting the directory. Every problem is reported as a
// connectors.FieldError.
func (c Config) Validate() error { return errors.Join(c.problems(true)...) }

func (c Config) problems(checkSecrets bool) []error {
	errs := c.Connection.problems(checkSecrets)
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	switch strings.ToLower(c.Dialect) {
	case "", OpenLDAP, ActiveDirectory:
	default:
		bad("dialect", "%q is neither %s nor %s", c.Dialect, OpenLDAP, ActiveDirectory)
	}
	if len(c.BaseDNs) == 0 {
		bad("baseDNs", "name at least one base DN")
	}
	for i, dn := range c.BaseDNs {
		if _, err := goldap.ParseDN(dn); err != nil || dn == "" {
			bad(fmt.Sprintf("baseDNs[%d]", i), "%q is not a DN", dn)
		}
	}
	d := c.withDefaults()
	for _, f := range []struct{ field, filter string }{{"userFilter", d.UserFilter}, {"groupFilter", d.GroupFilter}} {
		if _, err := goldap.CompileFilter(f.filter); err != nil {
			bad(f.field, "%v", err)
		}
	}
	switch d.Delta {
	case DeltaModifyTimestamp, DeltaEntryCSN, DeltaUSNChanged, DeltaNone:
	default:
		bad("delta", "%q is not %s, %s, %s or %s", c.Delta, DeltaModifyTimestamp, DeltaEntryCSN, DeltaUSNChanged, DeltaNone)
	}
	for _, a := range []struct{ field, name string }{
		{"idAttribute", d.IDAttribute}, {"disabledAttribute", d.DisabledAttribute}, {"memberAttribute", d.MemberAttribute},
	} {
		if a.name != "" && !attrName.MatchString(a.name) {
			bad(a.field, "%q is not an attribute name", a.name)
		}
	}
	errs = append(errs, referenceProblems(c.ReferenceAttributes, d.IDAttribute, d.MemberAttribute)...)
	if c.PageSize < 0 {
		bad("pageSize", "must not be negative")
	}
	if c.MemberRangeSize < 0 {
		bad("memberRangeSize", "must not be negative")
	}
	if c.DisabledAttribute == "" && (len(c.DisabledValues) > 0 || c.DisabledMask != 0) {
		bad("disabledAttribute", "required with disabledValues or disabledMask")
	}
	if len(c.DisabledValues) > 0 && c.DisabledMask != 0 {
		bad("disabledMask", "set either disabledValues or disabledMask, not both")
	}
	return errs
}

// problems lists what is wrong with the connection; the password is only
// looked up when checkSecrets is set.
func (c Connection) problems(checkSecrets bool) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		bad("url", "%q is not an ldap:// or ldaps:// URL", c.URL)
	} else if c.StartTLS && u.Scheme == "ldaps" {
		bad("startTLS", "not with an ldaps:// URL, which is encrypted already")
	}
	if c.BindDN != "" {
		if _, err := goldap.ParseDN(c.BindDN); err != nil && !adLogonName.MatchString(c.BindDN) {
			bad("bindDN", "%q is not a DN, a user principal name (user@domain) nor a logon name (DOMAIN\\user)", c.BindDN)
		}
		if c.BindPassword.IsZero() {
			bad("bindPassword", "required with bindDN")
		} else if checkSecrets {
			if err := c.BindPassword.Validate(); err != nil {
				errs = append(errs, connectors.SecretProblem("bindPassword", err))
			}
		}
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	return errs
}

// adLogonName matches the other names AD binds with: user@domain and
// DOMAIN\user.
var adLogonName = regexp.MustCompile(`^([^@\\\s,=]+@[^@\\\s,=]+|[^@\\\s,=]+\\[^@\\\s,=]+)$`)

// Duration is a time.Duration written as "30s" in configuration.
type Duration time.Duration

// MarshalText writes the duration as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "30s" or "2m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 500ms, 30s or 2m", b)
	}
	*d = Duration(v)
	return nil
}
