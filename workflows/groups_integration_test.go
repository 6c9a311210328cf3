package workflows_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/scimgateway"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

const managerAttr = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"

// employee is a row of the HR users export.
type employee struct {
	ID, UserName, Status, Manager string
}

// sourceGroup is a row of the groups export; members are employee or
// group IDs.
type sourceGroup struct {
	ID, Name string
	Members  []string
}

// groupWorld is an HR export in two files (users, groups) and a target
// application seen through what the tests check: accounts by userName, and
// each group's members by userName.
type groupWorld struct {
	users, groups string
	emps          []employee
	grps          []sourceGroup
	target        groupTarget
	job           config.Job
}

// groupTarget is a SCIM application under test.
type groupTarget struct {
	name  string
	scim  *scim.Config
	state func(t *testing.T) targetState
}

// targetState is a target's accounts and groups, by name.
type targetState struct {
	// Users maps userName to "active" or "disabled", plus " manager=<userName>".
	Users map[string]string
	// Groups maps displayName to member userNames (groups as "group:<name>"), sorted.
	Groups map[string][]string
	// IDs maps displayName to the group's target ID.
	IDs map[string]string
}

func newGroupWorld(t *testing.T, name string, target groupTarget, flatten bool) *groupWorld {
	t.Helper()
	dir := t.TempDir()
	w := &groupWorld{users: filepath.Join(dir, "users.csv"), groups: filepath.Join(dir, "groups.csv"), target: target}
	w.job = config.Job{
		Name:     name,
		Interval: config.Duration(time.Hour),
		Source: config.Source{Connector: &file.Set{
			{Path: w.users, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"}},
			{Path: w.groups, Type: "Group", IDColumn: "groupId", MembersColumn: "members"},
		}},
		Target: config.Target{Application: target.name, Connector: target.scim},
		Objects: []config.Object{
			{ObjectMapping: mapping.ObjectMapping{
				Name: "users", SourceObject: "User", TargetObject: "User",
				Attributes: []mapping.AttributeMapping{
					{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
					{Target: "externalId", Type: mapping.Direct, Source: "employeeId"},
					{Target: managerAttr, Type: mapping.Direct, Source: "managerId", Reference: "User"},
				},
			}},
			{ObjectMapping: mapping.ObjectMapping{
				Name: "groups", SourceObject: "Group", TargetObject: "Group",
				Attributes: []mapping.AttributeMapping{
					{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1},
					{Target: "externalId", Type: mapping.Direct, Source: "groupId"},
				},
			}},
		},
		Options: config.Options{BatchSize: 50, Batches: 4, Concurrency: 8, FlattenNestedGroups: flatten},
	}
	return w
}

// write replaces both exports, each atomically.
func (w *groupWorld) write(t *testing.T) {
	t.Helper()
	rows := [][]string{{"employeeId", "userName", "status", "managerId"}}
	for _, e := range w.emps {
		status := e.Status
		if status == "" {
			status = "Active"
		}
		rows = append(rows, []string{e.ID, e.UserName, status, e.Manager})
	}
	writeCSV(t, w.users, rows)
	rows = [][]string{{"groupId", "displayName", "members"}}
	for _, g := range w.grps {
		rows = append(rows, []string{g.ID, g.Name, strings.Join(g.Members, ";")})
	}
	writeCSV(t, w.groups, rows)
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path + ".tmp")
	require.NoError(t, err)
	cw := csv.NewWriter(f)
	require.NoError(t, cw.WriteAll(rows))
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(path+".tmp", path))
}

func (w *groupWorld) employee(id string) *employee {
	for i := range w.emps {
		if w.emps[i].ID == id {
			return &w.emps[i]
		}
	}
	panic("no employee " + id)
}

func (w *groupWorld) group(id string) *sourceGroup {
	for i := range w.grps {
		if w.grps[i].ID == id {
			return &w.grps[i]
		}
	}
	panic("no group " + id)
}

// sync runs cycle n now (cycle 1 starts the job) and returns the target's state.
func (w *groupWorld) sync(t *testing.T, c client.Client, n int) targetState {
	t.Helper()
	w.write(t)
	if n == 1 {
		startJob(t, c, w.job)
	} else {
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	}
	st := waitCycle(t, c, w.job.Name, n, 2*time.Minute)
	require.Zero(t, st.LastCycle.Counts.Of(audit.Other, audit.Failure)+st.LastCycle.Counts.Of(audit.Update, audit.Failure)+st.LastCycle.Counts.Of(audit.Create, audit.Failure),
		"cycle %d has failures: %v", n, st.LastCycle.Counts)
	return w.target.state(t)
}

