package ldap

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

func TestReadPaged(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	d := open(t, sourceConfig(s))
	if d.ChangeDetection() != connectors.Delta {
		t.Fatal("an LDAP source detects changes by delta")
	}

	objs, sizes, watermark := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Attributes: []string{"uid", "cn", "mail"}})
	if !reflect.DeepEqual(sizes, []int{2, 2, 2, 1}) {
		t.Fatalf("page sizes %v, want 2,2,2,1", sizes)
	}
	if len(objs) != 7 {
		t.Fatalf("%d objects, want 7", len(objs))
	}
	u3 := objs[userDN(3)]
	if u3.Invalid != "" || len(u3.ID) != 36 || u3.Disabled {
		t.Fatalf("u3 = %+v", u3)
	}
	if u3.Attributes["uid"] != "u3" || u3.Attributes["cn"] != "User 3" {
		t.Fatalf("single values: %v", u3.Attributes)
	}
	if !reflect.DeepEqual(u3.Attributes["mail"], []string{"u3@example.org", "u3@example.net"}) {
		t.Fatalf("multi-valued mail: %#v", u3.Attributes["mail"])
	}
	if _, ok := u3.Attributes["sn"]; ok {
		t.Fatal("sn was not asked for")
	}
	if watermark == "" {
		t.Fatal("a full read sets the watermark")
	}

	// With no attributes named, all user attributes are read.
	page, err := d.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 7 || page.Cursor != "" || page.Objects[0].Attributes["sn"] == nil {
		t.Fatalf("one page of everything: %d objects, cursor %q, %v", len(page.Objects), page.Cursor, page.Objects[0].Attributes)
	}
}

func TestReadMultiValuedAndAllBases(t *testing.T) {
	s := startWithUsers(t, 3, slapd.Options{})
	s.Modify(t, "dn: ou=staff,"+slapd.Base+"\nobjectClass: organizationalUnit\nou: staff\n\n"+
		"dn: uid=s1,ou=staff,"+slapd.Base+"\nobjectClass: inetOrgPerson\nuid: s1\ncn: Staff\nsn: One\n")
	cfg := sourceConfig(s)
	cfg.BaseDNs = []string{slapd.People, "ou=staff," + slapd.Base}
	cfg.MultiValued = []string{"CN"}
	d := open(t, cfg)
	objs, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Attributes: []string{"cn"}})
	if len(objs) != 4 {
		t.Fatalf("%d objects over two bases, want 4", len(objs))
	}
	if got := objs["uid=s1,ou=staff,"+slapd.Base].Attributes["cn"]; !reflect.DeepEqual(got, []string{"Staff"}) {
		t.Fatalf("cn is configured multi-valued: %#v", got)
	}
}

// A cursor from another process (no live connection) re-runs the search and
// skips what was returned; an old cursor retried does the same.
func TestReadResumesWithoutLiveConnection(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	first := open(t, sourceConfig(s))
	req := connectors.ReadRequest{Type: connectors.User, Attributes: []string{"uid"}}
	p1, err := first.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Cursor = p1.Cursor
	p2, err := first.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}

	// A retry of page 2 (its cursor is no longer the latest) on the same
	// Directory, then the rest in a fresh Directory.
	again, err := first.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if locators(again.Objects) != locators(p2.Objects) {
		t.Fatalf("retried page %s, first time %s", locators(again.Objects), locators(p2.Objects))
	}
	second := open(t, sourceConfig(s))
	rest, _, _ := readAll(t, second, connectors.ReadRequest{Type: connectors.User, Attributes: []string{"uid"}, Cursor: again.Cursor})
	seen := locators(p1.Objects) + locators(p2.Objects)
	for dn := range rest {
		if strings.Contains(seen, dn) {
			t.Fatalf("%s returned again", dn)
		}
	}
	if len(rest) != 3 {
		t.Fatalf("rest has %d objects, want 3", len(rest))
	}
}

// When the anchor entry is gone, the base is read again from its start:
// objects may come twice, none may be missed.
func TestReadResumeAfterAnchorDeleted(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	d := open(t, sourceConfig(s))
	req := connectors.ReadRequest{Type: connectors.User, Attributes: []string{"uid"}}
	p1, err := d.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	anchor := p1.Objects[len(p1.Objects)-1].Locator
	s.Modify(t, "dn: "+anchor+"\nchangetype: delete\n")

	fresh := open(t, sourceConfig(s))
	got := map[string]bool{}
	for _, o := range p1.Objects {
		got[o.Locator] = true
	}
	req.Cursor = p1.Cursor
	for {
		page, err := fresh.Read(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			got[o.Locator] = true
		}
		if page.Cursor == "" {
			break
		}
		req.Cursor = page.Cursor
	}
	for i := 1; i <= 7; i++ {
		if !got[userDN(i)] {
			t.Errorf("%s missed", userDN(i))
		}
	}
}

func locators(objs []connectors.Object) string {
	var l []string
	for _, o := range objs {
		l = append(l, o.Locator)
	}
	return strings.Join(l, ";")
}

