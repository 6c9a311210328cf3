package scim

import (
	"github.com/openprovisioning/provisioner/connectors"
)

const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// patchOp is one PATCH operation. Value is left out only when nil.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

type patchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

func newPatch(ops []patchOp) patchRequest {
	return patchRequest{Schemas: []string{patchOpSchema}, Operations: ops}
}

// op names an operation in the client's dialect: RFC 7644 uses lower case,
// Azure capitalises.
func (c *Client) op(name string) string {
	if c.cfg.Dialect != DialectAzure {
		return name
	}
	switch name {
	case "add":
		return "Add"
	case "remove":
		return "Remove"
	}
	return "Replace"
}

// patchOps turns attribute changes into PATCH operations, one per changed
// attribute.
//
// In the RFC dialect a value path whose element does not exist yet (every
// change to it has an empty Old) becomes one "add" of the whole element:
// RFC 7644 §3.5.2.3 makes a "replace" through an unmatched filter fail
// with noTarget. Clearing a value path's "value" removes the element.
//
// The Azure dialect sends what Azure does: "Add" for a value that was
// empty, "Replace" otherwise, "Remove" to clear, always by path.
func (c *Client) patchOps(t connectors.ObjectType, changes []connectors.Change) ([]patchOp, error) {
	var (
		ops []patchOp
		// elements are the new elements being added, by value path; the
		// op's value holds the same map, so later changes fill it in.
		elements = map[string]map[string]any{}
		existing = map[string]bool{} // value paths with an element already
	)
	for _, ch := range changes {
		if p, err := parsePath(ch.Attribute); err == nil && p.filter != "" && !isEmpty(ch.Old) {
			existing[p.withoutSub()] = true
		}
	}
	for _, ch := range changes {
		p, err := parsePath(ch.Attribute)
		if err != nil {
			return nil, err
		}
		if isEmpty(ch.New) {
			path := p.raw
			if p.filter != "" && p.sub == "value" {
				path = p.withoutSub()
			}
			ops = append(ops, patchOp{Op: c.op("remove"), Path: path})
			continue
		}
		v := c.wireValue(t, p, ch.New, true)
		switch {
		case c.cfg.Dialect == DialectAzure && isEmpty(ch.Old):
			ops = append(ops, patchOp{Op: "Add", Path: p.raw, Value: v})
		case c.cfg.Dialect == DialectAzure:
			ops = append(ops, patchOp{Op: "Replace", Path: p.raw, Value: v})
		case p.filter != "" && !existing[p.withoutSub()]:
			key := p.withoutSub()
			if elem, ok := elements[key]; ok {
				elem[p.sub] = v
				continue
			}
			elem := map[string]any{p.sub: v}
			for k, sv := range p.seed {
				elem[k] = sv
			}
			elements[key] = elem
			ops = append(ops, patchOp{Op: "add", Path: p.qualified(), Value: []any{elem}})
		default:
			ops = append(ops, patchOp{Op: "replace", Path: p.raw, Value: v})
		}
	}
	return ops, nil
}