// sampleTarget is the project's sample application.
func sampleTarget(t *testing.T, name string) (groupTarget, *sampleapp.App) {
	t.Helper()
	env := "TEST_GROUPS_TOKEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	t.Setenv(env, "token-"+name)
	app := sampleapp.New(sampleapp.Options{Token: "token-" + name})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return groupTarget{
		name: "sampleapp",
		scim: &scim.Config{BaseURL: srv.URL + "/scim/v2", Token: secrets.Ref{Env: env}},
		state: func(t *testing.T) targetState {
			var users []targetUser
			for _, u := range app.Users() {
				tu := targetUser{id: u.ID, name: fmt.Sprint(u.Attributes["userName"]), active: active(u)}
				if ext, ok := u.Attributes[sampleapp.EnterpriseSchema].(map[string]any); ok {
					if m, ok := ext["manager"].(map[string]any); ok {
						tu.manager = fmt.Sprint(m["value"])
					}
				}
				users = append(users, tu)
			}
			var groups []targetGroup
			for _, g := range app.Groups() {
				tg := targetGroup{id: g.ID, name: fmt.Sprint(g.Attributes["displayName"])}
				if list, ok := g.Attributes["members"].([]any); ok {
					for _, m := range list {
						tg.members = append(tg.members, fmt.Sprint(m.(map[string]any)["value"]))
					}
				}
				groups = append(groups, tg)
			}
			return describe(t, users, groups)
		},
	}, app
}

// gatewayTarget is marcelom97/scimgateway, a SCIM server this project
// did not write.
func gatewayTarget(t *testing.T, name string) groupTarget {
	t.Helper()
	env := "TEST_GROUPS_TOKEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	t.Setenv(env, "token-"+name)
	gw := scimgateway.Start(t, "token-"+name)
	return groupTarget{
		name: "scimgateway",
		scim: &scim.Config{BaseURL: gw.URL, Token: secrets.Ref{Env: env}},
		state: func(t *testing.T) targetState {
			var users []targetUser
			for _, u := range gw.Users() {
				tu := targetUser{id: u.ID, name: u.UserName, active: u.Active == nil || *u.Active}
				if m, ok := u.EnterpriseUser["manager"].(map[string]any); ok {
					tu.manager = fmt.Sprint(m["value"])
				}
				users = append(users, tu)
			}
			var groups []targetGroup
			for _, g := range gw.Groups() {
				tg := targetGroup{id: g.ID, name: g.DisplayName}
				for _, m := range g.Members {
					tg.members = append(tg.members, m.Value)
				}
				groups = append(groups, tg)
			}
			return describe(t, users, groups)
		},
	}
}

type targetUser struct {
	id, name, manager string
	active            bool
}

type targetGroup struct {
	id, name string
	members  []string
}

// describe names everything by userName or displayName and fails on
// duplicate accounts, groups or members.
func describe(t *testing.T, users []targetUser, groups []targetGroup) targetState {
	t.Helper()
	names := map[string]string{}
	for _, u := range users {
		names[u.id] = u.name
	}
	for _, g := range groups {
		names[g.id] = "group:" + g.name
	}
	st := targetState{Users: map[string]string{}, Groups: map[string][]string{}, IDs: map[string]string{}}
	for _, u := range users {
		_, dup := st.Users[u.name]
		require.False(t, dup, "duplicate account %s", u.name)
		s := "disabled"
		if u.active {
			s = "active"
		}
		if u.manager != "" {
			s += " manager=" + names[u.manager]
		}
		st.Users[u.name] = s
	}
	for _, g := range groups {
		_, dup := st.Groups[g.name]
		require.False(t, dup, "duplicate group %s", g.name)
		members := []string{}
		for _, m := range g.members {
			n, ok := names[m]
			require.True(t, ok, "group %s has member %s that is no account", g.name, m)
			members = append(members, n)
		}
		slices.Sort(members)
		require.Equal(t, slices.Compact(slices.Clone(members)), members, "group %s lists a member twice", g.name)
		st.Groups[g.name] = members
		st.IDs[g.name] = g.id
	}
	return st
}

// Groups, memberships and manager references follow the source through
// incremental cycles, against the sample application and against a SCIM
// server this project did not write.
func TestGroupsAndMemberships(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	for _, mk := range []func(*testing.T) groupTarget{
		func(t *testing.T) groupTarget { g, _ := sampleTarget(t, "groups-sampleapp"); return g },
		func(t *testing.T) groupTarget { return gatewayTarget(t, "groups-gateway") },
	} {
		target := mk(t)
		t.Run(target.name, func(t *testing.T) { groupScenario(t, c, target) })
	}
}

