package expression

import (
	"strings"
)

// Functions on multi-valued attributes. A single value counts as a list of
// one, and null as an empty list.

func evalCount(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	return IntValue(int64(len(v.Values()))), err
}

func prepItem(p *prep) { prepInteger(p, 1, 1) }

// evalItem returns the index-th value (1-based), or null past the end.
func evalItem(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	i, ok, err := n.integer(e, 1)
	if err != nil {
		return Value{}, err
	}
	if !ok || i < 1 {
		return Value{}, n.failf("index must be 1 or more; items are numbered from 1")
	}
	vs := v.Values()
	if i > int64(len(vs)) {
		return Value{}, nil
	}
	return StringValue(vs[i-1]), nil
}

// evalRemoveDuplicates keeps the first occurrence of each value, in order.
func evalRemoveDuplicates(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil || v.kind != KindList {
		return v, err
	}
	l := v.list()
	seen := make(map[string]bool, len(l))
	out := make([]string, 0, len(l))
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return ListValue(out), nil
}

// evalSplit splits a string into a multi-valued value. Values are trimmed
// and empty ones dropped, so "PermissionSetOne, PermissionSetTwo" split on
// "," gives the two names Azure documents.
func evalSplit(e *Env, n *callNode) (Value, error) {
	s, ok, err := n.text(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	delim, _, err := n.text(e, 1)
	if err != nil {
		return Value{}, err
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, delim)
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return ListValue(out), nil
}
