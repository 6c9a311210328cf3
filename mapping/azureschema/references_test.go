package azureschema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/mapping/azureschema"
)

// A gallery application's export maps the manager, which its directory
// schema marks as a reference to User, and a group's members, which the
// job keeps in step without a mapping.
func TestImportReferencesAndMembers(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "testenv", "graphapi", "testdata", "gallery-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	oms, err := azureschema.Import(b)
	if err != nil {
		t.Fatal(err)
	}
	find := func(om mapping.ObjectMapping, target string) *mapping.AttributeMapping {
		for i := range om.Attributes {
			if om.Attributes[i].Target == target {
				return &om.Attributes[i]
			}
		}
		return nil
	}
	manager := find(oms[0], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
	if manager == nil || manager.Reference != "User" {
		t.Errorf("manager mapping = %+v, want a reference to User", manager)
	}
	if dn := find(oms[0], "displayName"); dn == nil || dn.Reference != "" {
		t.Errorf("displayName mapping = %+v, want no reference", dn)
	}
	if m := find(oms[1], "members"); m != nil {
		t.Errorf("the group's members mapping was imported: %+v", m)
	}
}
