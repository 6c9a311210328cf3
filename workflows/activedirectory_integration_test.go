package workflows_test

import (
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/api"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/samba"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
)

// adConnection reaches the DC over LDAPS as Administrator.
func adConnection(dc *samba.DC) ldap.Connection {
	return ldap.Connection{URL: samba.LDAPSURL, CACertFile: dc.CACertFile, BindDN: samba.AdminDN,
		BindPassword: secrets.Ref{File: dc.AdminPasswordFile}, Timeout: ldap.Duration(30 * time.Second)}
}

// adEntry reads one entry of the DC.
func adEntry(t *testing.T, c *goldap.Conn, dn string, attrs ...string) *goldap.Entry {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	require.NoError(t, err, "search %s", dn)
	require.Len(t, res.Entries, 1)
	return res.Entries[0]
}

func adModify(t *testing.T, c *goldap.Conn, dn, attr, value string) {
	t.Helper()
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(attr, []string{value})
	require.NoError(t, c.Modify(req), "modify %s", dn)
}

// The hybrid architecture on a real domain controller: AD users and a
// group of 2,000 members (read in ranges of 1,500) provisioned into a SCIM
// application, then one uSNChanged delta that sees a rename, an account
// disabled by bit 2 of userAccountControl and a deletion, read from the
// Deleted Objects container.
func TestActiveDirectoryToSCIM(t *testing.T) {
	dc := samba.Start(t)
	staff := "OU=Staff," + samba.Base
	dc.AddOU(t, staff)
	c := dc.Conn(t)
	const n = 2000
	var dns []string
	start := time.Now()
	for i := 1; i <= n; i++ {
		dn := fmt.Sprintf("CN=User %04d,%s", i, staff)
		req := goldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("u%04d", i)})
		req.Attribute("userPrincipalName", []string{fmt.Sprintf("u%04d@ad.example.org", i)})
		req.Attribute("givenName", []string{"User"})
		req.Attribute("sn", []string{fmt.Sprintf("Family%04d", i)})
		// Enabled, no password required: a bulk load needs no password.
		req.Attribute("userAccountControl", []string{"544"})
		require.NoError(t, c.Add(req), "add %s", dn)
		dns = append(dns, dn)
	}
	group := goldap.NewAddRequest("CN=Everyone,"+staff, nil)
	group.Attribute("objectClass", []string{"group"})
	group.Attribute("member", dns)
	require.NoError(t, c.Add(group))
	t.Logf("%d users and their group added in %s", n, time.Since(start).Round(time.Millisecond))

	tmp := testenv.StartTemporal(t)
	startWorker(t, tmp.Client)
	w := newWorld(t, "ad-to-scim")
	w.job.Source = config.Source{Connector: &ldap.Config{Connection: adConnection(dc), Dialect: ldap.ActiveDirectory, BaseDNs: []string{staff}}}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userPrincipalName", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "sAMAccountName"},
		{Target: "name.givenName", Type: mapping.Direct, Source: "givenName"},
		{Target: "name.familyName", Type: mapping.Direct, Source: "sn"},
	}
	w.job.Objects = append(w.job.Objects, config.Object{ObjectMapping: mapping.ObjectMapping{
		Name: "groups", SourceObject: "Group", TargetObject: "Group",
		Attributes: []mapping.AttributeMapping{{Target: "displayName", Type: mapping.Direct, Source: "cn", MatchingPriority: 1}},
	}})
	w.job.Options.BatchSize = 250
	startJob(t, tmp.Client, w.job)
	st := waitCycle(t, tmp.Client, w.job.Name, 1, 5*time.Minute)
	require.Equal(t, n+1, st.LastCycle.Counts.Of(audit.Create, audit.Success), "every user and the group")
	users := w.users(t)
	require.Len(t, users, n)
	require.Equal(t, 1, groupMembersOf(t, w, "Everyone", n), "one group")

	// A rename, a disable and a deletion in AD.
	require.NoError(t, c.ModifyDN(goldap.NewModifyDNRequest("CN=User 0001,"+staff, "CN=Renamed User", true, "")))
	adModify(t, c, "CN=Renamed User,"+staff, "sn", "Renamed")
	adModify(t, c, "CN=User 0002,"+staff, "userAccountControl", "546")
	require.NoError(t, c.Del(goldap.NewDelRequest("CN=User 0003,"+staff, nil)))
	w.app.ResetStats()
	signal(t, tmp.Client, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, tmp.Client, w.job.Name, 2, 3*time.Minute)
	require.Less(t, st.LastCycle.Read, 10, "a delta read, not all %d objects", n)
	users = w.users(t)
	require.Equal(t, "Renamed", users["u0001@ad.example.org"].Attributes["name"].(map[string]any)["familyName"])
	require.False(t, active(users["u0002@ad.example.org"]), "disabled in AD by bit 2")
	require.True(t, active(users["u0004@ad.example.org"]))
	require.NotContains(t, users, "u0003@ad.example.org", "deleted in AD")
	stats := w.app.Stats()
	require.Equal(t, 1, stats.Requests["DELETE /Users"])
	require.Zero(t, stats.Requests["POST /Users"])
	// The deleted user left the group in AD; the disabled one stays there,
	// but only active accounts are members in the application.
	require.Equal(t, 1, groupMembersOf(t, w, "Everyone", n-2))
}