func groupScenario(t *testing.T, c client.Client, target groupTarget) {
	w := newGroupWorld(t, "groups-"+target.name, target, true)
	w.emps = []employee{
		{ID: "E1", UserName: "ada@example.com"},
		{ID: "E2", UserName: "bob@example.com", Manager: "E1"},
		{ID: "E3", UserName: "cy@example.com", Manager: "E1"},
		{ID: "E4", UserName: "dee@example.com"},
		{ID: "E5", UserName: "eve@example.com"},
	}
	w.grps = []sourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E1", "E2", "E3"}},
		{ID: "G2", Name: "Sales", Members: []string{"E4"}},
		// Everyone nests Engineering: flattened, its members are Everyone's.
		{ID: "G3", Name: "Everyone", Members: []string{"G1", "E5"}},
	}

	cycle := 1
	st := w.sync(t, c, cycle)
	require.Equal(t, map[string][]string{
		"Engineering": {"ada@example.com", "bob@example.com", "cy@example.com"},
		"Sales":       {"dee@example.com"},
		"Everyone":    {"ada@example.com", "bob@example.com", "cy@example.com", "eve@example.com"},
	}, st.Groups, "initial cycle")
	require.Equal(t, map[string]string{
		"ada@example.com": "active", "bob@example.com": "active manager=ada@example.com",
		"cy@example.com": "active manager=ada@example.com", "dee@example.com": "active", "eve@example.com": "active",
	}, st.Users, "initial cycle")
	ids := st.IDs

	t.Run("adding and removing members", func(t *testing.T) {
		w.group("G1").Members = []string{"E1", "E3", "E4"}
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, map[string][]string{
			"Engineering": {"ada@example.com", "cy@example.com", "dee@example.com"},
			"Sales":       {"dee@example.com"},
			"Everyone":    {"ada@example.com", "cy@example.com", "dee@example.com", "eve@example.com"},
		}, st.Groups)
		require.Equal(t, ids, st.IDs, "groups are changed, never re-created")
	})

	t.Run("renaming a group", func(t *testing.T) {
		w.group("G2").Name = "Sales EMEA"
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, []string{"dee@example.com"}, st.Groups["Sales EMEA"])
		require.NotContains(t, st.Groups, "Sales")
		require.Equal(t, ids["Sales"], st.IDs["Sales EMEA"], "renamed in place")
	})

	t.Run("a user leaving scope and coming back", func(t *testing.T) {
		w.employee("E3").Status = "Inactive"
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, "disabled manager=ada@example.com", st.Users["cy@example.com"])
		require.Equal(t, []string{"ada@example.com", "dee@example.com"}, st.Groups["Engineering"])
		require.Equal(t, []string{"ada@example.com", "dee@example.com", "eve@example.com"}, st.Groups["Everyone"])

		w.employee("E3").Status = "Active"
		cycle++
		st = w.sync(t, c, cycle)
		require.Equal(t, "active manager=ada@example.com", st.Users["cy@example.com"])
		require.Equal(t, []string{"ada@example.com", "cy@example.com", "dee@example.com"}, st.Groups["Engineering"], "memberships restored")
		require.Equal(t, []string{"ada@example.com", "cy@example.com", "dee@example.com", "eve@example.com"}, st.Groups["Everyone"])
	})

	t.Run("a manager created after their report", func(t *testing.T) {
		w.emps = append(w.emps, employee{ID: "E6", UserName: "fay@example.com", Manager: "E7"})
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, "active", st.Users["fay@example.com"], "created without the manager, who does not exist yet")

		w.emps = append(w.emps, employee{ID: "E7", UserName: "gus@example.com"})
		cycle++
		st = w.sync(t, c, cycle)
		require.Equal(t, "active manager=gus@example.com", st.Users["fay@example.com"], "resolved in a later cycle, without a restart")
	})

	t.Run("a nested group's change reaches the groups it is flattened into", func(t *testing.T) {
		w.group("G1").Members = append(w.group("G1").Members, "E6")
		w.group("G3").Members = []string{"G1", "G2"}
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, []string{"ada@example.com", "cy@example.com", "dee@example.com", "fay@example.com"}, st.Groups["Everyone"])
	})

	t.Run("a group gone from the source is left in place unless the job deletes what is absent", func(t *testing.T) {
		w.grps = slices.DeleteFunc(w.grps, func(g sourceGroup) bool { return g.ID == "G2" })
		cycle++
		st := w.sync(t, c, cycle)
		require.Equal(t, map[string][]string{
			"Engineering": {"ada@example.com", "cy@example.com", "dee@example.com", "fay@example.com"},
			"Sales EMEA":  {"dee@example.com"},
			"Everyone":    {"ada@example.com", "cy@example.com", "dee@example.com", "fay@example.com"},
		}, st.Groups)
	})

	t.Run("membership changes are in the provisioning log", func(t *testing.T) {
		var found *audit.Entry
		for _, e := range entries(t, c, w.job.Name, 1) {
			if e.ObjectType == "Group" && e.SourceID == "G1" && e.Action == audit.Update && len(e.Modified) == 1 && e.Modified[0].Name == "members" && e.Modified[0].Old != "" {
				found = &e
				break
			}
		}
		require.NotNil(t, found, "an Update of Engineering's members")
		require.Equal(t, audit.Success, found.Status)
		require.Contains(t, found.Modified[0].Old, "removed ")
		require.Equal(t, "Engineering", found.DisplayName)
	})
}