func TestGroupMembers(t *testing.T) {
	s := startWithUsers(t, 3, slapd.Options{})
	s.Modify(t, "dn: cn=staff,"+slapd.Groups+"\nobjectClass: groupOfNames\ncn: staff\n"+
		"member: "+userDN(1)+"\nmember: "+strings.ToUpper(userDN(2))+"\nmember: uid=gone,"+slapd.People+"\nmember:\n\n"+
		"dn: cn=all,"+slapd.Groups+"\nobjectClass: groupOfNames\ncn: all\nmember: cn=staff,"+slapd.Groups+"\nmember: "+userDN(3)+"\n")
	cfg := sourceConfig(s)
	users := open(t, cfg)
	ids := map[string]string{}
	objs, _, _ := readAll(t, users, connectors.ReadRequest{Type: connectors.User})
	for dn, o := range objs {
		ids[dn] = o.ID
	}

	cfg.BaseDNs = []string{slapd.Groups}
	groups, _, _ := readAll(t, open(t, cfg), connectors.ReadRequest{Type: connectors.Group, Attributes: []string{"cn"}})
	staff, all := groups["cn=staff,"+slapd.Groups], groups["cn=all,"+slapd.Groups]
	if want := []string{ids[userDN(1)], ids[userDN(2)]}; !reflect.DeepEqual(staff.Members, want) {
		t.Fatalf("staff members %v, want %v (the dangling and empty DNs left out)", staff.Members, want)
	}
	if _, ok := staff.Attributes["member"]; ok {
		t.Fatal("member DNs belong in Members, not Attributes")
	}
	if len(all.Members) != 2 || all.Members[0] != staff.ID || all.Members[1] != ids[userDN(3)] {
		t.Fatalf("nested group members %v", all.Members)
	}
}

// Manager DNs are read as the managers' IDs, whatever the DN's case; a
// manager that is not there clears the reference; an attribute that is not
// a reference attribute keeps its DN.
func TestReferenceAttributesReadAsIDs(t *testing.T) {
	s := startWithUsers(t, 4, slapd.Options{})
	s.Modify(t, "dn: "+userDN(2)+"\nchangetype: modify\nadd: manager\nmanager: "+userDN(1)+"\n\n"+
		"dn: "+userDN(3)+"\nchangetype: modify\nadd: manager\nmanager: "+strings.ToUpper(userDN(1))+"\n-\nadd: seeAlso\nseeAlso: "+userDN(1)+"\n\n"+
		"dn: "+userDN(4)+"\nchangetype: modify\nadd: manager\nmanager: uid=gone,"+slapd.People+"\n")
	req := connectors.ReadRequest{Type: connectors.User, Attributes: []string{"uid", "manager", "seeAlso"}}
	objs, _, _ := readAll(t, open(t, sourceConfig(s)), req)
	boss := objs[userDN(1)].ID
	if got := objs[userDN(2)].Attributes["manager"]; got != boss {
		t.Fatalf("u2 manager %v, want the ID %s", got, boss)
	}
	if got := objs[userDN(3)].Attributes["manager"]; got != boss {
		t.Fatalf("u3 manager %v (upper-case DN), want %s", got, boss)
	}
	if got, ok := objs[userDN(4)].Attributes["manager"]; !ok || got != nil {
		t.Fatalf("u4's manager is not there: want a cleared reference, got %v (present %v)", got, ok)
	}
	if got := objs[userDN(3)].Attributes["seeAlso"]; got != userDN(1) {
		t.Fatalf("seeAlso %v: not a reference attribute, the DN stays", got)
	}

	cfg := sourceConfig(s)
	cfg.ReferenceAttributes = []string{}
	objs, _, _ = readAll(t, open(t, cfg), req)
	if got := objs[userDN(2)].Attributes["manager"]; got != userDN(1) {
		t.Fatalf("with no reference attributes the DN stays: %v", got)
	}
}

// An entry without the ID attribute fails alone, with its DN.
func TestMalformedEntryFailsAlone(t *testing.T) {
	s := startWithUsers(t, 3, slapd.Options{})
	s.Modify(t, "dn: "+userDN(1)+"\nchangetype: modify\nadd: employeeNumber\nemployeeNumber: 1\n\n"+
		"dn: "+userDN(3)+"\nchangetype: modify\nadd: employeeNumber\nemployeeNumber: 3\n")
	cfg := sourceConfig(s)
	cfg.IDAttribute = "employeeNumber"
	objs, _, _ := readAll(t, open(t, cfg), connectors.ReadRequest{Type: connectors.User})
	if len(objs) != 3 {
		t.Fatalf("%d objects, want 3", len(objs))
	}
	bad := objs[userDN(2)]
	if bad.Invalid == "" || !strings.Contains(bad.Invalid, userDN(2)) || !strings.Contains(bad.Invalid, "employeeNumber") {
		t.Fatalf("u2 should be invalid with its DN: %+v", bad)
	}
	if objs[userDN(1)].Invalid != "" || objs[userDN(1)].ID != "1" || objs[userDN(3)].ID != "3" {
		t.Fatalf("the others are fine: %+v %+v", objs[userDN(1)], objs[userDN(3)])
	}
}