// groupMembersOf requires the application's group named name to have want
// members and returns how many groups have that name.
func groupMembersOf(t *testing.T, w *world, name string, want int) int {
	t.Helper()
	found := 0
	for _, g := range w.app.Groups() {
		if g.Attributes["displayName"] != name {
			continue
		}
		found++
		members, _ := g.Attributes["members"].([]any)
		require.Equal(t, want, len(members), "members of %s", name)
	}
	return found
}

// adPerson is a row of the HR export of TestHRFileToActiveDirectory.
type adPerson struct{ ID, Given, Family, Department, Status string }

// writeADHR writes the export atomically, keeping the upn column the
// writeback fills.
func writeADHR(t *testing.T, path string, ps []adPerson, upns map[string]string) {
	t.Helper()
	f, err := os.Create(path + ".tmp")
	require.NoError(t, err)
	cw := csv.NewWriter(f)
	require.NoError(t, cw.Write([]string{"employeeId", "givenName", "surname", "department", "status", "upn"}))
	for _, p := range ps {
		require.NoError(t, cw.Write([]string{p.ID, p.Given, p.Family, p.Department, p.Status, upns[p.ID]}))
	}
	cw.Flush()
	require.NoError(t, cw.Error())
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(path+".tmp", path))
}

// readUPNs reads the upn column the writeback filled, by employee.
func readUPNs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := -1
	for i, h := range rows[0] {
		if h == "upn" {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0, "no upn column in %v", rows[0])
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r[col]
	}
	return out
}

