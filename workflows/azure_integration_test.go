package workflows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping/azureschema"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// An Azure synchronization schema, written from the documented shape
// (mapping/azureschema/testdata/schema.json), drives a job unchanged: the
// sample application ends up with the values worked out by hand below.
func TestAzureSchemaDrivesJob(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	schema, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "mapping", "azureschema", "testdata", "schema.json"))
	require.NoError(t, err)
	oms, err := azureschema.Import(schema)
	require.NoError(t, err)

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "azure-schema")
	csv := "objectId,userPrincipalName,mailNickname,mail,givenName,surname,department,jobTitle,telephoneNumber\n" +
		"1,alice@contoso.com,alice,alice@contoso.com,Alice,Smith,Sales,Account Executive,(555) 123-4567\n" +
		"2,bob@contoso.com,bob,,Bob,Jones,Engineering,Engineer II,\n" +
		"3,carol@contoso.com,carol,,Carol,White,Sales,Manager,\n" +
		"4,dave@contoso.com,dave,dave@contoso.com,Dave,Brown,Marketing,Engineering Manager,555 0000\n"
	require.NoError(t, os.WriteFile(w.hrPath, []byte(csv), 0o600))
	w.job.Source = config.Source{Connector: &file.Config{Path: w.hrPath, IDColumn: "objectId"}}
	w.job.Objects = nil
	for _, om := range oms {
		w.job.Objects = append(w.job.Objects, config.Object{ObjectMapping: om})
	}
	require.NoError(t, w.job.Validate())
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)

	users := w.users(t)
	require.Len(t, users, 3, "carol is out of scope: Sales without mail, not an engineer")
	alice := users["alice@contoso.com"].Attributes
	require.Equal(t, "alice", alice["externalId"])
	require.Equal(t, "Alice Smith", alice["displayName"])
	require.Equal(t, "en-US", alice["preferredLanguage"])
	require.Equal(t, "alice", alice["nickName"], `Replace([mail], "@contoso.com", , , "")`)
	require.Equal(t, "Alice", nested(alice, "name", "givenName"))
	require.Equal(t, "S", nested(alice, enterprise, "department"))
	require.Equal(t, "alice@contoso.com", multi(alice, "emails", "work"))
	require.Equal(t, "5551234567", multi(alice, "phoneNumbers", "work"))
	require.Equal(t, true, alice["active"])

	bob := users["bob@contoso.com"].Attributes
	require.Equal(t, "unknown@contoso.com", multi(bob, "emails", "work"), "default value on create")
	require.Equal(t, "E", nested(bob, enterprise, "department"))
	require.Nil(t, multi(bob, "phoneNumbers", "work"), "IgnoreFlowIfNullOrEmpty")

	dave := users["dave@contoso.com"].Attributes
	require.Equal(t, "Other", nested(dave, enterprise, "department"), "Switch default")

	// Alice moves to Engineering and changes her given name: the
	// create-only given name stays, the display name follows.
	csv = "objectId,userPrincipalName,mailNickname,mail,givenName,surname,department,jobTitle,telephoneNumber\n" +
		"1,alice@contoso.com,alice,alice@contoso.com,Alicia,Smith,Engineering,Engineer,(555) 123-4567\n" +
		"2,bob@contoso.com,bob,,Bob,Jones,Engineering,Engineer II,\n" +
		"3,carol@contoso.com,carol,,Carol,White,Sales,Manager,\n" +
		"4,dave@contoso.com,dave,dave@contoso.com,Dave,Brown,Marketing,Engineering Manager,555 0000\n"
	require.NoError(t, os.WriteFile(w.hrPath, []byte(csv), 0o600))
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	waitCycle(t, c, w.job.Name, 2, time.Minute)
	alice = w.users(t)["alice@contoso.com"].Attributes
	require.Equal(t, "Alicia Smith", alice["displayName"])
	require.Equal(t, "Alice", nested(alice, "name", "givenName"), "applied on create only")
	require.Equal(t, "E", nested(alice, enterprise, "department"))
	require.Equal(t, 1, w.app.Stats().Requests["PATCH /Users"])
}

func nested(attrs map[string]any, path ...string) any {
	var v any = attrs
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// multi returns the value of the element of a multi-valued attribute with
// the given type.
func multi(attrs map[string]any, name, typ string) any {
	list, _ := attrs[name].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["type"] == typ {
			return m["value"]
		}
	}
	return nil
}
