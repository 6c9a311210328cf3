package scim

import (
	"context"
	"net/http"

	"github.com/openprovisioning/provisioner/connectors"
)

// AddMembers adds users (or groups) to a group, MemberBatchSize per PATCH.
func (c *Client) AddMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.changeMembers(ctx, groupID, memberIDs, func(batch []string) []patchOp {
		return []patchOp{{Op: c.op("add"), Path: "members", Value: c.memberValues(batch)}}
	})
}

// RemoveMembers removes members from a group, MemberBatchSize per PATCH:
// by `members[value eq "id"]` paths (RFC 7644 §3.5.2.2), or in the Azure
// dialect by a value list.
func (c *Client) RemoveMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.changeMembers(ctx, groupID, memberIDs, func(batch []string) []patchOp {
		if c.cfg.Dialect == DialectAzure {
			return []patchOp{{Op: "Remove", Path: "members", Value: c.memberValues(batch)}}
		}
		ops := make([]patchOp, len(batch))
		for i, id := range batch {
			lit, _ := literal(id)
			ops[i] = patchOp{Op: "remove", Path: "members[value eq " + lit + "]"}
		}
		return ops
	})
}

func (c *Client) changeMembers(ctx context.Context, groupID string, ids []string, ops func([]string) []patchOp) error {
	path, err := resourcePath(connectors.Group, groupID)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += c.cfg.MemberBatchSize {
		batch := ids[start:min(start+c.cfg.MemberBatchSize, len(ids))]
		if err := c.call(ctx, http.MethodPatch, path, nil, newPatch(ops(batch)), nil); err != nil {
			return err
		}
	}
	return nil
}

// memberValues lists members as Azure writes them, with a null $ref.
func (c *Client) memberValues(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		if c.cfg.Dialect == DialectAzure {
			out[i] = map[string]any{"$ref": nil, "value": id}
		} else {
			out[i] = map[string]any{"value": id}
		}
	}
	return out
}
