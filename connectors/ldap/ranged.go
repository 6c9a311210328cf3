package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// maxRanges bounds the ranges read of one attribute: AD's 1,500 values a
// range make that five million values.
const maxRanges = 4000

// valueRange is one range of an attribute Active Directory returned in
// ranges: "member;range=0-1499" holds values 0 to 1499, and a high of "*"
// marks the last range.
type valueRange struct {
	attr string
	low  int
	high int // -1 for "*"
}

func parseRange(name string) (valueRange, bool) {
	i := strings.Index(strings.ToLower(name), ";range=")
	if i < 0 {
		return valueRange{}, false
	}
	lo, hi, ok := strings.Cut(name[i+len(";range="):], "-")
	if !ok {
		return valueRange{}, false
	}
	r := valueRange{attr: name[:i], high: -1}
	var err error
	if r.low, err = strconv.Atoi(lo); err != nil || r.low < 0 {
		return valueRange{}, false
	}
	if hi != "*" {
		if r.high, err = strconv.Atoi(hi); err != nil || r.high < r.low {
			return valueRange{}, false
		}
	}
	return r, true
}

// rangedValues reads every value of an attribute that arrived in ranges,
// starting from the first range the entry held. next names the range that
// starts at low, as the directory wants it asked for ("member;range=1500-*"
// or "member;range=1500-2999"); fetch reads one range of the entry's
// attribute and returns the attribute as the directory named it, nil when
// it has none.
func rangedValues(ctx context.Context, first *goldap.EntryAttribute, next func(low int) string, fetch func(ctx context.Context, attr string) (*goldap.EntryAttribute, error)) ([]string, error) {
	r, ok := parseRange(first.Name)
	if !ok || r.low != 0 {
		return nil, fmt.Errorf("%s: not a first range of values", first.Name)
	}
	values := append([]string(nil), first.Values...)
	for n := 0; r.high >= 0; n++ {
		if n == maxRanges {
			return nil, fmt.Errorf("%s: more than %d ranges of values", r.attr, maxRanges)
		}
		want := next(r.high + 1)
		a, err := fetch(ctx, want)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, fmt.Errorf("%s: the directory returned no values for %s", r.attr, want)
		}
		nr, ok := parseRange(a.Name)
		if !ok || nr.low != r.high+1 || !strings.EqualFold(nr.attr, r.attr) {
			return nil, fmt.Errorf("%s: asked for %s, the directory returned %s", r.attr, want, a.Name)
		}
		values = append(values, a.Values...)
		r = nr
	}
	return values, nil
}

// fetchRange reads one range of an entry's attribute with a base search.
func (d *Directory) fetchRange(dn string) func(ctx context.Context, attr string) (*goldap.EntryAttribute, error) {
	return func(ctx context.Context, attr string) (*goldap.EntryAttribute, error) {
		entries, err := d.c.search(ctx, dn, goldap.ScopeBaseObject, "(objectClass=*)", []string{attr}, 0)
		if err != nil || len(entries) == 0 {
			return nil, err
		}
		base := strings.ToLower(attr[:strings.Index(attr, ";")])
		for _, a := range entries[0].Attributes {
			if strings.HasPrefix(strings.ToLower(a.Name), base+";range=") {
				return a, nil
			}
		}
		return nil, nil
	}
}
