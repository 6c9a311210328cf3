package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
)

func TestEntryTableListsEveryDetailOnItsOwnRow(t *testing.T) {
	var b bytes.Buffer
	tb := newEntryTable(&b, false)
	tb.write(audit.Entry{ObjectType: "User", SourceID: "E1", DisplayName: "Ava", TargetID: "t1", Action: audit.Update, Status: audit.Success,
		Modified: []audit.Property{{Name: "title", Old: "Engineer", New: "Architect"}, {Name: "mail", Old: "a@x", New: ""}}})
	tb.write(audit.Entry{ObjectType: "User", Locator: "row 9", Action: audit.Other, Status: audit.Failure, ErrorCode: "InvalidSourceRecord", Reason: "too few\tfields\non row 9"})
	require.NoError(t, tb.flush())
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	require.Regexp(t, `^ACTION\s+STATUS\s+OBJECT\s+TARGET ID\s+DETAILS$`, lines[0])
	require.Regexp(t, `^Update\s+Success\s+User E1 \(Ava\)\s+t1\s+title: Engineer → Architect$`, lines[1])
	require.Regexp(t, `^\s+mail: a@x →$`, lines[2])
	require.Regexp(t, `^Other\s+Failure\s+User row 9\s+InvalidSourceRecord: too few fields on row 9$`, lines[3])
	// Details line up under their column.
	require.Equal(t, strings.Index(lines[1], "title"), strings.Index(lines[2], "mail"))
}

func TestActionSummary(t *testing.T) {
	s := actionSummary{}
	for _, e := range []audit.Entry{
		{Action: audit.Create, Status: audit.Success}, {Action: audit.Create, Status: audit.Success},
		{Action: audit.Other, Status: audit.Skipped}, {Action: audit.Other, Status: audit.Failure},
		{Action: audit.Disable, Status: audit.Failure},
	} {
		s.add(e)
	}
	var b bytes.Buffer
	require.NoError(t, s.print(&b))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	require.Regexp(t, `^  Create\s+2$`, lines[0])
	require.Regexp(t, `^  Disable\s+1\s+\(Failure 1\)$`, lines[1])
	require.Regexp(t, `^  Other\s+2\s+\(Failure 1, Skipped 1\)$`, lines[2])
}
