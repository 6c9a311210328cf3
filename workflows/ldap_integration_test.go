package workflows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

// personLDIF is one entry of ou=people.
func personLDIF(uid, given, sn, typ string, extra ...string) string {
	lines := []string{
		"dn: uid=" + uid + "," + slapd.People,
		"changetype: add",
		"objectClass: inetOrgPerson",
		"uid: " + uid, "cn: " + given + " " + sn, "givenName: " + given, "sn: " + sn,
		"mail: " + uid + "@example.org", "employeeType: " + typ, "title: Engineer",
	}
	return strings.Join(append(lines, extra...), "\n") + "\n\n"
}

func ldapConnection(srv *slapd.Server, passwordFile string) ldap.Connection {
	return ldap.Connection{URL: srv.URL, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: passwordFile}, Timeout: ldap.Duration(5 * time.Second)}
}

// peopleSource reads the directory's people by employeeNumber, with
// deltas by modifyTimestamp and businessCategory "disabled" as disabled.
func peopleSource(dir *slapd.Server) config.Source {
	return config.Source{Connector: &ldap.Config{
		Connection: ldapConnection(dir, dir.RootPWFile), BaseDNs: []string{slapd.People},
		IDAttribute: "employeeNumber", Delta: ldap.DeltaModifyTimestamp,
		DisabledAttribute: "businessCategory", DisabledValues: []string{"disabled"},
	}}
}

// The hybrid architecture: an OpenLDAP directory provisioned into a SCIM
// application, with modifications, disables and deletions flowing through
// incremental cycles, and directory failures that deprovision nobody.
func TestLDAPSourceToSCIM(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := slapd.Start(t, slapd.Options{})
	var ldif strings.Builder
	for i := 1; i <= 12; i++ {
		typ := "Employee"
		if i%4 == 0 {
			typ = "Contractor"
		}
		extra := []string{fmt.Sprintf("employeeNumber: %d", 1000+i)}
		switch i {
		case 5: // managed by a contractor, who is out of scope for now
			extra = append(extra, "manager: uid=u04,"+slapd.People)
		case 6, 7:
			extra = append(extra, "manager: uid=u01,"+slapd.People)
		}
		ldif.WriteString(personLDIF(fmt.Sprintf("u%02d", i), "Given", fmt.Sprintf("Family%02d", i), typ, extra...))
	}
	// A malformed entry: no employeeNumber, the source anchor of this job.
	ldif.WriteString(personLDIF("broken", "No", "Number", "Employee"))
	dir.Modify(t, ldif.String())

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "ldap-to-scim")
	w.job.Source = peopleSource(dir)
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "uid", MatchingPriority: 2},
		{Target: "name.givenName", Type: mapping.Direct, Source: "givenName"},
		{Target: "name.familyName", Type: mapping.Direct, Source: "sn"},
		{Target: "title", Type: mapping.Direct, Source: "title"},
		{Target: managerAttr, Type: mapping.Direct, Source: "manager", Reference: "User"},
	}
	startJob(t, c, w.job)

	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Len(t, w.users(t), 9, "the nine employees with an anchor")
	require.Equal(t, 9, st.LastCycle.Counts.Of(audit.Create, audit.Success))
	require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Other, audit.Failure), "the malformed entry fails alone")
	var failed []audit.Entry
	for _, e := range entries(t, c, w.job.Name, 13) {
		if e.Status == audit.Failure {
			failed = append(failed, e)
		}
	}
	require.Len(t, failed, 1)
	require.Contains(t, failed[0].Reason+failed[0].Locator, "uid=broken")
	users := w.users(t)
	require.Equal(t, users["u01@example.org"].ID, manager(users["u06@example.org"]), "a manager DN becomes the manager's account")
	require.Equal(t, users["u01@example.org"].ID, manager(users["u07@example.org"]))
	require.Empty(t, manager(users["u05@example.org"]), "the manager is not provisioned yet")

	// Modify, disable and delete in the directory, bring the contractor
	// manager into scope, give another a new manager; one incremental cycle.
	dir.Modify(t, "dn: uid=u01,"+slapd.People+"\nchangetype: modify\nreplace: title\ntitle: Architect\n\n"+
		"dn: uid=u04,"+slapd.People+"\nchangetype: modify\nreplace: employeeType\nemployeeType: Employee\n\n"+
		"dn: uid=u07,"+slapd.People+"\nchangetype: modify\nreplace: manager\nmanager: uid=u09,"+slapd.People+"\n\n"+
		"dn: uid=u02,"+slapd.People+"\nchangetype: modify\nadd: businessCategory\nbusinessCategory: disabled\n\n"+
		"dn: uid=u03,"+slapd.People+"\nchangetype: delete\n\n")
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	users = w.users(t)
	require.Equal(t, "Architect", users["u01@example.org"].Attributes["title"])
	require.Equal(t, users["u04@example.org"].ID, manager(users["u05@example.org"]), "resolved once the manager is provisioned, without a restart")
	require.Equal(t, users["u09@example.org"].ID, manager(users["u07@example.org"]), "a new manager")
	require.False(t, active(users["u02@example.org"]), "disabled in the directory")
	require.NotContains(t, users, "u03@example.org", "deleted in the directory")
	require.Equal(t, 1, w.app.Stats().Requests["DELETE /Users"])
	require.Equal(t, 1, w.app.Stats().Requests["POST /Users"], "the contractor who came into scope")

	// The directory goes away: the cycle fails with a clear error and
	// nobody is disabled or deleted.
	dir.Stop()
	w.app.ResetStats()
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		s := status(t, c, w.job.Name)
		return s.CycleNumber >= 3 && s.Current == nil && s.LastError != ""
	}, 3*time.Minute, 200*time.Millisecond)
	s := status(t, c, w.job.Name)
	require.Contains(t, s.LastError, "Unavailable")
	stats := w.app.Stats()
	require.Zero(t, stats.Requests["PATCH /Users"]+stats.Requests["DELETE /Users"], "a failed read deprovisions nobody")
	require.Len(t, w.users(t), 9)
}

