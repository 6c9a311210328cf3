package ldap

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

// getEachAsRead checks that Get returns every object a Read of the type
// returns, under its ID.
func getEachAsRead(t *testing.T, d *Directory, typ connectors.ObjectType, attributes []string) map[string]connectors.Object {
	t.Helper()
	objs, _, _ := readAll(t, d, connectors.ReadRequest{Type: typ, Attributes: attributes})
	if len(objs) == 0 {
		t.Fatalf("no %s to get", typ)
	}
	for dn, want := range objs {
		got, err := d.Get(context.Background(), typ, want.ID, attributes)
		if err != nil {
			t.Fatalf("Get %s (%s): %v", want.ID, dn, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get %s:\n%#v\nRead returned\n%#v", dn, got, want)
		}
	}
	return objs
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	wantKind(t, err, connectors.KindNotFound)
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("errors.Is(%v, ErrNotFound) is false", err)
	}
}

func TestGet(t *testing.T) {
	s := startWithUsers(t, 4, slapd.Options{})
	s.Modify(t, "dn: "+userDN(2)+"\nchangetype: modify\nadd: manager\nmanager: "+userDN(1)+"\n-\nadd: employeeType\nemployeeType: 2\n\n"+
		"dn: "+userDN(3)+"\nchangetype: modify\nadd: employeeType\nemployeeType: contractor\n\n"+
		"dn: cn=staff,"+slapd.Groups+"\nobjectClass: groupOfNames\ncn: staff\n"+
		"member: "+userDN(1)+"\nmember: "+strings.ToUpper(userDN(2))+"\nmember: uid=gone,"+slapd.People+"\n\n"+
		"dn: cn=all,"+slapd.Groups+"\nobjectClass: groupOfNames\ncn: all\nmember: cn=staff,"+slapd.Groups+"\nmember: "+userDN(3)+"\n")
	cfg := sourceConfig(s)
	cfg.BaseDNs = []string{slapd.People, slapd.Groups}
	cfg.DisabledAttribute, cfg.DisabledMask = "employeeType", 2
	d := open(t, cfg)

	users := getEachAsRead(t, d, connectors.User, nil)
	getEachAsRead(t, d, connectors.User, []string{"uid", "manager"})
	groups := getEachAsRead(t, d, connectors.Group, []string{"cn"})
	getEachAsRead(t, d, connectors.Group, nil)

	x := context.Background()
	u2, err := d.Get(x, connectors.User, users[userDN(2)].ID, []string{"uid", "manager"})
	if err != nil {
		t.Fatal(err)
	}
	if u2.Locator != userDN(2) || !u2.Disabled || u2.Attributes["uid"] != "u2" || u2.Attributes["manager"] != users[userDN(1)].ID {
		t.Fatalf("u2 = %+v; want it disabled, with its manager's ID", u2)
	}
	if _, ok := u2.Attributes["cn"]; ok {
		t.Fatal("cn was not asked for")
	}
	u3, err := d.Get(x, connectors.User, users[userDN(3)].ID, nil)
	if err != nil || !strings.Contains(u3.Invalid, `employeeType "contractor" is not an integer`) || u3.ID != users[userDN(3)].ID {
		t.Fatalf("a malformed entry: %+v, %v; want it invalid, with its ID", u3, err)
	}
	staff, err := d.Get(x, connectors.Group, groups["cn=staff,"+slapd.Groups].ID, []string{"cn"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{users[userDN(1)].ID, users[userDN(2)].ID}; !reflect.DeepEqual(staff.Members, want) || staff.Attributes["cn"] != "staff" {
		t.Fatalf("staff = %+v; want members %v (the dangling DN left out)", staff, want)
	}
	all, err := d.Get(x, connectors.Group, groups["cn=all,"+slapd.Groups].ID, nil)
	if err != nil || !reflect.DeepEqual(all.Members, []string{staff.ID, users[userDN(3)].ID}) {
		t.Fatalf("a group with a group among its members: %+v, %v", all, err)
	}

	// A user's ID is not a group's; an ID must not be read as a filter.
	for _, tt := range []struct {
		typ connectors.ObjectType
		id  string
	}{
		{connectors.Group, users[userDN(1)].ID},
		{connectors.User, staff.ID},
		{connectors.User, "00000000-0000-0000-0000-000000000000"},
		{connectors.User, "*"},
		{connectors.User, "*)(uid=u1"},
		{connectors.User, ""},
	} {
		_, err := d.Get(x, tt.typ, tt.id, nil)
		wantNotFound(t, err)
	}
	if _, err := d.Get(x, "Device", users[userDN(1)].ID, nil); connectors.KindOf(err) != connectors.KindInvalidRequest {
		t.Fatalf("an unknown object type: %v", err)
	}
}

// A base DN that is not there is not a missing object; a directory that
// cannot be reached fails as a read does.
func TestGetFailures(t *testing.T) {
	s := startWithUsers(t, 1, slapd.Options{})
	cfg := sourceConfig(s)
	cfg.BaseDNs = []string{"ou=gone," + slapd.Base, slapd.People}
	d := open(t, cfg)
	_, err := d.Get(context.Background(), connectors.User, "00000000-0000-0000-0000-000000000000", nil)
	if ce := wantKind(t, err, connectors.KindInvalidRequest); !strings.Contains(ce.Detail, "base DN") {
		t.Fatalf("a missing base DN: %v", err)
	}

	d = open(t, sourceConfig(s))
	users, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User})
	s.Stop()
	_, err = d.Get(context.Background(), connectors.User, users[userDN(1)].ID, nil)
	wantKind(t, err, connectors.KindUnavailable)
	_, err = d.Read(context.Background(), connectors.ReadRequest{Type: connectors.User})
	wantKind(t, err, connectors.KindUnavailable)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Get(cancelled, connectors.User, users[userDN(1)].ID, nil); err != context.Canceled {
		t.Fatalf("a cancelled Get: %v", err)
	}
}

// AD's binary objectGUID is found by its bytes, escaped (ad0's GUID begins
// with a zero byte); a string that is not a GUID matches nothing.
func TestGetActiveDirectory(t *testing.T) {
	s := slapd.Start(t, slapd.Options{Schemas: []string{slapd.ADSchema}, Preload: strings.NewReader(adLDIF())})
	cfg := sourceConfig(s)
	cfg.Dialect = ActiveDirectory
	cfg.UserFilter = "(objectClass=adAccount)" // AD's objectCategory is not in the test schema
	d := open(t, cfg)
	getEachAsRead(t, d, connectors.User, []string{"sAMAccountName", "objectGUID"})
	ad1, err := d.Get(context.Background(), connectors.User, "11223301-4455-6677-8899-aabbccddeeff", nil)
	if err != nil || ad1.Locator != "uid=ad1,"+slapd.People || !ad1.Disabled || ad1.Attributes["sAMAccountName"] != "ad1" {
		t.Fatalf("ad1 = %+v, %v", ad1, err)
	}
	for _, id := range []string{"11223309-4455-6677-8899-aabbccddeeff", "ad1", "*"} {
		_, err := d.Get(context.Background(), connectors.User, id, nil)
		wantNotFound(t, err)
	}
}