// Without flattening, a nested group that is provisioned is a member of
// the group that contains it. A group the application already has is
// matched by displayName and linked, never created twice.
func TestNestedGroupsMirrored(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	target := gatewayTarget(t, "nested-gateway")
	admin, err := target.scim.Open(context.Background(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	existing, err := admin.Create(context.Background(), connectors.Group, connectors.Attributes{"displayName": "Engineering"})
	require.NoError(t, err)

	w := newGroupWorld(t, "nested-gateway", target, false)
	w.emps = []employee{{ID: "E1", UserName: "ada@example.com"}, {ID: "E2", UserName: "bob@example.com"}}
	w.grps = []sourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E1"}},
		{ID: "G3", Name: "Everyone", Members: []string{"G1", "E2"}},
	}
	st := w.sync(t, c, 1)
	require.Equal(t, map[string][]string{
		"Engineering": {"ada@example.com"},
		"Everyone":    {"bob@example.com", "group:Engineering"},
	}, st.Groups)
	require.Equal(t, existing, st.IDs["Engineering"], "matched by displayName")
}

// "Sync only assigned": users are in scope as members of the assigned
// group, and so is that group; assignment changes in the groups export
// alone provision and deprovision users.
func TestSyncOnlyAssigned(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	target, _ := sampleTarget(t, "assigned")
	w := newGroupWorld(t, "assigned", target, false)
	w.job.Options.AssignedGroups = []string{"Engineering"}
	w.emps = []employee{
		{ID: "E1", UserName: "ada@example.com"},
		{ID: "E2", UserName: "bob@example.com"},
		{ID: "E3", UserName: "cy@example.com"},
	}
	w.grps = []sourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E1", "E2"}},
		{ID: "G2", Name: "Sales", Members: []string{"E3"}},
	}
	st := w.sync(t, c, 1)
	require.Equal(t, map[string]string{"ada@example.com": "active", "bob@example.com": "active"}, st.Users)
	require.Equal(t, map[string][]string{"Engineering": {"ada@example.com", "bob@example.com"}}, st.Groups)

	w.group("G1").Members = []string{"E2", "E3"}
	st = w.sync(t, c, 2)
	require.Equal(t, map[string]string{"ada@example.com": "disabled", "bob@example.com": "active", "cy@example.com": "active"}, st.Users)
	require.Equal(t, map[string][]string{"Engineering": {"bob@example.com", "cy@example.com"}}, st.Groups)
}

// A membership change of one user in a 10,000-member group sends one small
// PATCH: the difference, never the member list.
func TestLargeGroupMembershipDelta(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	target, app := sampleTarget(t, "large-group")
	w := newGroupWorld(t, "large-group", target, false)
	w.job.Options = config.Options{BatchSize: 500, Batches: 4, Concurrency: 16}
	const n = 10000
	all := sourceGroup{ID: "G1", Name: "Everyone"}
	for i := range n {
		id := fmt.Sprintf("E%05d", i+1)
		w.emps = append(w.emps, employee{ID: id, UserName: fmt.Sprintf("user%05d@example.com", i+1)})
		all.Members = append(all.Members, id)
	}
	w.grps = []sourceGroup{all}

	st := w.sync(t, c, 1)
	require.Len(t, st.Groups["Everyone"], n)
	stats := app.Stats()
	require.Equal(t, 1, stats.Requests["POST /Groups"])
	require.Equal(t, n/scim.DefaultMemberBatchSize, stats.Requests["PATCH /Groups"], "members added %d per PATCH", scim.DefaultMemberBatchSize)

	for i, members := range [][]string{all.Members[1:], all.Members} {
		app.ResetStats()
		w.grps[0].Members = members
		start := time.Now()
		st := w.sync(t, c, 2+i)
		stats := app.Stats()
		t.Logf("cycle %d: %v in %s, largest PATCH %d bytes", 2+i, stats.Requests, time.Since(start).Round(time.Millisecond), stats.MaxPatchBytes)
		require.Equal(t, map[string]int{"PATCH /Groups": 1}, stats.Requests, "one PATCH and nothing else")
		require.Less(t, stats.MaxPatchBytes, 300, "the PATCH names one member")
		require.Len(t, st.Groups["Everyone"], len(members))
	}

	// A member leaving scope: the account is disabled and leaves the group.
	app.ResetStats()
	w.employee("E00002").Status = "Inactive"
	st = w.sync(t, c, 4)
	stats = app.Stats()
	t.Logf("cycle 4: %v, largest PATCH %d bytes", stats.Requests, stats.MaxPatchBytes)
	require.Equal(t, map[string]int{"PATCH /Users": 1, "PATCH /Groups": 1}, stats.Requests)
	require.Less(t, stats.MaxPatchBytes, 300)
	require.Len(t, st.Groups["Everyone"], n-1)
	require.NotContains(t, st.Groups["Everyone"], "user00002@example.com")
}