func TestListIDsAfterDelete(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	d := open(t, sourceConfig(s))
	list := func() []string {
		var ids []string
		if err := d.ListIDs(context.Background(), connectors.User, func(id string) error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids
	}
	objs, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User})
	before := list()
	if len(before) != 7 {
		t.Fatalf("%d IDs, want 7", len(before))
	}
	s.Modify(t, "dn: "+userDN(4)+"\nchangetype: delete\n")
	after := list()
	gone := objs[userDN(4)].ID
	if len(after) != 6 || slices.Contains(after, gone) {
		t.Fatalf("after deleting u4 (%s): %v", gone, after)
	}
}

func TestWriteback(t *testing.T) {
	s := startWithUsers(t, 2, slapd.Options{})
	d := open(t, sourceConfig(s))
	objs, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User})
	id := objs[userDN(1)].ID
	err := d.Write(context.Background(), connectors.User, id, connectors.Attributes{
		"mail": "first.last@example.com", "displayName": "First Last", "description": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Conn(t)
	e := searchOne(t, c, userDN(1), "mail", "displayName")
	if e.GetAttributeValue("displayName") != "First Last" || !reflect.DeepEqual(e.GetAttributeValues("mail"), []string{"first.last@example.com"}) {
		t.Fatalf("entry after writeback: %v %v", e.GetAttributeValues("mail"), e.GetAttributeValue("displayName"))
	}
	err = d.Write(context.Background(), connectors.User, "00000000-0000-0000-0000-000000000000", connectors.Attributes{"mail": "x@y"})
	if !strings.Contains(err.Error(), "NotFound") || connectors.KindOf(err) != connectors.KindNotFound {
		t.Fatalf("writeback to a missing entry: %v", err)
	}
}

// Writeback to an ID that several entries share (a configured ID attribute
// that is not unique) is refused as a conflict, not written to a guess.
func TestWritebackRefusesAmbiguousID(t *testing.T) {
	for _, n := range []int{2, 3} {
		s := startWithUsers(t, n, slapd.Options{})
		var ldif strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&ldif, "dn: %s\nchangetype: modify\nadd: employeeNumber\nemployeeNumber: 7\n\n", userDN(i))
		}
		s.Modify(t, ldif.String())
		cfg := sourceConfig(s)
		cfg.IDAttribute = "employeeNumber"
		err := open(t, cfg).Write(context.Background(), connectors.User, "7", connectors.Attributes{"mail": "x@example.com"})
		if ce := wantKind(t, err, connectors.KindConflict); !strings.Contains(ce.Detail, "more than one entry") {
			t.Fatalf("%d entries with one ID: %v", n, err)
		}
	}
}

// A directory restart (or an idle time-out) between pages closes the read's
// connection and the shared one: the read searches again from its cursor
// and writes dial again, with no error for the caller.
func TestReadSurvivesLostConnections(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	d := open(t, sourceConfig(s))
	req := connectors.ReadRequest{Type: connectors.User}
	p1, err := d.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(context.Background(), connectors.User, p1.Objects[0].ID, connectors.Attributes{"title": "before"}); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)

	req.Cursor = p1.Cursor
	rest, _, _ := readAll(t, d, req)
	for _, o := range p1.Objects {
		if _, dup := rest[o.Locator]; dup {
			t.Fatalf("%s returned again", o.Locator)
		}
	}
	if len(rest)+len(p1.Objects) != 7 {
		t.Fatalf("%d + %d objects, want 7", len(p1.Objects), len(rest))
	}
	if err := d.Write(context.Background(), connectors.User, p1.Objects[0].ID, connectors.Attributes{"title": "after"}); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
}

// A directory that forgets a paging cookie (AD drops result sets beyond
// its per-connection limit) fails the continued search; the read searches
// again from its cursor instead of failing.
func TestReadSurvivesForgottenCookie(t *testing.T) {
	s := startWithUsers(t, 7, slapd.Options{})
	d := open(t, sourceConfig(s))
	req := connectors.ReadRequest{Type: connectors.User}
	p1, err := d.Read(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Another paged search on the read's connection replaces the server's
	// paging state for that connection, so the read's cookie is void.
	cur, _ := decodeCursor(p1.Cursor)
	lr := d.reads[cur.Session]
	other := newPager(lr.conn, slapd.Base, "(objectClass=organizationalUnit)", []string{"ou"}, 1)
	if _, err := other.next(context.Background()); err != nil {
		t.Fatal(err)
	}

	req.Cursor = p1.Cursor
	rest, _, _ := readAll(t, d, req)
	for _, o := range p1.Objects {
		if _, dup := rest[o.Locator]; dup {
			t.Fatalf("%s returned again", o.Locator)
		}
	}
	if len(rest)+len(p1.Objects) != 7 {
		t.Fatalf("%d + %d objects, want 7", len(p1.Objects), len(rest))
	}
}
