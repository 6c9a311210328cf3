package sampleapp

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
)

// dropValues removes the elements whose "value" is one of values.
func dropValues(list []any, values []string, attr schema.CoreAttribute) []any {
	exact := true
	if sa, ok := attr.SubAttributes().ContainsAttribute("value"); ok {
		exact = sa.CaseExact()
	}
	key := func(s string) string {
		if exact {
			return s
		}
		return strings.ToLower(s)
	}
	drop := make(map[string]bool, len(values))
	for _, v := range values {
		drop[key(v)] = true
	}
	kept := make([]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if s, ok := m["value"].(string); ok && drop[key(s)] {
				continue
			}
		}
		kept = append(kept, e)
	}
	return kept
}

// elementSet finds elements of a multi-valued attribute by their "value"
// (scalar elements by themselves). Two complex elements are the same when
// their values are and so are their types, if both have one: adding a
// member twice must not list it twice.
type elementSet map[string][]any

func newElementSet(elems []any) elementSet {
	set := elementSet{}
	for _, e := range elems {
		set.add(e)
	}
	return set
}

func (s elementSet) add(e any) {
	if k, ok := elementKey(e); ok {
		s[k] = append(s[k], e)
	}
}

func (s elementSet) contains(e any) bool {
	k, ok := elementKey(e)
	if !ok {
		return false
	}
	for _, x := range s[k] {
		xm, _ := x.(map[string]any)
		em, _ := e.(map[string]any)
		if sameType(xm["type"], em["type"]) {
			return true
		}
	}
	return false
}

func sameType(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	return !aok || !bok || strings.EqualFold(as, bs)
}

// elementKey is the string an element is found by. Strings key themselves
// (string map keys hash fast, and the lists scanned may be long); other
// scalars get a prefix no string value starts with.
func elementKey(e any) (string, bool) {
	if m, ok := e.(map[string]any); ok {
		e = m["value"]
	}
	switch v := e.(type) {
	case string:
		return v, true
	case bool, int64, float64:
		return fmt.Sprintf("\x00%T:%v", v, v), true
	}
	return "", false
}

// appendNew appends the elements of add that list does not hold yet. It
// indexes the few added elements and scans the list once: the list may be
// a group of 100,000 members.
func appendNew(list, add []any) []any {
	incoming := elementSet{}
	var fresh []any
	for _, e := range add {
		if !incoming.contains(e) {
			incoming.add(e)
			fresh = append(fresh, e)
		}
	}
	present := elementSet{}
	for _, x := range list {
		if incoming.contains(x) {
			present.add(x)
		}
	}
	for _, e := range fresh {
		if !present.contains(e) {
			list = appendElement(list, e)
		}
	}
	return list
}

// appendElement appends e, keeping "primary": true on at most one element.
func appendElement(list []any, e any) []any {
	list = append(list, e)
	clearOtherPrimaries(list, len(list)-1)
	return list
}

func clearOtherPrimaries(list []any, keep int) {
	if m, ok := list[keep].(map[string]any); !ok || m["primary"] != true {
		return
	}
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && i != keep && m["primary"] == true {
			own(list, i)["primary"] = false
		}
	}
}

// own replaces list[i], a complex element, with a copy the caller may
// change: elements are shared with the stored resource (see copyForWrite).
// It returns nil for a scalar element.
func own(list []any, i int) map[string]any {
	m, ok := list[i].(map[string]any)
	if !ok {
		return nil
	}
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	list[i] = c
	return c
}

func setOrDelete(m map[string]any, op, key string, value any) {
	if op == scim.PatchOperationRemove {
		delete(m, key)
	} else {
		m[key] = value
	}
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

func setList(c map[string]any, name string, list []any) {
	if len(list) == 0 {
		delete(c, name)
		return
	}
	c[name] = list
}

func setMap(c map[string]any, name string, m map[string]any) {
	if len(m) == 0 {
		delete(c, name)
		return
	}
	c[name] = m
}

func dropEmpty(list []any) []any {
	kept := list[:0]
	for _, e := range list {
		if m, ok := e.(map[string]any); !ok || len(m) > 0 {
			kept = append(kept, e)
		}
	}
	return kept
}

func removeIndexes(list []any, idx []int) []any {
	if len(idx) == 0 {
		return list
	}
	kept := make([]any, 0, len(list)-len(idx))
	next := 0
	for i, e := range list {
		if next < len(idx) && idx[next] == i {
			next++
			continue
		}
		kept = append(kept, e)
	}
	return kept
}