// A rejected bind is reported in status and history, and nothing is pushed.
func TestLDAPRejectedBind(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := slapd.Start(t, slapd.Options{})
	wrong := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(wrong, []byte("not-the-password"), 0o600))
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "ldap-bad-bind")
	w.job.Source = config.Source{Connector: &ldap.Config{Connection: ldapConnection(dir, wrong), BaseDNs: []string{slapd.People}}}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1}}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	startJob(t, c, w.job)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.CycleNumber >= 1 && s.Current == nil && s.LastError != ""
	}, 3*time.Minute, 200*time.Millisecond)
	s := status(t, c, w.job.Name)
	require.Contains(t, s.LastError, "Unauthorized")
	require.NotContains(t, s.LastError, "not-the-password")
	require.Zero(t, w.app.Stats().Requests["POST /Users"])
}

// The cloud-HR architecture: an HR export provisioned into an LDAP
// directory, with managers written as DNs, and the e-mail address the
// mapping generates written back to the HR export.
func TestHRFileToLDAPWithWriteback(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := slapd.Start(t, slapd.Options{})
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "hr-to-ldap")
	ps := people(6)
	writeHR(t, w.hrPath, ps)
	w.job.Target = config.Target{Application: "directory", Connector: &ldap.TargetConfig{
		Connection: ldapConnection(dir, dir.RootPWFile),
		Users: ldap.ObjectConfig{Container: slapd.People, DNTemplate: "uid={uid}", ObjectClasses: []string{"inetOrgPerson"},
			DisableAttribute: "businessCategory", DisableValue: "disabled"},
	}}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "uid", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 1},
		{Target: "cn", Type: mapping.Expression, Expression: `Join(" ", [givenName], [surname])`},
		{Target: "givenName", Type: mapping.Direct, Source: "givenName"},
		{Target: "sn", Type: mapping.Direct, Source: "surname"},
		{Target: "title", Type: mapping.Direct, Source: "jobTitle"},
		{Target: "mail", Type: mapping.Expression, Expression: `Join("", ToLower([givenName]), ".", ToLower([employeeId]), "@corp.example.org")`},
		// Everyone reports to E00001, who reports to no one.
		{Target: "manager", Type: mapping.Expression, Expression: `Switch([employeeId], "E00001", "E00001", "")`, Reference: "User"},
	}
	w.job.Objects[0].Writeback = []config.Writeback{{Target: "mail", Source: "email"}}
	startJob(t, c, w.job)
	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, inScope(ps), st.LastCycle.Counts.Of(audit.Create, audit.Success), "%v", entries(t, c, w.job.Name, len(ps)))

	conn := dir.Conn(t)
	res, err := conn.Search(searchPeople("(objectClass=inetOrgPerson)", "uid", "mail", "manager"))
	require.NoError(t, err)
	require.Len(t, res.Entries, inScope(ps))
	for _, e := range res.Entries {
		want := "uid=E00001," + slapd.People
		if e.GetAttributeValue("uid") == "E00001" {
			want = ""
		}
		require.True(t, strings.EqualFold(want, e.GetAttributeValue("manager")), "%s: manager %q, want %q", e.DN, e.GetAttributeValue("manager"), want)
	}

	hr, err := os.ReadFile(w.hrPath)
	require.NoError(t, err)
	for _, p := range ps {
		mail := strings.ToLower(p.Given) + "." + strings.ToLower(p.ID) + "@corp.example.org"
		if p.Type == "Employee" {
			require.Contains(t, string(hr), mail, "the generated e-mail of %s is written back", p.ID)
		} else {
			require.NotContains(t, string(hr), mail)
		}
	}
}

// manager is the target ID of an account's enterprise manager, "" for none.
func manager(r sampleapp.Resource) string {
	ext, _ := r.Attributes[sampleapp.EnterpriseSchema].(map[string]any)
	m, _ := ext["manager"].(map[string]any)
	if m == nil {
		return ""
	}
	return fmt.Sprint(m["value"])
}