// The cloud-HR architecture on a real domain controller: an HR export
// creates enabled AD accounts with an initial password in the OU of their
// department, a change of department moves one, an inactive status
// disables one by bit 2 alone, and each account's userPrincipalName is
// written back to the export. The password reaches AD and nothing else:
// the provisioning log shows it redacted, and no workflow history holds it.
func TestHRFileToActiveDirectory(t *testing.T) {
	dc := samba.Start(t)
	people := "OU=People," + samba.Base
	ou := map[string]string{"Sales": "OU=Sales," + people, "Engineering": "OU=Engineering," + people}
	dc.AddOU(t, people, ou["Sales"], ou["Engineering"])
	c := dc.Conn(t)

	tmp := testenv.StartTemporal(t)
	startWorker(t, tmp.Client)
	w := newWorld(t, "hr-to-ad")
	ps := []adPerson{
		{"E1001", "Ada", "Lovelace", "Engineering", "Active"},
		{"E1002", "Grace", "Hopper", "Engineering", "Active"},
		{"E1003", "Joan", "Clarke", "Sales", "Active"},
		{"E1004", "Hedy", "Lamarr", "Sales", "Active"},
	}
	writeADHR(t, w.hrPath, ps, nil)
	w.job.Source = config.Source{Connector: &file.Config{Path: w.hrPath, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"}}}
	w.job.Target = config.Target{Application: "active-directory", Connector: &ldap.TargetConfig{
		Connection: adConnection(dc), Dialect: ldap.ActiveDirectory,
		Users: ldap.ObjectConfig{Container: people, DNTemplate: "CN={cn}", ParentAttribute: "parentDistinguishedName", EnableValue: "512"},
	}}
	// The password is derived from the employee ID, so the test can sign
	// in with it and look for it; a real job would use RandomString.
	password := func(id string) string { return "Welcome-" + id + "-x9!" }
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "sAMAccountName", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 1},
		{Target: "cn", Type: mapping.Expression, Expression: `Join(" ", [givenName], [surname])`},
		{Target: "givenName", Type: mapping.Direct, Source: "givenName"},
		{Target: "sn", Type: mapping.Direct, Source: "surname"},
		{Target: "department", Type: mapping.Direct, Source: "department"},
		{Target: "userPrincipalName", Type: mapping.Expression, Expression: `Join("", ToLower([givenName]), ".", ToLower([surname]), "@ad.example.org")`},
		{Target: "parentDistinguishedName", Type: mapping.Expression,
			Expression: `Switch([department], "` + people + `", "Sales", "` + ou["Sales"] + `", "Engineering", "` + ou["Engineering"] + `")`},
		{Target: "unicodePwd", Type: mapping.Expression, Expression: `Redact(Join("", "Welcome-", [employeeId], "-x9!"))`, ApplyOn: mapping.ObjectCreationOnly},
	}
	w.job.Objects[0].Writeback = []config.Writeback{{Target: "userPrincipalName", Source: "upn"}}
	startJob(t, tmp.Client, w.job)
	st := waitCycle(t, tmp.Client, w.job.Name, 1, 2*time.Minute)
	require.Equal(t, len(ps), st.LastCycle.Counts.Of(audit.Create, audit.Success), "%v", entries(t, tmp.Client, w.job.Name, len(ps)))

	dn := func(p adPerson, dept string) string { return "CN=" + p.Given + " " + p.Family + "," + ou[dept] }
	for _, p := range ps {
		e := adEntry(t, c, dn(p, p.Department), "userAccountControl", "userPrincipalName")
		require.Equal(t, "512", e.GetAttributeValue("userAccountControl"), "%s is enabled", p.ID)
		upn := strings.ToLower(p.Given + "." + p.Family + "@ad.example.org")
		require.Equal(t, upn, e.GetAttributeValue("userPrincipalName"))
		require.NoError(t, dc.BindAs(upn, password(p.ID)), "%s signs in with the initial password", upn)
	}
	upns := readUPNs(t, w.hrPath)
	require.Equal(t, "ada.lovelace@ad.example.org", upns["E1001"], "userPrincipalName written back")
	require.Equal(t, "hedy.lamarr@ad.example.org", upns["E1004"])
	for _, e := range entries(t, tmp.Client, w.job.Name, len(ps)) {
		for _, m := range e.Modified {
			if m.Name == "unicodePwd" {
				require.Equal(t, audit.Redacted, m.New, "the log shows the password redacted")
			}
		}
	}

	// Joan moves to Engineering; Hedy, whose password never expires (a bit
	// set in AD, not by the job), leaves.
	adModify(t, c, dn(ps[3], "Sales"), "userAccountControl", "66048")
	ps[2].Department, ps[3].Status = "Engineering", "Inactive"
	writeADHR(t, w.hrPath, ps, upns)
	signal(t, tmp.Client, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, tmp.Client, w.job.Name, 2, 2*time.Minute)
	require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Update, audit.Success))
	require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
	require.Equal(t, "Engineering", adEntry(t, c, dn(ps[2], "Engineering"), "department").GetAttributeValue("department"), "moved to Engineering's OU")
	require.Equal(t, "66050", adEntry(t, c, dn(ps[3], "Sales"), "userAccountControl").GetAttributeValue("userAccountControl"),
		"disabled by bit 2, DONT_EXPIRE_PASSWORD kept")
	require.NoError(t, dc.BindAs("joan.clarke@ad.example.org", password("E1003")), "the password is kept across the move")

	ctx := t.Context()
	resp, err := tmp.Client.ListWorkflow(ctx, listRequest(`ProvisioningJob = "`+w.job.Name+`"`))
	require.NoError(t, err)
	require.NotEmpty(t, resp.Executions)
	secretsOf := make([]string, 0, len(ps))
	for _, p := range ps {
		secretsOf = append(secretsOf, password(p.ID))
	}
	assertNoSecret(t, historyJSON(t, tmp.Client, api.JobWorkflowID(w.job.Name), ""), "job history", secretsOf...)
	for _, ex := range resp.Executions {
		assertNoSecret(t, historyJSON(t, tmp.Client, ex.Execution.WorkflowId, ex.Execution.RunId), "history of "+ex.Execution.WorkflowId, secretsOf...)
	}
}
