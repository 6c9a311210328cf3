package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/openprovisioning/provisioner/connectors"
)

// TestConnection queries users for a random GUID, as Azure's test does, and
// expects an empty ListResponse. It proves the URL, the credentials and that
// filtered queries are answered as SCIM requires.
func (c *Client) TestConnection(ctx context.Context) error {
	p, err := parsePath(c.cfg.UserFilterAttribute)
	if err != nil {
		return invalid("test connection", "userFilterAttribute: "+err.Error())
	}
	f, err := p.equalityFilter(uuid.NewString())
	if err != nil {
		return invalid("test connection", err.Error())
	}
	lr, err := c.list(ctx, connectors.User, url.Values{"filter": {f}})
	if err != nil {
		return err
	}
	if *lr.TotalResults != 0 || len(lr.Resources) != 0 {
		return c.incompatible(http.MethodGet+" /Users", http.StatusOK,
			fmt.Sprintf("a query for a random %s matched %d users: the service does not filter", c.cfg.UserFilterAttribute, *lr.TotalResults))
	}
	return nil
}

// ServiceProvider is what a service says about itself in
// /ServiceProviderConfig and /Schemas.
type ServiceProvider struct {
	Patch, Bulk, Filter, Sort, ETag, ChangePassword bool
	// MaxResults is the most resources a query answers with, 0 if unsaid.
	MaxResults int
	// AuthenticationSchemes lists the schemes' types ("oauthbearertoken").
	AuthenticationSchemes []string
	// Schemas are the resource schemas, empty when /Schemas is not served.
	Schemas []Schema
}

// Schema is a resource schema (RFC 7643 §7).
type Schema struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Attributes []Attribute `json:"attributes"`
}

// Attribute describes one attribute of a schema.
type Attribute struct {
	Name          string      `json:"name"`
	Type          string      `json:"type"`
	MultiValued   bool        `json:"multiValued"`
	Required      bool        `json:"required"`
	CaseExact     bool        `json:"caseExact"`
	Mutability    string      `json:"mutability"`
	SubAttributes []Attribute `json:"subAttributes"`
}

type supported struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

// Discover reads /ServiceProviderConfig and /Schemas. Either may be
// missing (Azure does not require /ServiceProviderConfig and some services
// do not serve /Schemas): a 404 leaves that part empty.
func (c *Client) Discover(ctx context.Context) (ServiceProvider, error) {
	var spc struct {
		Patch                 supported `json:"patch"`
		Bulk                  supported `json:"bulk"`
		Filter                supported `json:"filter"`
		Sort                  supported `json:"sort"`
		ETag                  supported `json:"etag"`
		ChangePassword        supported `json:"changePassword"`
		AuthenticationSchemes []struct {
			Type string `json:"type"`
		} `json:"authenticationSchemes"`
	}
	if err := c.call(ctx, http.MethodGet, "/ServiceProviderConfig", nil, nil, &spc); err != nil && connectors.KindOf(err) != connectors.KindNotFound {
		return ServiceProvider{}, err
	}
	sp := ServiceProvider{
		Patch: spc.Patch.Supported, Bulk: spc.Bulk.Supported, Filter: spc.Filter.Supported,
		Sort: spc.Sort.Supported, ETag: spc.ETag.Supported, ChangePassword: spc.ChangePassword.Supported,
		MaxResults: spc.Filter.MaxResults,
	}
	for _, s := range spc.AuthenticationSchemes {
		sp.AuthenticationSchemes = append(sp.AuthenticationSchemes, s.Type)
	}

	var schemas struct {
		Resources []Schema `json:"Resources"`
	}
	if err := c.call(ctx, http.MethodGet, "/Schemas", nil, nil, &schemas); err != nil && connectors.KindOf(err) != connectors.KindNotFound {
		return ServiceProvider{}, err
	}
	sp.Schemas = schemas.Resources
	return sp, nil
}

// ConnectionChecks reads /ServiceProviderConfig and /Schemas, which a
// service may leave out: a 404 is noted, any other failure fails the
// check.
func (c *Client) ConnectionChecks() []connectors.ConnectionCheck {
	check := func(path string) connectors.ConnectionCheck {
		return connectors.ConnectionCheck{Name: http.MethodGet + " " + path, Run: func(ctx context.Context) (string, error) {
			var doc map[string]any
			err := c.call(ctx, http.MethodGet, path, nil, nil, &doc)
			if connectors.KindOf(err) == connectors.KindNotFound {
				return "not served (404), which SCIM allows", nil
			}
			return "", err
		}}
	}
	return []connectors.ConnectionCheck{check("/ServiceProviderConfig"), check("/Schemas")}
}
