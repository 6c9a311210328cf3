package ldap

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// TargetConfig configures an LDAP directory as a provisioning target. It
// names the bind password, never holds it.
//
//	url: ldap://ldap.example.org
//	startTLS: true
//	bindDN: cn=admin,dc=example,dc=org
//	bindPassword: {file: /run/secrets/ldap-admin}
//	users:
//	  container: ou=people,dc=example,dc=org
//	  dnTemplate: uid={uid}
//	  objectClasses: [inetOrgPerson]
//	  disableAttribute: employeeType
//	  disableValue: disabled
//	groups:
//	  container: ou=groups,dc=example,dc=org
//	  dnTemplate: cn={cn}
//	  objectClasses: [groupOfNames]
//
// Active Directory (dialect: activedirectory) takes objectGUID as the ID,
// user and group object classes, and disables accounts by the
// ACCOUNTDISABLE bit of userAccountControl unless the configuration says
// otherwise; a user's OU can follow a mapped attribute:
//
//	url: ldaps://dc1.example.org
//	dialect: activedirectory
//	users:
//	  container: ou=staff,dc=example,dc=org
//	  dnTemplate: cn={displayName}
//	  parentAttribute: parentDistinguishedName   # mapped: the user's OU
//	  enableValue: "512"                         # a new account's userAccountControl
type TargetConfig struct {
	Connection `yaml:",inline"`
	// Dialect is "openldap" (default) or "activedirectory"; it only sets
	// the defaults of the fields below.
	Dialect string `json:"dialect,omitempty" yaml:"dialect,omitempty"`
	// IDAttribute is the target ID: entryUUID (default) or objectGUID (AD).
	IDAttribute string `json:"idAttribute,omitempty" yaml:"idAttribute,omitempty"`
	// MemberAttribute holds group members' DNs; "member" by default.
	MemberAttribute string `json:"memberAttribute,omitempty" yaml:"memberAttribute,omitempty"`
	// ReferenceAttributes hold DNs of other entries (manager, secretary):
	// the engine writes a referenced object's target ID, which is written
	// as that entry's DN. ["manager"] when unset; [] for none.
	ReferenceAttributes []string     `json:"referenceAttributes,omitempty" yaml:"referenceAttributes,omitempty"`
	Users               ObjectConfig `json:"users" yaml:"users"`
	// Groups may be left empty when the job provisions users only.
	Groups ObjectConfig `json:"groups,omitempty" yaml:"groups,omitempty"`
}

// ObjectConfig says where and how entries of one object type are kept.
type ObjectConfig struct {
	// Container is where entries are created and searched (whole subtree).
	Container string `json:"container" yaml:"container"`
	// DNTemplate names new entries. {attr} stands for the attribute's
	// (first) value, DN-escaped. A template that does not end in Container
	// ("uid={uid}") is put under it; one that does
	// ("uid={uid},ou=people,dc=example,dc=org") is used as it is. When an
	// attribute it uses changes, Update renames or moves the entry.
	DNTemplate    string   `json:"dnTemplate" yaml:"dnTemplate"`
	ObjectClasses []string `json:"objectClasses" yaml:"objectClasses"`
	// ParentAttribute names a mapped attribute whose value is the DN of
	// the container an entry lives in, under Container (Azure's
	// parentDistinguishedName: an OU chosen by expression). It is not
	// written to the entry; when it changes, the entry moves there.
	ParentAttribute string `json:"parentAttribute,omitempty" yaml:"parentAttribute,omitempty"`
	// DisableAttribute is set to DisableValue to disable an account and to
	// EnableValue to enable it; an empty EnableValue removes the attribute
	// (employeeType: disabled). With DisableMask instead of DisableValue it
	// is an integer whose masked bits mean disabled (AD userAccountControl,
	// 2): enabling and disabling flip those bits alone, keeping the others,
	// and EnableValue is only what a new entry gets when no mapping sets
	// the attribute (AD: 512).
	DisableAttribute string `json:"disableAttribute,omitempty" yaml:"disableAttribute,omitempty"`
	DisableValue     string `json:"disableValue,omitempty" yaml:"disableValue,omitempty"`
	DisableMask      int64  `json:"disableMask,omitempty" yaml:"disableMask,omitempty"`
	EnableValue      string `json:"enableValue,omitempty" yaml:"enableValue,omitempty"`
}

func (c TargetConfig) withDefaults() TargetConfig {
	c.Connection = c.Connection.withDefaults()
	if strings.EqualFold(c.Dialect, ActiveDirectory) {
		if c.IDAttribute == "" {
			c.IDAttribute = "objectGUID"
		}
		if len(c.Users.ObjectClasses) == 0 {
			c.Users.ObjectClasses = []string{"user"}
		}
		if c.Users.DisableAttribute == "" {
			c.Users.DisableAttribute, c.Users.DisableMask = "userAccountControl", accountDisable
		}
		if c.Groups.Container != "" && len(c.Groups.ObjectClasses) == 0 {
			c.Groups.ObjectClasses = []string{"group"}
		}
	}
	if c.IDAttribute == "" {
		c.IDAttribute = "entryUUID"
	}
	if c.MemberAttribute == "" {
		c.MemberAttribute = "member"
	}
	if c.ReferenceAttributes == nil {
		c.ReferenceAttributes = []string{"manager"}
	}
	return c
}

