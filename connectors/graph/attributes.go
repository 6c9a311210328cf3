package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// Attribute names with a meaning of their own.
const (
	// AppRoleAssignments lists a user's or group's app roles of the
	// provisioned application, one JSON object ({"id", "value",
	// "displayName"}) a role, as the app role functions read them.
	AppRoleAssignments = "appRoleAssignments"
	// ObjectID is Azure's name of a directory object's id.
	ObjectID = "objectId"
	// Manager is the user's manager, as the manager's object ID.
	Manager = "manager"
	// softDeleted is computed by the engine from Object.Disabled.
	softDeleted = "IsSoftDeleted"
	// members are Object.Members, not an attribute.
	members = "members"
)

// azureNames are the source attribute names Azure's provisioning service
// gives Entra ID properties where they differ from Graph's: the names an
// exported synchronization schema reads. Other names are Graph's own
// (givenName, department, extension_{appId}_name), read as they are; a
// dotted name reads into a complex property (employeeOrgData.costCenter,
// or a directory schema extension's field).
var azureNames = map[string]string{
	ObjectID:                     "id",
	"mobile":                     "mobilePhone",
	"telephoneNumber":            "businessPhones",
	"facsimileTelephoneNumber":   "faxNumber",
	"physicalDeliveryOfficeName": "officeLocation",
	"immutableId":                "onPremisesImmutableId",
}

func init() {
	for i := 1; i <= 15; i++ {
		n := "extensionAttribute" + itoa(i)
		azureNames[n] = "onPremisesExtensionAttributes." + n
	}
}

// defaultUserAttributes are read when a job names none (a read of
// everything, as for provisioning on demand without mappings).
var defaultUserAttributes = []string{
	"userPrincipalName", "displayName", "givenName", "surname", "mail", "mailNickname",
	"jobTitle", "department", "companyName", "employeeId", "employeeType", "mobile",
	"telephoneNumber", "physicalDeliveryOfficeName", "streetAddress", "city", "state",
	"postalCode", "country", "usageLocation", "preferredLanguage", "userType", Manager,
}

var defaultGroupAttributes = []string{"displayName", "description", "mail", "mailNickname", "mailEnabled", "securityEnabled"}

// property is the Graph property an attribute name reads and the path
// below it.
func property(name string) (prop string, path []string) {
	if p, ok := azureNames[name]; ok {
		name = p
	}
	parts := strings.Split(name, ".")
	return parts[0], parts[1:]
}

// selection is what a read asks Graph for: the attributes the job reads
// and the $select that returns them.
type selection struct {
	Type       connectors.ObjectType
	Attributes []string
	Select     []string
	Roles      bool // appRoleAssignments is read
	Manager    bool
}

// newSelection works out the $select of a read of t that returns names.
func newSelection(t connectors.ObjectType, names []string) selection {
	if len(names) == 0 {
		names = defaultUserAttributes
		if t == connectors.Group {
			names = defaultGroupAttributes
		}
	}
	s := selection{Type: t}
	props := map[string]bool{"id": true}
	switch t {
	case connectors.User:
		props["accountEnabled"] = true
	case connectors.Group:
		props["displayName"] = true
	}
	for _, n := range names {
		switch {
		case n == softDeleted || t == connectors.Group && n == members:
			continue
		case strings.EqualFold(n, AppRoleAssignments):
			s.Roles = true
		case t == connectors.User && n == Manager:
			s.Manager = true
			props[Manager] = true
		default:
			p, _ := property(n)
			props[p] = true
		}
		if !slices.Contains(s.Attributes, n) {
			s.Attributes = append(s.Attributes, n)
		}
	}
	if t == connectors.Group {
		props[members] = true
	}
	for p := range props {
		s.Select = append(s.Select, p)
	}
	sort.Strings(s.Select)
	sort.Strings(s.Attributes)
	return s
}

// digest identifies the selection: a delta link returns only the
// properties it was started with, so a job whose mappings read new ones
// must read everything again.
func (s selection) digest() string {
	h := sha256.Sum256([]byte(strings.Join(s.Select, ",")))
	return hex.EncodeToString(h[:8])
}

// attributes turns a Graph object into the attributes s reads.
func (s selection) attributes(raw map[string]any) connectors.Attributes {
	out := connectors.Attributes{}
	for _, n := range s.Attributes {
		switch {
		case n == Manager && s.Type == connectors.User:
			out[n] = managerID(raw)
		case strings.EqualFold(n, AppRoleAssignments):
			// Filled in from the assignments.
		default:
			p, path := property(n)
			v, ok := lookup(raw[p], path)
			if !ok {
				out[n] = nil
				continue
			}
			out[n] = value(n, v)
		}
	}
	return out
}

// managerID reads the manager's ID from $expand=manager (an object) or a
// delta's manager@delta (a list of one, or none when removed).
func managerID(raw map[string]any) any {
	if m, ok := raw[Manager].(map[string]any); ok {
		if id, ok := m["id"].(string); ok {
			return id
		}
	}
	if l, ok := raw["manager@delta"].([]any); ok {
		for _, e := range l {
			if m, ok := e.(map[string]any); ok && m["@removed"] == nil {
				if id, ok := m["id"].(string); ok {
					return id
				}
			}
		}
	}
	return nil
}

// lookup follows path into complex properties.
func lookup(v any, path []string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// value converts a JSON value to an attribute value: strings, booleans and
// numbers as they are, lists of strings as []string, complex values as
// their JSON. Azure's telephoneNumber is the first of businessPhones.
func value(name string, v any) any {
	switch x := v.(type) {
	case nil, string, bool:
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		if len(x) == 0 {
			return nil
		}
		list := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				list = append(list, s)
			} else {
				b, _ := json.Marshal(e)
				list = append(list, string(b))
			}
		}
		if name == "telephoneNumber" {
			return list[0]
		}
		return list
	}
	b, _ := json.Marshal(v)
	return string(b)
}
