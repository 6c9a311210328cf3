package graph

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.AttributeChecker = (*Client)(nil)

// unknownProperty finds the property Graph names when it refuses a $select.
var unknownProperty = regexp.MustCompile(`property named '([^']+)'`)

// CheckAttributes asks Graph whether users or groups have the properties
// the names read: a listing of one object with them all selected, which
// Graph refuses naming the first it does not know, asked again without it
// until it answers. Computed names (IsSoftDeleted, appRoleAssignments) and
// navigation properties (manager, members) are always there.
func (c *Client) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	ep, err := endpoint(t)
	if err != nil {
		return connectors.AttributeCheck{}, err
	}
	check := connectors.AttributeCheck{Against: "the " + strings.ToLower(string(t)) + " properties of Microsoft Graph at " + c.cfg.GraphURL}
	byProp := map[string][]string{}
	for _, n := range newSelection(t, names).Attributes {
		if strings.EqualFold(n, AppRoleAssignments) || n == Manager && t == connectors.User {
			continue
		}
		p, _ := property(n)
		byProp[p] = append(byProp[p], n)
	}
	props := make([]string, 0, len(byProp))
	for p := range byProp {
		props = append(props, p)
	}
	slices.Sort(props)
	known := append(slices.Clone(defaultUserAttributes), defaultGroupAttributes...)
	for n := range azureNames {
		known = append(known, n)
	}
	for len(props) > 0 {
		q := url.Values{"$select": {strings.Join(append([]string{"id"}, props...), ",")}, "$top": {"1"}}
		var page collection
		err := c.get(ctx, ep+"?"+q.Encode(), 0, &page)
		if err == nil {
			return check, nil
		}
		m := unknownProperty.FindStringSubmatch(err.Error())
		if connectors.KindOf(err) != connectors.KindInvalidRequest || m == nil || !slices.Contains(props, m[1]) {
			return connectors.AttributeCheck{}, err
		}
		props = slices.DeleteFunc(props, func(p string) bool { return p == m[1] })
		for _, n := range byProp[m[1]] {
			check.Unknown = append(check.Unknown, connectors.UnknownAttribute{Name: n, Suggestion: connectors.Closest(n, known)})
		}
	}
	return check, nil
}
