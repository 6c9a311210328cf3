package sampleapp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
)

// resourceHandler serves one resource type to the library's server.
type resourceHandler struct {
	kind    kind
	tbl     *table
	patcher patcher
	// onDelete runs after a resource is deleted (users leave their groups).
	onDelete func(id string)
	// emptyPatchReply answers PATCH with 204 instead of the resource: group
	// membership PATCHes would otherwise echo every member back.
	emptyPatchReply bool
}

var _ scim.ResourceHandler = (*resourceHandler)(nil)

func (h *resourceHandler) Create(_ *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	if err := h.check(attrs); err != nil {
		return scim.Resource{}, err
	}
	r, err := h.tbl.insert(attrs)
	if err != nil {
		return scim.Resource{}, scimError(err)
	}
	return r.resource(), nil
}

func (h *resourceHandler) Get(req *http.Request, id string) (scim.Resource, error) {
	r, ok := h.tbl.get(id)
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return project(r.resource(), req), nil
}

func (h *resourceHandler) GetAll(req *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	var (
		recs  []*record
		total int
	)
	if params.FilterValidator == nil {
		recs, total = h.tbl.page(params.StartIndex-1, params.Count)
	} else {
		matches := h.query(params.FilterValidator)
		recs, total = window(matches, params.StartIndex-1, params.Count), len(matches)
	}
	page := scim.Page{TotalResults: total, Resources: make([]scim.Resource, 0, len(recs))}
	for _, r := range recs {
		page.Resources = append(page.Resources, project(r.resource(), req))
	}
	return page, nil
}

func (h *resourceHandler) Replace(_ *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	if err := h.check(attrs); err != nil {
		return scim.Resource{}, err
	}
	r, err := h.tbl.update(id, func(scim.ResourceAttributes) (scim.ResourceAttributes, error) {
		return attrs, nil
	})
	if err != nil {
		return scim.Resource{}, scimError(err)
	}
	return r.resource(), nil
}

func (h *resourceHandler) Delete(_ *http.Request, id string) error {
	if !h.tbl.delete(id) {
		return scimerrors.ScimErrorResourceNotFound(id)
	}
	if h.onDelete != nil {
		h.onDelete(id)
	}
	return nil
}

func (h *resourceHandler) Patch(_ *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	r, err := h.tbl.update(id, func(attrs scim.ResourceAttributes) (scim.ResourceAttributes, error) {
		if err := h.patcher.applyAll(attrs, ops); err != nil {
			return nil, err
		}
		return attrs, h.check(attrs)
	})
	if err != nil {
		return scim.Resource{}, scimError(err)
	}
	if h.emptyPatchReply {
		return scim.Resource{}, nil
	}
	return r.resource(), nil
}

// check enforces the required attribute, which a PATCH may have removed.
func (h *resourceHandler) check(attrs scim.ResourceAttributes) error {
	if s, _ := attrs[h.kind.required].(string); strings.TrimSpace(s) == "" {
		return scimerrors.ScimErrorBadRequest(h.kind.required + " is required")
	}
	return nil
}

// removeMember drops id from every group listing it.
func (h *resourceHandler) removeMember(id string) {
	for _, g := range h.tbl.all() {
		if !hasMember(g.attrs, id) {
			continue
		}
		_, _ = h.tbl.update(g.id, func(attrs scim.ResourceAttributes) (scim.ResourceAttributes, error) {
			var kept []any
			for _, m := range asList(attrs["members"]) {
				if mm, _ := m.(map[string]any); mm["value"] != id {
					kept = append(kept, m)
				}
			}
			setList(attrs, "members", kept)
			return attrs, nil
		})
	}
}

func hasMember(attrs scim.ResourceAttributes, id string) bool {
	for _, m := range asList(attrs["members"]) {
		if mm, _ := m.(map[string]any); mm["value"] == id {
			return true
		}
	}
	return false
}

// project honours the attributes and excludedAttributes parameters for
// top-level attributes, which the library leaves to the handler: Azure reads
// groups without members, and listing ids only keeps pages small. The
// library adds id, schemas and meta itself.
func project(res scim.Resource, req *http.Request) scim.Resource {
	q := req.URL.Query()
	only, excluded := names(q.Get("attributes")), names(q.Get("excludedAttributes"))
	if only == nil && excluded == nil {
		return res
	}
	attrs := make(scim.ResourceAttributes, len(res.Attributes))
	for k, v := range res.Attributes {
		if (only == nil || selects(only, k)) && !excluded[strings.ToLower(k)] {
			attrs[k] = v
		}
	}
	res.Attributes = attrs
	return res
}

// names parses a comma-separated attribute list into lower-cased names;
// nil when the list is empty.
func names(list string) map[string]bool {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	out := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		out[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return out
}

// selects reports whether a requested name is the top-level key or lies
// within it: "name.givenName" selects name, an extension attribute selects
// the extension.
func selects(requested map[string]bool, key string) bool {
	key = strings.ToLower(key)
	for n := range requested {
		if n == key || strings.HasPrefix(n, key+".") || strings.HasPrefix(n, key+":") {
			return true
		}
	}
	return false
}

// scimError turns store errors into the SCIM errors the library renders.
func scimError(err error) error {
	var uniq errUniqueness
	switch {
	case errors.As(err, &uniq):
		e := scimerrors.ScimErrorUniqueness
		e.Detail = uniq.Error()
		return e
	case errors.Is(err, errNotFound):
		return scimerrors.ScimError{Status: http.StatusNotFound, Detail: "Resource not found."}
	}
	return err
}
