package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleEntry() Entry {
	return Entry{
		Job: "hr", CycleID: "3-abcdef12", ChangeID: "3-abcdef12-7", ObjectType: "User", SourceID: "E7", Locator: "row 8",
		DisplayName: "Ava, \"the\" Chen", TargetID: "t-7", Action: Update, Status: Success,
		Modified: []Property{{Name: "title", Old: "Engineer", New: "Architect"}, {Name: "mail", New: "ava@example.com"}, {Name: "phone", Old: "123"}},
		Time:     time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
	}
}

func TestFormatModified(t *testing.T) {
	require.Equal(t, "title: Engineer → Architect; mail: → ava@example.com; phone: 123 →", FormatModified(sampleEntry().Modified))
	require.Empty(t, FormatModified(nil))
}

func TestCSVWriterHasStableColumns(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	require.NoError(t, w.Write(sampleEntry()))
	require.NoError(t, w.Close())
	rows, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{Columns, {
		"hr", "3-abcdef12", "3-abcdef12-7", "2026-05-01T10:00:00Z", "User", "E7", "row 8", "Ava, \"the\" Chen",
		"t-7", "Update", "Success", "", "", "title: Engineer → Architect; mail: → ava@example.com; phone: 123 →",
	}}, rows)

	b.Reset()
	require.NoError(t, NewCSVWriter(&b).Close())
	require.Equal(t, "job,cycleId,changeId,time,objectType,sourceId,locator,displayName,targetId,action,status,errorCode,reason,modified\n", b.String())
}

func TestJSONWriterWritesAnArray(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var b bytes.Buffer
		w := NewJSONWriter(&b)
		for i := 0; i < n; i++ {
			require.NoError(t, w.Write(sampleEntry()))
		}
		require.NoError(t, w.Close())
		var got []Entry
		require.NoError(t, json.Unmarshal(b.Bytes(), &got), b.String())
		require.Len(t, got, n)
		if n > 0 {
			require.Equal(t, sampleEntry(), got[0])
		}
	}
}
