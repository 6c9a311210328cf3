package ldap

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/samba"
	"github.com/openprovisioning/provisioner/secrets"
)

// TestActiveDirectorySourceOnSamba reads a real domain controller: objectGUID
// anchors, the ACCOUNTDISABLE bit, members in ranges, and a uSNChanged delta
// that sees a rename, a disable and a deletion (a tombstone in Deleted
// Objects), tied to the DC it counted on.
func TestActiveDirectorySourceOnSamba(t *testing.T) {
	dc := samba.Start(t)
	staff, elsewhere := "OU=Staff,"+samba.Base, "OU=Elsewhere,"+samba.Base
	dc.AddOU(t, staff, elsewhere)
	c := dc.Conn(t)
	dn := func(cn, ou string) string { return "CN=" + cn + "," + ou }
	addADUser(t, c, dn("alice", staff), "alice", "Secret-Pw1", map[string][]string{"displayName": {"Alice"}})
	addADUser(t, c, dn("bob", staff), "bob", "Secret-Pw2", nil)
	addADUser(t, c, dn("carol", staff), "carol", "", nil) // 546: disabled
	addADUser(t, c, dn("dave", elsewhere), "dave", "", nil)
	team := goldap.NewAddRequest(dn("team", staff), nil)
	team.Attribute("objectClass", []string{"group"})
	team.Attribute("member", []string{dn("alice", staff), dn("bob", staff), dn("carol", staff)})
	if err := c.Add(team); err != nil {
		t.Fatal(err)
	}

	cfg := Config{Connection: sambaConnection(dc), Dialect: ActiveDirectory, BaseDNs: []string{staff}, PageSize: 2,
		MemberRangeSize: 2} // three members come in two ranges
	d := open(t, cfg)
	users, _, watermark := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Attributes: []string{"sAMAccountName", "displayName"}})
	if len(users) != 3 {
		t.Fatalf("read %v, want alice, bob and carol", keys(users))
	}
	ids := map[string]string{}
	for _, cn := range []string{"alice", "bob", "carol"} {
		o := users[dn(cn, staff)]
		guid := searchOne(t, c, dn(cn, staff), "objectGUID").GetRawAttributeValue("objectGUID")
		want, _ := formatGUID(guid)
		if o.ID != want {
			t.Errorf("%s: ID %q, want its objectGUID %s", cn, o.ID, want)
		}
		if o.Disabled != (cn == "carol") {
			t.Errorf("%s: Disabled %v", cn, o.Disabled)
		}
		ids[cn] = o.ID
	}
	invocation := invocationID(t, c)
	if !regexp.MustCompile(`^` + invocation + `:[0-9]+$`).MatchString(watermark) {
		t.Fatalf("watermark %q does not name the DC's invocationId %s", watermark, invocation)
	}
	groups, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.Group})
	members := groups[dn("team", staff)].Members
	slices.Sort(members)
	want := []string{ids["alice"], ids["bob"], ids["carol"]}
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Fatalf("team members %v, want %v", members, want)
	}

	// A rename, a disable that keeps the other bits, a deletion in scope
	// and one out of it.
	if err := c.ModifyDN(goldap.NewModifyDNRequest(dn("alice", staff), "CN=Alice Smith", true, "")); err != nil {
		t.Fatal(err)
	}
	modify(t, c, dn("bob", staff), map[string][]string{"userAccountControl": {"514"}})
	for _, gone := range []string{dn("carol", staff), dn("dave", elsewhere)} {
		if err := c.Del(goldap.NewDelRequest(gone, nil)); err != nil {
			t.Fatal(err)
		}
	}
	changed, _, next := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: watermark})
	byID := map[string]connectors.Object{}
	for _, o := range changed {
		byID[o.ID] = o
	}
	if len(changed) != 3 {
		t.Fatalf("delta read %v, want alice renamed, bob disabled and carol deleted", keys(changed))
	}
	if a := byID[ids["alice"]]; a.Locator != dn("Alice Smith", staff) || a.Deleted {
		t.Errorf("alice: %+v", a)
	}
	if b := byID[ids["bob"]]; !b.Disabled {
		t.Errorf("bob not disabled: %+v", b)
	}
	if cr := byID[ids["carol"]]; !cr.Deleted {
		t.Errorf("carol not read as deleted: %+v", cr)
	}
	if next == watermark {
		t.Fatalf("watermark did not move from %s", watermark)
	}
	if again, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: next}); len(again) != 0 {
		t.Errorf("nothing changed, yet the delta read %v", keys(again))
	}

	// An account without the right to list Deleted Objects reads the
	// same delta, deletions aside (the engine finds those by absence).
	asBob := cfg
	asBob.BindDN, asBob.BindPassword = "bob@ad.example.org", secrets.Ref{File: filepath.Join(t.TempDir(), "pw")}
	if err := os.WriteFile(asBob.BindPassword.File, []byte("Secret-Pw2"), 0o600); err != nil {
		t.Fatal(err)
	}
	modify(t, c, dn("bob", staff), map[string][]string{"userAccountControl": {"512"}})
	unprivileged, _, _ := readAll(t, open(t, asBob), connectors.ReadRequest{Type: connectors.User, Since: watermark})
	if len(unprivileged) != 2 || unprivileged[dn("Alice Smith", staff)].ID != ids["alice"] || unprivileged[dn("bob", staff)].Disabled {
		t.Errorf("delta read as bob: %v, want alice renamed and bob enabled again", keys(unprivileged))
	}

	// A watermark from another DC, or one this DC has not reached (a
	// restore that kept its invocationId), is worth nothing here.
	_, usn := splitUSNWatermark(next)
	for _, foreign := range []string{"0f0e0d0c-0b0a-0908-0706-050403020100:" + usn, invocation + ":99999999", usn} {
		full, _, w := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: foreign})
		if len(full) != 2 || full[dn("Alice Smith", staff)].ID == "" || full[dn("bob", staff)].ID == "" {
			t.Errorf("since %s: read %v, want everything there is (alice, bob)", foreign, keys(full))
		}
		if dcOf, _ := splitUSNWatermark(w); dcOf != invocation {
			t.Errorf("since %s: next watermark %s", foreign, w)
		}
	}
}

func invocationID(t testing.TB, c *goldap.Conn) string {
	t.Helper()
	service := searchOne(t, c, "", "dsServiceName").GetAttributeValue("dsServiceName")
	id, err := formatGUID(searchOne(t, c, service, "invocationId").GetRawAttributeValue("invocationId"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}
