package sampleapp

import (
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Schema URNs the application serves.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// kind describes one resource type: its schemas and the attribute whose
// value must be present (and, for users, unique).
type kind struct {
	name       string
	endpoint   string
	core       schema.Schema
	extensions []schema.Schema
	required   string
}

// attributes returns the core schema's attributes plus externalId, which the
// library accepts on every resource type without it being in the schema.
func (k kind) attributes() schema.Attributes {
	externalID := schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
		CaseExact: true,
		Name:      "externalId",
	}))
	return append(append(schema.Attributes{}, k.core.Attributes...), externalID)
}

var (
	userKind = kind{
		name:       "User",
		endpoint:   "/Users",
		core:       schema.CoreUserSchema(),
		extensions: []schema.Schema{schema.ExtensionEnterpriseUser()},
		required:   "userName",
	}
	groupKind = kind{
		name:     "Group",
		endpoint: "/Groups",
		core:     schema.CoreGroupSchema(),
		required: "displayName",
	}
)

func (k kind) resourceType(h scim.ResourceHandler) scim.ResourceType {
	rt := scim.ResourceType{
		ID:          optional.NewString(k.name),
		Name:        k.name,
		Description: optional.NewString(k.name + " accounts"),
		Endpoint:    k.endpoint,
		Schema:      k.core,
		Handler:     h,
	}
	for _, e := range k.extensions {
		rt.SchemaExtensions = append(rt.SchemaExtensions, scim.SchemaExtension{Schema: e})
	}
	return rt
}

// extension returns the extension schema whose URN is id (URNs compare
// case-insensitively).
func (k kind) extension(id string) (schema.Schema, bool) {
	for _, e := range k.extensions {
		if strings.EqualFold(e.ID, id) {
			return e, true
		}
	}
	return schema.Schema{}, false
}

func serviceProviderConfig(maxResults int) *scim.ServiceProviderConfig {
	return &scim.ServiceProviderConfig{
		DocumentationURI: optional.NewString("https://datatracker.ietf.org/doc/html/rfc7644"),
		AuthenticationSchemes: []scim.AuthenticationScheme{{
			Type:        scim.AuthenticationTypeOauthBearerToken,
			Name:        "OAuth Bearer Token",
			Description: "A long-lived bearer token in the Authorization header.",
			Primary:     true,
		}},
		MaxResults:       maxResults,
		SupportFiltering: true,
		SupportPatch:     true,
	}
}
