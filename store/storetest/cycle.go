package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// BenchInitialCycle drives a store the way an initial cycle of n users
// does, each with a dozen attributes, and extra more that are mapped too: the fetch stages pages of 1,000 objects, then each batch of 250
// reads its items and the objects' states, records its pending creates
// before pushing, and records the created objects' states and log
// entries once done (a batch records what finished at every heartbeat,
// every 10 s, and at its end: an initial cycle's batch ends well before
// its first); the cycle's end drops its staging area. It reports the CPU time the process spends per object (a
// shared machine's wall clock says little), in all and by step, from a
// fresh store for each cycle.
func BenchInitialCycle(b *testing.B, open func(b *testing.B) store.Store, n, extra int) {
	const page, batch = 1000, 250
	ctx := b.Context()
	steps := []string{"stage", "staged", "objects", "pending", "final", "end"}
	spent := make([]time.Duration, len(steps))
	allocs := make([]uint64, len(steps))
	var ms runtime.MemStats
	timed := func(step int, fn func() error) {
		b.Helper()
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		start := cpuTime()
		err := fn()
		spent[step] += cpuTime() - start
		runtime.ReadMemStats(&ms)
		allocs[step] += ms.Mallocs - before
		require.NoError(b, err)
	}
	b.StopTimer()
	for range b.N {
		s := open(b)
		c := store.Cycle{Job: "bench", ID: "1"}
		for from := 0; from < n; from += page {
			items := make([]store.StagedItem, 0, page)
			ids := make([]string, 0, page)
			for i := from; i < min(from+page, n); i++ {
				o := employee(i, extra)
				items = append(items, store.StagedItem{Seq: i + 1, Type: connectors.User, Object: o})
				ids = append(ids, o.ID)
			}
			timed(0, func() error {
				if _, err := s.Fingerprints(ctx, c.Job, connectors.User, ids); err != nil {
					return err
				}
				if err := s.Stage(ctx, c, items); err != nil {
					return err
				}
				return s.MarkSeen(ctx, c, connectors.User, ids)
			})
		}
		for from := 1; from <= n; from += batch {
			var items []store.StagedItem
			timed(1, func() (err error) {
				items, err = s.Staged(ctx, c, from, min(from+batch-1, n))
				return err
			})
			ids := make([]string, len(items))
			for i, it := range items {
				ids[i] = it.Object.ID
			}
			timed(2, func() error {
				_, err := s.Objects(ctx, c.Job, connectors.User, ids)
				return err
			})
			pending := make([]store.Record, len(items))
			final := make([]store.Record, len(items))
			for i, it := range items {
				pending[i].State, final[i] = created(c, it)
			}
			timed(3, func() error { return s.Record(ctx, c, pending) })
			timed(4, func() error { return s.Record(ctx, c, final) })
		}
		timed(5, func() error { return s.EndCycle(ctx, c) })
		require.NoError(b, s.Close())
	}
	var total time.Duration
	var totalAllocs uint64
	objects := float64(n * b.N)
	for i, step := range steps {
		total += spent[i]
		totalAllocs += allocs[i]
		b.ReportMetric(float64(spent[i].Nanoseconds())/objects, "ns/"+step)
	}
	b.ReportMetric(float64(total.Nanoseconds())/objects, "ns/object")
	b.ReportMetric(float64(totalAllocs)/objects, "allocs/object")
}

// benchNames have diacritics, as many staff names do.
var benchNames = []string{"Ann", "José", "Zoë", "Björn", "Łukasz", "Mary", "Wei", "Siobhán"}

// employee is source record i of a generated HR export, with its IDs in
// the form the example export has.
func employee(i, extra int) connectors.Object {
	id := fmt.Sprintf("E%05d", i+1)
	given, sur := benchNames[i%len(benchNames)], benchNames[(i/8)%len(benchNames)]+"son"
	user := fmt.Sprintf("%s.%s%d", given, sur, i)
	o := connectors.Object{ID: id, Locator: "row " + strconv.Itoa(i+2), Attributes: connectors.Attributes{
		"employeeId": id, "userName": user, "givenName": given, "surname": sur, "displayName": given + " " + sur,
		"email": user + "@example.com", "department": "Engineering", "jobTitle": "Software Engineer", "managerId": "E00001",
		"status": "Active", "office": "São Paulo", "employeeType": "Employee"}}
	for k := range extra {
		o.Attributes[fmt.Sprintf("extension%02d", k)] = fmt.Sprintf("value %d of %s", k, id)
	}
	return o
}

// created returns the pending create of a staged user and the state and
// log entry recorded once it was created, as the benchmark's job maps it.
func created(c store.Cycle, it store.StagedItem) (*store.ObjectState, store.Record) {
	a := it.Object.Attributes
	const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	pushed := connectors.Attributes{"userName": a["userName"], "externalId": it.Object.ID, "name.givenName": a["givenName"],
		"name.familyName": a["surname"], "displayName": a["displayName"], `emails[type eq "work"].value`: a["email"],
		"title": a["jobTitle"], enterprise + "department": a["department"], enterprise + "employeeNumber": it.Object.ID}
	for k, v := range a {
		if strings.HasPrefix(k, "extension") {
			pushed[enterprise+k] = v
		}
	}
	props := []audit.Property{}
	for _, k := range slices.Sorted(maps.Keys(pushed)) {
		props = append(props, audit.Property{Name: k, New: pushed[k].(string)})
	}
	changeID := c.ID + "-" + strconv.Itoa(it.Seq)
	now := time.Now().UTC()
	pending := &store.ObjectState{Type: it.Type, SourceID: it.Object.ID,
		Operation: &store.Operation{ChangeID: changeID, Action: audit.Create, Modified: props, Time: now}}
	target := fmt.Sprintf("%08x-4e2b-4c1d-9a7f-%012d", it.Seq, it.Seq)
	entry := audit.Entry{Job: c.Job, CycleID: c.ID, ChangeID: changeID, ObjectType: string(it.Type), SourceID: it.Object.ID, TargetID: target,
		Action: audit.Create, Status: audit.Success, Locator: it.Object.Locator, Time: now, DurationMs: 3, Modified: props}
	outcome, err := json.Marshal(entry)
	if err != nil {
		panic(err)
	}
	final := &store.ObjectState{Type: it.Type, SourceID: it.Object.ID, SourceHash: "3f2a9c0d1e8b7a6f", TargetID: target, Active: true,
		Pushed: pushed, UpdatedAt: now}
	return pending, store.Record{Seq: it.Seq, Outcome: outcome, State: final, Type: it.Type, SourceID: it.Object.ID}
}
