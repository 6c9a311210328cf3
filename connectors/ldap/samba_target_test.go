package ldap

import (
	"context"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/samba"
)

// TestActiveDirectoryTargetOnSamba provisions into a real domain
// controller: users created enabled with an initial password in the OU a
// mapped attribute names, moved when it changes, disabled and enabled by
// the ACCOUNTDISABLE bit alone, a manager written as a DN, and group
// members added and removed.
func TestActiveDirectoryTargetOnSamba(t *testing.T) {
	dc := samba.Start(t)
	people := "OU=People," + samba.Base
	sales, engineering, groups := "OU=Sales,"+people, "OU=Engineering,"+people, "OU=Groups,"+samba.Base
	dc.AddOU(t, people, sales, engineering, groups)
	c := dc.Conn(t)
	cfg := TargetConfig{
		Connection: sambaConnection(dc),
		Dialect:    ActiveDirectory,
		Users:      ObjectConfig{Container: people, DNTemplate: "CN={cn}", ParentAttribute: "parentDistinguishedName", EnableValue: "512"},
		Groups:     ObjectConfig{Container: groups, DNTemplate: "CN={cn}"},
	}
	tg, err := cfg.Open(context.Background(), testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	ctx := context.Background()

	aliceID, err := tg.Create(ctx, connectors.User, connectors.Attributes{
		"cn": "alice", "sAMAccountName": "alice", "userPrincipalName": "alice@ad.example.org", "sn": "Liddell",
		"parentDistinguishedName": sales, "unicodePwd": "Initial-Pass-4711",
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := searchOne(t, c, "CN=alice,"+sales, "userAccountControl", "objectGUID")
	if guid, _ := formatGUID(alice.GetRawAttributeValue("objectGUID")); guid != aliceID {
		t.Fatalf("Create returned %q, the entry's objectGUID is %s", aliceID, guid)
	}
	if uac := alice.GetAttributeValue("userAccountControl"); uac != "512" {
		t.Fatalf("new account's userAccountControl %s, want 512 (enabled)", uac)
	}
	if err := dc.BindAs("alice@ad.example.org", "Initial-Pass-4711"); err != nil {
		t.Fatalf("alice signs in with her initial password: %v", err)
	}

	// Disabling and enabling flip bit 2 alone: DONT_EXPIRE_PASSWORD stays.
	modify(t, c, "CN=alice,"+sales, map[string][]string{"userAccountControl": {"66048"}})
	for _, step := range []struct {
		active bool
		want   string
	}{{false, "66050"}, {false, "66050"}, {true, "66048"}} {
		if err := tg.SetActive(ctx, connectors.User, aliceID, step.active); err != nil {
			t.Fatal(err)
		}
		if got := searchOne(t, c, "CN=alice,"+sales, "userAccountControl").GetAttributeValue("userAccountControl"); got != step.want {
			t.Fatalf("after SetActive(%v): userAccountControl %s, want %s", step.active, got, step.want)
		}
		obj, err := tg.Get(ctx, connectors.User, aliceID)
		if err != nil || obj.Active != step.active {
			t.Fatalf("Get: active %v (%v), want %v", obj.Active, err, step.active)
		}
	}

	// A new OU moves the account; other changes go with the move.
	if err := tg.Update(ctx, connectors.User, aliceID, []connectors.Change{
		{Attribute: "parentDistinguishedName", Old: sales, New: engineering}, {Attribute: "sn", Old: "Liddell", New: "Smith"},
	}); err != nil {
		t.Fatal(err)
	}
	if sn := searchOne(t, c, "CN=alice,"+engineering, "sn").GetAttributeValue("sn"); sn != "Smith" {
		t.Fatalf("sn after the move %q", sn)
	}
	obj, err := tg.Get(ctx, connectors.User, aliceID)
	if err != nil || !sameDN(obj.Attributes["parentDistinguishedName"].(string), engineering) {
		t.Fatalf("Get after the move: %v %v", obj.Attributes["parentDistinguishedName"], err)
	}
	// An OU outside the container would lose the account to the job.
	err = tg.Update(ctx, connectors.User, aliceID, []connectors.Change{{Attribute: "parentDistinguishedName", New: "OU=Elsewhere,DC=other"}})
	wantKind(t, err, connectors.KindInvalidRequest)

	// A manager is written as the DN of the entry with that ID.
	carolID, err := tg.Create(ctx, connectors.User, connectors.Attributes{
		"cn": "carol", "sAMAccountName": "carol", "parentDistinguishedName": sales, "unicodePwd": "Initial-Pass-0815", "manager": aliceID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := searchOne(t, c, "CN=carol,"+sales, "manager").GetAttributeValue("manager"); !sameDN(m, "CN=alice,"+engineering) {
		t.Fatalf("carol's manager %q", m)
	}

	teamID, err := tg.Create(ctx, connectors.Group, connectors.Attributes{"cn": "team", "sAMAccountName": "team"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.AddMembers(ctx, teamID, []string{aliceID, carolID}); err != nil {
		t.Fatal(err)
	}
	if err := tg.RemoveMembers(ctx, teamID, []string{carolID}); err != nil {
		t.Fatal(err)
	}
	if m := searchOne(t, c, "CN=team,"+groups, "member").GetAttributeValues("member"); len(m) != 1 || !sameDN(m[0], "CN=alice,"+engineering) {
		t.Fatalf("team members %v, want alice", m)
	}

	if err := tg.Delete(ctx, connectors.User, carolID); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Get(ctx, connectors.User, carolID); connectors.KindOf(err) != connectors.KindNotFound {
		t.Fatalf("Get after Delete: %v", err)
	}
}