// Validate checks the configuration and that the bind password it names is
// there, without contacting the directory. Every problem is reported as a
// connectors.FieldError.
func (c TargetConfig) Validate() error { return errors.Join(c.problems(true)...) }

func (c TargetConfig) problems(checkSecrets bool) []error {
	errs := c.Connection.problems(checkSecrets)
	for _, a := range []struct{ field, name string }{{"idAttribute", c.IDAttribute}, {"memberAttribute", c.MemberAttribute}} {
		if a.name != "" && !attrName.MatchString(a.name) {
			errs = append(errs, connectors.Invalid(a.field, "%q is not an attribute name", a.name))
		}
	}
	switch strings.ToLower(c.Dialect) {
	case "", OpenLDAP, ActiveDirectory:
	default:
		errs = append(errs, connectors.Invalid("dialect", "%q is neither %s nor %s", c.Dialect, OpenLDAP, ActiveDirectory))
	}
	d := c.withDefaults()
	errs = append(errs, referenceProblems(c.ReferenceAttributes, d.IDAttribute, d.MemberAttribute)...)
	if err := d.Users.problems(true); err != nil {
		errs = append(errs, connectors.Under("users", err))
	}
	if err := d.Groups.problems(false); err != nil {
		errs = append(errs, connectors.Under("groups", err))
	}
	return errs
}

// accountDisable is AD's ACCOUNTDISABLE bit of userAccountControl.
const accountDisable = 2

// referenceProblems checks referenceAttributes, which source and target
// configurations share.
func referenceProblems(names []string, id, member string) []error {
	var errs []error
	for i, name := range names {
		field := fmt.Sprintf("referenceAttributes[%d]", i)
		if !attrName.MatchString(name) {
			errs = append(errs, connectors.Invalid(field, "%q is not an attribute name", name))
		} else if strings.EqualFold(name, id) || strings.EqualFold(name, member) {
			errs = append(errs, connectors.Invalid(field, "%q is the ID or member attribute", name))
		}
	}
	return errs
}

// problems checks an object type's settings, naming fields relative to
// them; an optional type left out entirely has none.
func (o ObjectConfig) problems(required bool) error {
	if !required && o.Container == "" && o.DNTemplate == "" && len(o.ObjectClasses) == 0 {
		return nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	if _, err := goldap.ParseDN(o.Container); err != nil || o.Container == "" {
		bad("container", "%q is not a DN", o.Container)
	}
	if err := checkTemplate(o.DNTemplate); err != nil {
		bad("dnTemplate", "%v", err)
	}
	if len(o.ObjectClasses) == 0 {
		bad("objectClasses", "name at least one object class")
	}
	for _, oc := range o.ObjectClasses {
		if !attrName.MatchString(oc) {
			bad("objectClasses", "%q is not an object class name", oc)
		}
	}
	switch {
	case o.DisableAttribute != "" && !attrName.MatchString(o.DisableAttribute):
		bad("disableAttribute", "%q is not an attribute name", o.DisableAttribute)
	case o.DisableAttribute != "" && o.DisableValue == "" && o.DisableMask == 0:
		bad("disableValue", "required with disableAttribute, unless disableMask is set")
	case o.DisableValue != "" && o.DisableMask != 0:
		bad("disableMask", "set either disableValue or disableMask, not both")
	case o.DisableMask < 0:
		bad("disableMask", "must not be negative")
	case o.DisableAttribute == "" && (o.DisableValue != "" || o.EnableValue != "" || o.DisableMask != 0):
		bad("disableAttribute", "required with disableValue, disableMask or enableValue")
	}
	if o.DisableMask != 0 && o.EnableValue != "" {
		if _, err := strconv.ParseInt(o.EnableValue, 10, 64); err != nil {
			bad("enableValue", "%q is not an integer, which disableMask needs", o.EnableValue)
		}
	}
	if o.ParentAttribute != "" && !attrName.MatchString(o.ParentAttribute) {
		bad("parentAttribute", "%q is not an attribute name", o.ParentAttribute)
	}
	return errors.Join(errs...)
}

// attrName matches an attribute description (name or OID, with options);
// names go into filters unescaped, so nothing else may pass.
var attrName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$`)

// objectConfig returns the configuration of an object type.
func (c TargetConfig) objectConfig(t connectors.ObjectType) (ObjectConfig, error) {
	switch {
	case t == connectors.User:
		return c.Users, nil
	case t == connectors.Group && c.Groups.Container != "":
		return c.Groups, nil
	}
	return ObjectConfig{}, invalid("LDAP", "object type %q is not configured", t)
}

// classFilter matches entries of the object type: its first object class.
func (o ObjectConfig) classFilter() string {
	return "(objectClass=" + o.ObjectClasses[0] + ")"
}

// needsPlaceholder reports whether groups of this type must hold a member:
// groupOfNames and groupOfUniqueNames require one, and an empty DN stands
// in for "no members".
func (o ObjectConfig) needsPlaceholder() bool {
	for _, oc := range o.ObjectClasses {
		if strings.EqualFold(oc, "groupOfNames") || strings.EqualFold(oc, "groupOfUniqueNames") {
			return true
		}
	}
	return false
}