// A directory that speaks SCIM, read by delta, supplies the groups: a
// change to a group alone (a member added to a nested group) assigns a
// user whose own record did not change, and a group deleted in the source
// unassigns its members.
func TestGroupsFromDeltaSource(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	srcCfg, admin := scimDirectory(t, "TEST_GROUPS_SOURCE_TOKEN")
	ctx := context.Background()
	var err error
	ids := map[string]string{}
	for _, name := range []string{"ada", "bob", "cy", "dee"} {
		ids[name], err = admin.Create(ctx, connectors.User, connectors.Attributes{"userName": name + "@example.com"})
		require.NoError(t, err)
	}
	for _, g := range []struct {
		name    string
		members []string
	}{{"Team", []string{ids["bob"]}}, {"Sales", []string{ids["cy"]}}} {
		ids[g.name], err = admin.Create(ctx, connectors.Group, connectors.Attributes{"displayName": g.name})
		require.NoError(t, err)
		require.NoError(t, admin.AddMembers(ctx, ids[g.name], g.members))
	}
	ids["Engineering"], err = admin.Create(ctx, connectors.Group, connectors.Attributes{"displayName": "Engineering"})
	require.NoError(t, err)
	require.NoError(t, admin.AddMembers(ctx, ids["Engineering"], []string{ids["ada"], ids["Team"]}))
	// meta.lastModified has one-second resolution and delta reads take what
	// changed at or after the watermark's second: a later change to another
	// user moves the watermark past dee's record, so later cycles do not
	// read dee again unless assignment asks for it.
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, admin.Update(ctx, connectors.User, ids["cy"], []connectors.Change{{Attribute: "title", New: "Seller"}}))

	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	w := newGroupWorld(t, "groups-from-scim", gatewayTarget(t, "groups-from-scim"), true)
	w.job.Source = config.Source{Connector: srcCfg}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1}}
	w.job.Objects[1].Attributes = []mapping.AttributeMapping{{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1}}
	w.job.Options.AssignedGroups = []string{"Engineering"}
	sync := func(n int) targetState {
		t.Helper()
		if n == 1 {
			startJob(t, c, w.job)
		} else {
			signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		}
		waitCycle(t, c, w.job.Name, n, 2*time.Minute)
		return w.target.state(t)
	}

	st := sync(1)
	require.Equal(t, map[string]string{"ada@example.com": "active", "bob@example.com": "active"}, st.Users, "Engineering's members, Team's flattened")
	require.Equal(t, map[string][]string{"Engineering": {"ada@example.com", "bob@example.com"}}, st.Groups)

	// meta.lastModified has one-second resolution: change after a second.
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, admin.AddMembers(ctx, ids["Team"], []string{ids["dee"]}))
	require.NoError(t, admin.RemoveMembers(ctx, ids["Engineering"], []string{ids["ada"]}))
	st = sync(2)
	require.Equal(t, map[string]string{"ada@example.com": "disabled", "bob@example.com": "active", "dee@example.com": "active"}, st.Users)
	require.Equal(t, map[string][]string{"Engineering": {"bob@example.com", "dee@example.com"}}, st.Groups)

	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, admin.Delete(ctx, connectors.Group, ids["Team"]))
	st = sync(3)
	require.Equal(t, map[string]string{"ada@example.com": "disabled", "bob@example.com": "disabled", "dee@example.com": "disabled"}, st.Users)
	require.Equal(t, map[string][]string{"Engineering": {}}, st.Groups)
}
