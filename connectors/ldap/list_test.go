package ldap

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// List reads every entry of the type under its container, across pages,
// as Find reads it.
func TestTargetList(t *testing.T) {
	tg, _ := openTarget(t)
	ctx := context.Background()
	ids := map[string]bool{}
	for i := range defaultPageSize + 3 {
		id, err := tg.Create(ctx, connectors.User, connectors.Attributes{"uid": fmt.Sprintf("u%d", i), "ou": "staff", "cn": "User", "sn": fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if _, err := tg.Create(ctx, connectors.Group, connectors.Attributes{"cn": "staff"}); err != nil {
		t.Fatal(err)
	}
	listed := map[string]connectors.TargetObject{}
	err := tg.List(ctx, connectors.User, func(o connectors.TargetObject) error {
		if _, dup := listed[o.ID]; dup {
			t.Fatalf("%s listed twice", o.ID)
		}
		listed[o.ID] = o
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(ids) {
		t.Fatalf("listed %d users, want %d", len(listed), len(ids))
	}
	found, err := tg.Find(ctx, connectors.User, "uid", "u7")
	if err != nil || len(found) != 1 {
		t.Fatalf("Find: %v %v", found, err)
	}
	if !reflect.DeepEqual(listed[found[0].ID], found[0]) {
		t.Fatalf("listed %v, found %v", listed[found[0].ID], found[0])
	}
}
