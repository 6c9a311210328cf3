package scim

import (
	"context"
	"net/url"
	"strconv"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Lister = (*Client)(nil)

// listCount is the page size asked for when the whole target is listed:
// large, as services cap it at what they can answer with anyway.
const listCount = 1000

// List calls fn with every user or group, once each, read as Get reads
// them (groups without members). The engine matches against what it
// lists, so the listing is read and checked as a source's is (see walk):
// an object it left out would be created again.
func (c *Client) List(ctx context.Context, t connectors.ObjectType, fn func(connectors.TargetObject) error) error {
	q := url.Values{"count": {strconv.Itoa(max(c.cfg.PageSize, listCount))}}
	if t == connectors.Group {
		q.Set("excludedAttributes", "members")
	}
	w, err := newWalk(t, q)
	if err != nil {
		return err
	}
	return w.all(ctx, c, func(r map[string]any) error { return fn(targetObject(t, r)) })
}
