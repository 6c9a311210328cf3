package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// listResponse is a query answer (RFC 7644 §3.4.2). TotalResults is a
// pointer so that an answer without it is told apart.
type listResponse struct {
	TotalResults *int             `json:"totalResults"`
	StartIndex   int              `json:"startIndex"`
	Resources    []map[string]any `json:"Resources"`
}

// list sends a query and checks that the answer is a ListResponse, as Azure
// demands of every query answer.
func (c *Client) list(ctx context.Context, t connectors.ObjectType, q url.Values) (listResponse, error) {
	ep, err := endpoint(t)
	if err != nil {
		return listResponse{}, err
	}
	var lr listResponse
	if err := c.call(ctx, http.MethodGet, ep, q, nil, &lr); err != nil {
		return listResponse{}, err
	}
	if lr.TotalResults == nil {
		return listResponse{}, c.incompatible(http.MethodGet+" "+ep, http.StatusOK, "the answer to a query is not a ListResponse (no totalResults)")
	}
	for _, r := range lr.Resources {
		if resourceID(r) == "" {
			return listResponse{}, c.incompatible(http.MethodGet+" "+ep, http.StatusOK, "a resource in the answer has no id")
		}
	}
	return lr, nil
}

// Find queries `attribute eq value`. It fails with ServiceIncompatible when
// the service answers with resources whose value differs, as services that
// ignore filters do: taking their first page for "no match" would create
// duplicates.
func (c *Client) Find(ctx context.Context, t connectors.ObjectType, attribute string, value any) ([]connectors.TargetObject, error) {
	ep, err := endpoint(t)
	if err != nil {
		return nil, err
	}
	op := http.MethodGet + " " + ep
	p, err := parsePath(attribute)
	if err != nil {
		return nil, invalid(op, err.Error())
	}
	f, err := p.equalityFilter(value)
	if err != nil {
		return nil, invalid(op, attribute+": "+err.Error())
	}
	q := url.Values{"filter": {f}}
	if t == connectors.Group {
		q.Set("excludedAttributes", "members")
	}
	lr, err := c.list(ctx, t, q)
	if err != nil {
		return nil, err
	}
	out := make([]connectors.TargetObject, 0, len(lr.Resources))
	for _, r := range lr.Resources {
		obj := targetObject(t, r)
		if got, ok := lookup(obj.Attributes, attribute); ok && !sameValue(got, value) {
			return nil, c.incompatible(op, http.StatusOK, fmt.Sprintf("the service ignored the filter %s: it answered with %s %v", f, attribute, got))
		}
		out = append(out, obj)
	}
	return out, nil
}

// Get reads one object. Groups are read without members, as Azure does:
// memberships are changed as deltas and members can be many.
func (c *Client) Get(ctx context.Context, t connectors.ObjectType, id string) (connectors.TargetObject, error) {
	path, err := resourcePath(t, id)
	if err != nil {
		return connectors.TargetObject{}, err
	}
	var q url.Values
	if t == connectors.Group {
		q = url.Values{"excludedAttributes": {"members"}}
	}
	var res map[string]any
	if err := c.call(ctx, http.MethodGet, path, q, nil, &res); err != nil {
		return connectors.TargetObject{}, err
	}
	if resourceID(res) == "" {
		return connectors.TargetObject{}, c.incompatible(http.MethodGet+" "+path, http.StatusOK, "the resource has no id")
	}
	return targetObject(t, res), nil
}

// Create posts a new object and returns the id the service gave it.
func (c *Client) Create(ctx context.Context, t connectors.ObjectType, attrs connectors.Attributes) (string, error) {
	ep, err := endpoint(t)
	if err != nil {
		return "", err
	}
	body, err := c.encodeResource(t, attrs)
	if err != nil {
		return "", invalid(http.MethodPost+" "+ep, err.Error())
	}
	var created createdResource
	if err := c.call(ctx, http.MethodPost, ep, nil, encodedBody(body), &created); err != nil {
		return "", err
	}
	id := created.ID
	if id == "" {
		return "", c.incompatible(http.MethodPost+" "+ep, http.StatusCreated, "the created resource has no id")
	}
	return id, nil
}

// Update sends one PATCH with an operation per change. Change.Old must be
// the target's current value (nil when it has none): it decides between
// adding and replacing.
func (c *Client) Update(ctx context.Context, t connectors.ObjectType, id string, changes []connectors.Change) error {
	path, err := resourcePath(t, id)
	if err != nil {
		return err
	}
	ops, err := c.patchOps(t, changes)
	if err != nil {
		return invalid(http.MethodPatch+" "+path, err.Error())
	}
	if len(ops) == 0 {
		return nil
	}
	return c.call(ctx, http.MethodPatch, path, nil, newPatch(ops), nil)
}

// SetActive enables or disables a user with a PATCH of active.
func (c *Client) SetActive(ctx context.Context, t connectors.ObjectType, id string, active bool) error {
	path, err := resourcePath(t, id)
	if err != nil {
		return err
	}
	if t != connectors.User {
		return invalid(http.MethodPatch+" "+path, "only users have an active attribute")
	}
	ops := []patchOp{{Op: c.op("replace"), Path: "active", Value: c.wireValue(t, attrPath{name: "active"}, active, true)}}
	return c.call(ctx, http.MethodPatch, path, nil, newPatch(ops), nil)
}

// Delete removes an object; one that is already gone is not an error.
func (c *Client) Delete(ctx context.Context, t connectors.ObjectType, id string) error {
	path, err := resourcePath(t, id)
	if err != nil {
		return err
	}
	err = c.call(ctx, http.MethodDelete, path, nil, nil, nil)
	if connectors.KindOf(err) == connectors.KindNotFound {
		return nil
	}
	return err
}

func targetObject(t connectors.ObjectType, res map[string]any) connectors.TargetObject {
	return connectors.TargetObject{
		ID:         resourceID(res),
		Attributes: flatten(res),
		Active:     t != connectors.User || isActive(res),
	}
}

// lookup finds a flat attribute, ignoring case as SCIM attribute names do.
func lookup(attrs connectors.Attributes, key string) (any, bool) {
	if v, ok := attrs[key]; ok {
		return v, true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// sameValue compares a value read back with the one queried for, loosely:
// the service decides case sensitivity per attribute.
func sameValue(got, want any) bool {
	if list, ok := got.([]string); ok {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, fmt.Sprint(want)) })
	}
	return strings.EqualFold(fmt.Sprint(got), fmt.Sprint(want))
}
