package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// adRanges answers range requests the way Active Directory documents it:
// at most size values a range, the last range's high end written "*".
func adRanges(all []string, size int, asked *[]string) func(context.Context, string) (*goldap.EntryAttribute, error) {
	return func(_ context.Context, attr string) (*goldap.EntryAttribute, error) {
		*asked = append(*asked, attr)
		r, ok := parseRange(attr)
		if !ok || r.high != -1 {
			return nil, fmt.Errorf("bad request %s", attr)
		}
		return adRange(r.attr, all, r.low, size), nil
	}
}

// openEnded asks for the rest of the values, as AD's documentation does.
func openEnded(low int) string { return fmt.Sprintf("member;range=%d-*", low) }

func adRange(attr string, all []string, low, size int) *goldap.EntryAttribute {
	high := min(low+size, len(all)) - 1
	name := fmt.Sprintf("%s;range=%d-%d", attr, low, high)
	if high == len(all)-1 {
		name = fmt.Sprintf("%s;range=%d-*", attr, low)
	}
	return &goldap.EntryAttribute{Name: name, Values: all[low : high+1]}
}

func TestRangedValuesReadsEveryRange(t *testing.T) {
	var all []string
	for i := range 4001 {
		all = append(all, fmt.Sprintf("cn=u%d,dc=example,dc=org", i))
	}
	var asked []string
	got, err := rangedValues(context.Background(), adRange("member", all, 0, 1500), openEnded, adRanges(all, 1500, &asked))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) || got[0] != all[0] || got[4000] != all[4000] {
		t.Fatalf("%d values, want %d", len(got), len(all))
	}
	if strings.Join(asked, " ") != "member;range=1500-* member;range=3000-*" {
		t.Fatalf("asked for %v", asked)
	}
}

func TestRangedValuesRefusesWhatItCannotTrust(t *testing.T) {
	all := []string{"a", "b", "c", "d"}
	cases := map[string]func(context.Context, string) (*goldap.EntryAttribute, error){
		"no values": func(context.Context, string) (*goldap.EntryAttribute, error) { return nil, nil },
		"a gap": func(context.Context, string) (*goldap.EntryAttribute, error) {
			return &goldap.EntryAttribute{Name: "member;range=3-*", Values: all[3:]}, nil
		},
		"another attribute": func(context.Context, string) (*goldap.EntryAttribute, error) {
			return &goldap.EntryAttribute{Name: "memberOf;range=2-*", Values: all[2:]}, nil
		},
	}
	for name, fetch := range cases {
		if _, err := rangedValues(context.Background(), adRange("member", all, 0, 2), openEnded, fetch); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	failed := errors.New("connection lost")
	_, err := rangedValues(context.Background(), adRange("member", all, 0, 2), openEnded, func(context.Context, string) (*goldap.EntryAttribute, error) { return nil, failed })
	if !errors.Is(err, failed) {
		t.Errorf("a failed read is returned as it is: %v", err)
	}
	if _, err := rangedValues(context.Background(), &goldap.EntryAttribute{Name: "member;range=2-3"}, openEnded, nil); err == nil {
		t.Error("a range that is not the first is refused")
	}
	for _, bad := range []string{"member", "member;range=x-1", "member;range=5-2", "member;range=1"} {
		if _, ok := parseRange(bad); ok {
			t.Errorf("parseRange(%q) accepted", bad)
		}
	}
}
