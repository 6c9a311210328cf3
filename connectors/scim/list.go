package scim

import (
	"context"
	"fmt"
	"net/http"
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
// lists, so a listing that is not complete is an error: a service that
// ignores startIndex would otherwise look like one with few objects.
func (c *Client) List(ctx context.Context, t connectors.ObjectType, fn func(connectors.TargetObject) error) error {
	ep, err := endpoint(t)
	if err != nil {
		return err
	}
	q := url.Values{"count": {strconv.Itoa(max(c.cfg.PageSize, listCount))}}
	if t == connectors.Group {
		q.Set("excludedAttributes", "members")
	}
	seen := map[string]struct{}{}
	start, total := 1, 0
	for {
		lr, at, err := c.page(ctx, t, q, start, total)
		if err != nil {
			return err
		}
		for _, r := range lr.Resources {
			obj := targetObject(t, r)
			if _, dup := seen[obj.ID]; dup {
				continue
			}
			seen[obj.ID] = struct{}{}
			if err := fn(obj); err != nil {
				return err
			}
		}
		total = *lr.TotalResults
		start = at + len(lr.Resources)
		if len(lr.Resources) == 0 || start > total {
			break
		}
	}
	if len(seen) < total {
		return c.incompatible(http.MethodGet+" "+ep, http.StatusOK, fmt.Sprintf("listing ended after %d of %d resources: the service does not page by startIndex", len(seen), total))
	}
	return nil
}
