package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"":                     {},
		"90m":                  now.Add(-90 * time.Minute),
		"2026-05-01T08:00:00Z": time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC),
		"2026-05-01":           time.Date(2026, 5, 1, 0, 0, 0, 0, time.Local),
		"2026-05-01 08:30:00":  time.Date(2026, 5, 1, 8, 30, 0, 0, time.Local),
	}
	for in, want := range cases {
		got, err := parseSince(in, now)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: %s", in, got)
	}
	for _, bad := range []string{"yesterday", "-1h", "0s"} {
		_, err := parseSince(bad, now)
		require.True(t, errors.As(err, new(invalidError)), "%s: %v", bad, err)
	}
}

func TestOneOf(t *testing.T) {
	a, err := oneOf("action", "stageddelete", audit.Create, audit.StagedDelete)
	require.NoError(t, err)
	require.Equal(t, audit.StagedDelete, a)
	a, err = oneOf[audit.Action]("action", "")
	require.NoError(t, err)
	require.Empty(t, a)
	_, err = oneOf("action", "Erase", audit.Create, audit.Update)
	require.ErrorContains(t, err, `--action "Erase": use Create, Update`)
	require.True(t, errors.As(err, new(invalidError)))
}

func TestEntryWriters(t *testing.T) {
	e := audit.Entry{Job: "hr", CycleID: "1-abc", ObjectType: "User", SourceID: "E1", DisplayName: "Ava", TargetID: "t1", Action: audit.Create, Status: audit.Success,
		Modified: []audit.Property{{Name: "userName", New: "ava"}, {Name: "title", New: "CEO"}}}
	for format, want := range map[string]string{
		"table": "User E1 (Ava)",
		"csv":   "userName: → ava; title: → CEO",
		"json":  `"sourceId":"E1"`,
	} {
		var b bytes.Buffer
		w, err := newEntryWriter(format, &b)
		require.NoError(t, err)
		require.NoError(t, w.Write(e))
		require.NoError(t, w.Close())
		require.Contains(t, b.String(), want, format)
	}
	var b bytes.Buffer
	w, _ := newEntryWriter("table", &b)
	require.NoError(t, w.Close())
	require.Empty(t, b.String(), "an empty log prints no lone header")
	_, err := newEntryWriter("xml", &b)
	require.True(t, errors.As(err, new(invalidError)))
}
