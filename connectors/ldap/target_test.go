package ldap

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/secrets"
)

const (
	staff       = "ou=staff," + slapd.People
	contractors = "ou=contractors," + slapd.People
)

func openTarget(t *testing.T) (*Target, *slapd.Server) {
	t.Helper()
	s := slapd.Start(t, slapd.Options{Preload: strings.NewReader(
		"dn: " + staff + "\nobjectClass: organizationalUnit\nou: staff\n\n" +
			"dn: " + contractors + "\nobjectClass: organizationalUnit\nou: contractors\n\n")})
	cfg := TargetConfig{
		Connection: Connection{URL: s.URL, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: s.RootPWFile}},
		Users: ObjectConfig{
			Container:     slapd.People,
			DNTemplate:    "uid={uid},ou={ou}",
			ObjectClasses: []string{"inetOrgPerson"},
			// Enabled accounts carry no employeeType: EnableValue is empty.
			DisableAttribute: "employeeType",
			DisableValue:     "disabled",
		},
		Groups: ObjectConfig{Container: slapd.Groups, DNTemplate: "cn={cn}", ObjectClasses: []string{"groupOfNames"}},
	}
	tg, err := cfg.Open(context.Background(), testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg, s
}

func TestTargetUserLifecycle(t *testing.T) {
	tg, s := openTarget(t)
	ctx := context.Background()
	id, err := tg.Create(ctx, connectors.User, connectors.Attributes{
		"uid": "jdoe", "ou": "staff", "cn": "Jane (Doe)*", "sn": "Doe", "mail": []string{"jane@example.org", "jd@example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 36 {
		t.Fatalf("Create returned %q, want an entryUUID", id)
	}
	searchOne(t, s.Conn(t), "uid=jdoe,"+staff)

	// Find escapes filter syntax: the value matches itself only.
	found, err := tg.Find(ctx, connectors.User, "cn", "Jane (Doe)*")
	if err != nil || len(found) != 1 || found[0].ID != id || !found[0].Active {
		t.Fatalf("Find by cn: %+v %v", found, err)
	}
	if found, err := tg.Find(ctx, connectors.User, "cn", "*"); err != nil || len(found) != 0 {
		t.Fatalf("a * value is not a wildcard: %+v %v", found, err)
	}
	if _, err := tg.Find(ctx, connectors.User, "cn=*)(uid", "x"); connectors.KindOf(err) != connectors.KindInvalidRequest {
		t.Fatalf("a filter in the attribute name must be refused: %v", err)
	}

	got, err := tg.Get(ctx, connectors.User, id)
	if err != nil || got.Attributes["sn"] != "Doe" || !reflect.DeepEqual(got.Attributes["mail"], []string{"jane@example.org", "jd@example.org"}) {
		t.Fatalf("Get: %+v %v", got, err)
	}

	// Plain update: replace one value, clear another.
	if err := tg.Update(ctx, connectors.User, id, []connectors.Change{
		{Attribute: "sn", Old: "Doe", New: "Roe"}, {Attribute: "mail", New: nil},
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = tg.Get(ctx, connectors.User, id)
	if got.Attributes["sn"] != "Roe" || got.Attributes["mail"] != nil {
		t.Fatalf("after update: %v", got.Attributes)
	}

	// A change to a DN template attribute moves and renames the entry.
	if err := tg.Update(ctx, connectors.User, id, []connectors.Change{
		{Attribute: "ou", Old: "staff", New: "contractors"}, {Attribute: "uid", Old: "jdoe", New: "jroe"},
	}); err != nil {
		t.Fatal(err)
	}
	e := searchOne(t, s.Conn(t), "uid=jroe,"+contractors, "uid", "ou", "entryUUID")
	if e.GetAttributeValue("entryUUID") != id || !reflect.DeepEqual(e.GetAttributeValues("uid"), []string{"jroe"}) {
		t.Fatalf("moved entry: %v %v", e.GetAttributeValue("entryUUID"), e.GetAttributeValues("uid"))
	}

	if err := tg.SetActive(ctx, connectors.User, id, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := tg.Get(ctx, connectors.User, id); got.Active || got.Attributes["employeeType"] != "disabled" {
		t.Fatalf("after disable: %+v", got)
	}
	if err := tg.SetActive(ctx, connectors.User, id, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := tg.Get(ctx, connectors.User, id); !got.Active || got.Attributes["employeeType"] != nil {
		t.Fatalf("after enable: %+v", got)
	}

	if err := tg.Delete(ctx, connectors.User, id); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Get(ctx, connectors.User, id); !errors.Is(err, connectors.ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := tg.Delete(ctx, connectors.User, id); err != nil {
		t.Fatalf("deleting an absent entry: %v", err)
	}
}

// An entry that existed before (matched, not created) keeps its DN when
// attributes outside the DN template change.
func TestTargetUpdateKeepsForeignDN(t *testing.T) {
	tg, s := openTarget(t)
	s.Modify(t, "dn: uid=legacy,"+slapd.People+"\nobjectClass: inetOrgPerson\nuid: legacy\nou: staff\ncn: Legacy\nsn: Old\n")
	found, err := tg.Find(context.Background(), connectors.User, "uid", "legacy")
	if err != nil || len(found) != 1 {
		t.Fatalf("Find: %v %v", found, err)
	}
	if err := tg.Update(context.Background(), connectors.User, found[0].ID, []connectors.Change{{Attribute: "sn", New: "New"}}); err != nil {
		t.Fatal(err)
	}
	if sn := searchOne(t, s.Conn(t), "uid=legacy,"+slapd.People, "sn").GetAttributeValue("sn"); sn != "New" {
		t.Fatalf("sn %q", sn)
	}
}

func TestTargetErrors(t *testing.T) {
	tg, _ := openTarget(t)
	ctx := context.Background()
	attrs := connectors.Attributes{"uid": "dup", "ou": "staff", "cn": "Dup", "sn": "Dup"}
	if _, err := tg.Create(ctx, connectors.User, attrs); err != nil {
		t.Fatal(err)
	}
	_, err := tg.Create(ctx, connectors.User, attrs)
	wantKind(t, err, connectors.KindConflict)

	_, err = tg.Create(ctx, connectors.User, connectors.Attributes{"uid": "nosn", "ou": "staff", "cn": "No Surname"})
	if ce := wantKind(t, err, connectors.KindInvalidRequest); ce.Status != 65 {
		t.Fatalf("missing sn: want objectClassViolation (65), got %v", err)
	}
	_, err = tg.Create(ctx, connectors.User, connectors.Attributes{"cn": "No uid", "sn": "x"})
	if ce := wantKind(t, err, connectors.KindInvalidRequest); !strings.Contains(ce.Detail, "uid") {
		t.Fatalf("the error should name the DN attribute: %v", err)
	}
	err = tg.Update(ctx, connectors.User, "00000000-0000-0000-0000-000000000000", []connectors.Change{{Attribute: "sn", New: "x"}})
	wantKind(t, err, connectors.KindNotFound)
}

// A manager is written by target ID and stored as the manager's DN.
func TestTargetReferencesWrittenAsDNs(t *testing.T) {
	tg, s := openTarget(t)
	ctx := context.Background()
	person := func(uid string, extra connectors.Attributes) string {
		attrs := connectors.Attributes{"uid": uid, "ou": "staff", "cn": uid, "sn": uid}
		for k, v := range extra {
			attrs[k] = v
		}
		id, err := tg.Create(ctx, connectors.User, attrs)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	boss := person("boss", nil)
	other := person("other", nil)
	report := person("report", connectors.Attributes{"manager": boss})
	manager := func() string {
		return searchOne(t, s.Conn(t), "uid=report,"+staff, "manager").GetAttributeValue("manager")
	}
	if got := manager(); !strings.EqualFold(got, "uid=boss,"+staff) {
		t.Fatalf("manager %q, want the boss's DN", got)
	}
	if err := tg.Update(ctx, connectors.User, report, []connectors.Change{{Attribute: "manager", Old: boss, New: other}}); err != nil {
		t.Fatal(err)
	}
	if got := manager(); !strings.EqualFold(got, "uid=other,"+staff) {
		t.Fatalf("manager %q after the change, want the other's DN", got)
	}
	if err := tg.Update(ctx, connectors.User, report, []connectors.Change{{Attribute: "manager", Old: other}}); err != nil {
		t.Fatal(err)
	}
	if got := manager(); got != "" {
		t.Fatalf("manager %q, want it cleared", got)
	}
	err := tg.Update(ctx, connectors.User, report, []connectors.Change{{Attribute: "manager", New: "00000000-0000-0000-0000-000000000000"}})
	if ce := wantKind(t, err, connectors.KindInvalidRequest); !strings.Contains(ce.Detail, "manager") {
		t.Fatalf("an unknown manager names the attribute: %v", err)
	}
}

func TestTargetGroupMembership(t *testing.T) {
	tg, s := openTarget(t)
	ctx := context.Background()
	var users []string
	for _, uid := range []string{"a", "b"} {
		id, err := tg.Create(ctx, connectors.User, connectors.Attributes{"uid": uid, "ou": "staff", "cn": uid, "sn": uid})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, id)
	}
	group, err := tg.Create(ctx, connectors.Group, connectors.Attributes{"cn": "team"})
	if err != nil {
		t.Fatal(err)
	}
	members := func() []string {
		return searchOne(t, s.Conn(t), "cn=team,"+slapd.Groups, "member").GetAttributeValues("member")
	}
	if got := members(); !reflect.DeepEqual(got, []string{""}) {
		t.Fatalf("a new groupOfNames holds the empty placeholder, got %q", got)
	}

	if err := tg.AddMembers(ctx, group, users); err != nil {
		t.Fatal(err)
	}
	if err := tg.AddMembers(ctx, group, users[:1]); err != nil {
		t.Fatalf("adding a member twice: %v", err)
	}
	want := []string{"uid=a," + staff, "uid=b," + staff}
	if got := members(); !reflect.DeepEqual(got, want) {
		t.Fatalf("members %q, want %q", got, want)
	}

	if err := tg.RemoveMembers(ctx, group, users[:1]); err != nil {
		t.Fatal(err)
	}
	if err := tg.RemoveMembers(ctx, group, users); err != nil {
		t.Fatalf("removing the last member and one already gone: %v", err)
	}
	if got := members(); !reflect.DeepEqual(got, []string{""}) {
		t.Fatalf("an emptied group holds the placeholder again, got %q", got)
	}

	err = tg.AddMembers(ctx, group, []string{users[0], "00000000-0000-0000-0000-000000000000"})
	wantKind(t, err, connectors.KindNotFound)
	if got := members(); !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("the existing member is added all the same, got %q", got)
	}
}
