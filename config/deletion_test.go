package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
)

func TestDeletionGuardOnByDefault(t *testing.T) {
	j, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	var g *config.DeletionThreshold = j.Options.DeletionThreshold
	require.Nil(t, g, "not configured")
	require.NotEmpty(t, g.Hold([]config.Removals{{Type: "User", Removals: 1720, Linked: 1720}}), "an unconfigured job holds mass disables")
}

func TestDeletionGuardThresholds(t *testing.T) {
	var def *config.DeletionThreshold
	for _, tc := range []struct {
		name string
		g    *config.DeletionThreshold
		r    []config.Removals
		hold string
	}{
		{"one leaver of many, as a delta source reports it", def, []config.Removals{{Type: "User", Removals: 1, Linked: 400}}, ""},
		{"one leaver of one read by a delta source is not 100%", def, []config.Removals{{Type: "User", Removals: 1, Linked: 3}}, ""},
		{"at most the minimum is never a share", def, []config.Removals{{Type: "User", Removals: 10, Linked: 12}}, ""},
		{"over 20% of linked and over 10", def, []config.Removals{{Type: "User", Removals: 11, Linked: 50}}, "11 of the 50 User objects"},
		{"20% exactly goes ahead", def, []config.Removals{{Type: "User", Removals: 20, Linked: 100}}, ""},
		{"500 in all, whatever the share", def, []config.Removals{{Type: "User", Removals: 300, Linked: 100000}, {Type: "Group", Removals: 200, Linked: 100000}}, "500 objects"},
		{"each type against its own linked objects", def, []config.Removals{{Type: "User", Removals: 5, Linked: 1000}, {Type: "Group", Removals: 12, Linked: 20}}, "12 of the 20 Group objects"},
		{"an empty snapshot read holds even a few", def, []config.Removals{{Type: "User", Removals: 3, Linked: 3, ReadEmpty: true}}, "returned no User objects"},
		{"configured count", &config.DeletionThreshold{Count: 5}, []config.Removals{{Type: "User", Removals: 5, Linked: 100000}}, "5 objects"},
		{"configured percent", &config.DeletionThreshold{Percent: 50, Minimum: 1}, []config.Removals{{Type: "User", Removals: 40, Linked: 100}}, ""},
		{"off", &config.DeletionThreshold{Off: true}, []config.Removals{{Type: "User", Removals: 9999, Linked: 9999, ReadEmpty: true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.g.Hold(tc.r)
			if tc.hold == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, tc.hold)
		})
	}
}

func TestDeletionThresholdConfiguration(t *testing.T) {
	parse := func(t *testing.T, option string) *config.Job {
		t.Helper()
		j, err := config.Parse([]byte(valid + "options:\n  deletionThreshold: " + option + "\n"))
		require.NoError(t, err)
		return j
	}
	off := parse(t, "off")
	require.True(t, off.Options.DeletionThreshold.Off)
	set := parse(t, "{count: 50, percent: 5, minimum: 2}")
	require.Equal(t, config.DeletionThreshold{Count: 50, Percent: 5, Minimum: 2}, *set.Options.DeletionThreshold)

	// The configuration travels as JSON in workflow inputs: off survives it.
	for _, j := range []*config.Job{off, set} {
		b, err := json.Marshal(j)
		require.NoError(t, err)
		var back config.Job
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, *j.Options.DeletionThreshold, *back.Options.DeletionThreshold)
	}

	_, err := config.Parse([]byte(valid + "options:\n  deletionThreshold: sometimes\n"))
	require.ErrorContains(t, err, "deletionThreshold must be off")
	j, err := config.Parse([]byte(valid + "options:\n  deletionThreshold: {percent: 120}\n"))
	if err == nil {
		err = j.Validate()
	}
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "options.deletionThreshold"), err.Error())
}
