package scim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// flatten turns a SCIM resource into flat attributes. Multi-valued complex
// attributes are keyed by their elements' type (`emails[type eq "work"].value`);
// an element without a type is keyed as the primary one when it is.
// Group members are not attributes: see members.
func flatten(res map[string]any) connectors.Attributes {
	out := connectors.Attributes{}
	for k, v := range res {
		switch {
		case k == "schemas" || k == "meta" || strings.EqualFold(k, "members"):
		case strings.HasPrefix(strings.ToLower(k), "urn:"):
			ext, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for ek, ev := range ext {
				if strings.EqualFold(k, EnterpriseSchema) && strings.EqualFold(ek, "manager") {
					if m, ok := ev.(map[string]any); ok {
						if id, ok := m["value"].(string); ok && id != "" {
							out[k+":"+ek] = id
						}
						continue
					}
				}
				flattenInto(out, k+":"+ek, ev)
			}
		default:
			flattenInto(out, k, v)
		}
	}
	return out
}

func flattenInto(out connectors.Attributes, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for sk, sv := range v {
			if s, ok := scalar(sv); ok {
				out[key+"."+sk] = s
			}
		}
	case []any:
		var values []string
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				if s, ok := scalar(e); ok {
					values = append(values, fmt.Sprint(s))
				}
				continue
			}
			sel := selector(m)
			if sel == "" {
				continue
			}
			for sk, sv := range m {
				if strings.EqualFold(sk, "type") {
					continue
				}
				k := key + "[" + sel + "]." + sk
				if _, seen := out[k]; seen {
					continue // two elements of one type: the first wins
				}
				if s, ok := scalar(sv); ok {
					out[k] = s
				}
			}
		}
		if values != nil {
			out[key] = values
		}
	default:
		if s, ok := scalar(v); ok {
			out[key] = s
		}
	}
}

// selector is the value filter that addresses an element.
func selector(m map[string]any) string {
	for k, v := range m {
		if strings.EqualFold(k, "type") {
			if s, ok := v.(string); ok && s != "" {
				lit, _ := literal(s)
				return "type eq " + lit
			}
		}
	}
	if m["primary"] == true {
		return "primary eq true"
	}
	return ""
}

// scalar converts a JSON scalar to an attribute value: string, bool, int64
// or float64.
func scalar(v any) (any, bool) {
	switch v := v.(type) {
	case string, bool:
		return v, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	}
	return nil, false
}

// members returns the member ids of a group resource.
func members(res map[string]any) []string {
	var ids []string
	for k, v := range res {
		if !strings.EqualFold(k, "members") {
			continue
		}
		list, _ := v.([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if id, ok := m["value"].(string); ok && id != "" {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// isActive reads a user's active attribute; absent means active. Some
// services answer with Azure's strings.
func isActive(res map[string]any) bool {
	if b, ok := asBool(res["active"]); ok {
		return b
	}
	return true
}

// resourceID returns a resource's id.
func resourceID(res map[string]any) string {
	id, _ := res["id"].(string)
	return id
}
