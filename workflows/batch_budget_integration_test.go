package workflows_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// wideTargets are 40 attributes of the sample application's users.
var wideTargets = func() []string {
	out := []string{"displayName", "nickName", "title", "userType", "preferredLanguage", "locale", "timezone", "profileUrl"}
	for _, n := range []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"} {
		out = append(out, "name."+n)
	}
	for _, n := range []string{"employeeNumber", "costCenter", "organization", "division", "department"} {
		out = append(out, sampleapp.EnterpriseSchema+":"+n)
	}
	for _, typ := range []string{"work", "home"} {
		for _, n := range []string{"streetAddress", "locality", "region", "postalCode", "country", "formatted"} {
			out = append(out, fmt.Sprintf(`addresses[type eq %q].%s`, typ, n))
		}
	}
	for _, typ := range []string{"work", "home", "other"} {
		out = append(out, fmt.Sprintf(`emails[type eq %q].value`, typ))
	}
	for _, typ := range []string{"work", "mobile", "home", "fax", "pager", "other"} {
		out = append(out, fmt.Sprintf(`phoneNumbers[type eq %q].value`, typ))
	}
	return out
}()

// writeWide writes n users whose 40 attributes hold values of 100+
// characters of the given round; huge replaces one value.
func writeWide(t *testing.T, path string, n, round int, huge map[[2]int]string) {
	t.Helper()
	f, err := os.Create(path + ".tmp")
	require.NoError(t, err)
	w := csv.NewWriter(f)
	header := []string{"employeeId", "userName"}
	for a := range wideTargets {
		header = append(header, fmt.Sprintf("a%02d", a))
	}
	require.NoError(t, w.Write(header))
	for i := range n {
		row := []string{fmt.Sprintf("W%05d", i), fmt.Sprintf("wide%05d@example.com", i)}
		for a := range wideTargets {
			v, ok := huge[[2]int{i, a}]
			if !ok {
				v = fmt.Sprintf("round %d user %05d attribute %02d ", round, i, a) + strings.Repeat("abcdefghij", 10)
			}
			row = append(row, v)
		}
		require.NoError(t, w.Write(row))
	}
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(path+".tmp", path))
}

// A batch whose entries would pass Temporal's payload limit (250 objects
// each changing 40 values of 100+ characters: about 2.9 MB of entries)
// stops taking items at the budget and the cycle schedules the rest:
// every entry reaches history whole, and no result is refused after the
// pushes were made. A value over the size limit is logged as its length
// and hash.
func TestBatchResultsStayUnderThePayloadLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "wide")
	const n = 250
	w.job.Source.Connector.(*file.Config).DisabledColumn, w.job.Source.Connector.(*file.Config).DisabledValues = "", nil
	attrs := []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 2},
	}
	for a, target := range wideTargets {
		attrs = append(attrs, mapping.AttributeMapping{Target: target, Type: mapping.Direct, Source: fmt.Sprintf("a%02d", a)})
	}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = attrs
	w.job.Options = config.Options{BatchSize: n, Batches: 4, Concurrency: 8}

	writeWide(t, w.hrPath, n, 1, nil)
	startJob(t, c, w.job)
	st := waitCycle(t, c, w.job.Name, 1, 2*time.Minute)
	require.Empty(t, st.LastError)
	require.Equal(t, n, st.LastCycle.Counts.Of(audit.Create, audit.Success))

	photo := strings.Repeat("/9j/4AAQSkZJRgABAQ", 300) // 5,400 bytes
	writeWide(t, w.hrPath, n, 2, map[[2]int]string{{7, 0}: photo})
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, c, w.job.Name, 2, 3*time.Minute)
	require.Empty(t, st.LastError, "no batch result is refused")
	require.Equal(t, n, st.LastCycle.Counts.Of(audit.Update, audit.Success), "every object is updated")

	var updates []audit.Entry
	for _, e := range entries(t, c, w.job.Name, 2*n) {
		if e.CycleID == st.LastCycle.ID {
			updates = append(updates, e)
		}
	}
	require.Len(t, updates, n, "every entry of the cycle is in history, once")
	size, seen := 0, map[string]bool{}
	for _, e := range updates {
		require.Equal(t, audit.Update, e.Action, e.SourceID)
		require.Equal(t, audit.Success, e.Status, e.SourceID)
		require.False(t, seen[e.SourceID], "%s logged twice", e.SourceID)
		seen[e.SourceID] = true
		require.Len(t, e.Modified, len(wideTargets), e.SourceID)
		i := 0
		_, err := fmt.Sscanf(e.SourceID, "W%05d", &i)
		require.NoError(t, err)
		byName := map[string]audit.Property{}
		for _, p := range e.Modified {
			byName[p.Name] = p
		}
		for a, target := range wideTargets {
			p := byName[target]
			want := fmt.Sprintf("round 2 user %05d attribute %02d ", i, a) + strings.Repeat("abcdefghij", 10)
			if i == 7 && a == 0 {
				want = audit.Summary(photo)
			}
			require.Equal(t, want, p.New, "%s %s is logged whole", e.SourceID, target)
			require.Equal(t, fmt.Sprintf("round 1 user %05d attribute %02d ", i, a)+strings.Repeat("abcdefghij", 10), p.Old)
		}
		size += encodedLen(t, e)
	}
	require.Greater(t, size, 2<<20, "the cycle's entries are more than one payload can carry")
	require.Equal(t, photo, w.users(t)["wide00007@example.com"].Attributes["displayName"], "the large value itself reached the target")
}

func encodedLen(t *testing.T, e audit.Entry) int {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	return len(b)
}
