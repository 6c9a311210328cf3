package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
)

func running(processed int) api.Status {
	return api.Status{Job: "hr", State: api.Running,
		Current: &api.CycleProgress{Number: 2, Kind: api.Incremental, Phase: "Provisioning", Total: 40, Processed: processed}}
}

func idle() api.Status {
	return api.Status{Job: "hr", State: api.Running, NextKind: api.Incremental, NextRun: time.Now().Add(time.Hour),
		LastCycle: &api.CycleSummary{Number: 2, Kind: api.Incremental, Read: 40, Staged: 40, Counts: audit.Counts{"Update/Success": 40}}}
}

func TestSummary(t *testing.T) {
	require.Equal(t, "job hr Running; Incremental cycle 2: Provisioning, 10 of 40 objects", summary(running(10)))
	require.Regexp(t, `^job hr Running; next incremental cycle at \d\d:\d\d:\d\d; last: Incremental cycle 2, 40 read, 40 changed, Update/Success 40$`, summary(idle()))
	st := idle()
	st.State, st.Quarantine, st.LastError = api.Quarantined, &api.Quarantine{Reason: "QuarantinedOnDemand"}, "cycle 3: boom"
	require.Contains(t, summary(st), "quarantined: QuarantinedOnDemand; last error: cycle 3: boom")
}

func TestLineViewPrintsChangesOnly(t *testing.T) {
	var b bytes.Buffer
	v := newView(&b, false)
	for _, st := range []api.Status{running(10), running(10), running(20), idle(), idle()} {
		v.show(st)
	}
	v.problem(errors.New("no worker"))
	v.problem(errors.New("no worker"))
	v.close()
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	require.Contains(t, lines[1], "20 of 40 objects")
	require.Contains(t, lines[3], "error: no worker")
}

func TestJSONViewPrintsOneObjectPerChange(t *testing.T) {
	var b bytes.Buffer
	v := newView(&b, true)
	v.show(running(10))
	v.show(running(10))
	v.show(running(30))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	var st api.Status
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &st))
	require.Equal(t, 30, st.Current.Processed)
}

func TestBarViewDrawsCyclesAndLinesBetween(t *testing.T) {
	var b bytes.Buffer
	v := &barView{w: &b}
	fetching := running(0)
	fetching.Current.Total, fetching.Current.Phase = 0, "Fetching"
	for _, st := range []api.Status{fetching, running(10), running(40), idle()} {
		v.show(st)
	}
	v.close()
	out := b.String()
	require.Contains(t, out, "Incremental cycle 2: Fetching")
	require.Contains(t, out, "(40/40")
	require.Contains(t, out, "100%")
	require.Contains(t, out, "last: Incremental cycle 2")
}
