package history

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/audit"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/codec"
)

func payload(t *testing.T, v any) []*commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return []*commonpb.Payload{p}
}

func TestResultEntries(t *testing.T) {
	e := sampleEntry()
	got, err := resultEntries(converter.GetDefaultDataConverter(), payload(t, map[string]any{"entries": []audit.Entry{e, e}, "next": "x"}))
	require.NoError(t, err)
	require.Equal(t, []audit.Entry{e, e}, got)

	for name, p := range map[string][]*commonpb.Payload{
		"no result":        nil,
		"nil result":       payload(t, nil),
		"a string":         payload(t, "done"),
		"no entries field": payload(t, map[string]int{"staged": 3}),
	} {
		got, err := resultEntries(converter.GetDefaultDataConverter(), p)
		require.NoError(t, err, name)
		require.Empty(t, got, name)
	}

	_, err = resultEntries(converter.GetDefaultDataConverter(), payload(t, map[string]any{"entries": "not a list"}))
	require.Error(t, err)
}

// Encrypted results read with the client's codec; read without it they
// are an error, not a log with entries missing.
func TestResultEntriesEncrypted(t *testing.T) {
	keys, err := codec.ParseKeys("k1="+base64.StdEncoding.EncodeToString(make([]byte, 32)), "test")
	require.NoError(t, err)
	e := sampleEntry()
	p, err := codec.Codec{Keys: keys}.DataConverter().ToPayload(map[string]any{"entries": []audit.Entry{e}})
	require.NoError(t, err)

	dc := converterOf(WithConverter(nil, codec.Codec{Keys: keys}.DataConverter()))
	got, err := resultEntries(dc, []*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, []audit.Entry{e}, got)
	done, err := codec.Codec{Keys: keys}.DataConverter().ToPayload("done")
	require.NoError(t, err)
	got, err = resultEntries(dc, []*commonpb.Payload{done})
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = resultEntries(converterOf(nil), []*commonpb.Payload{p})
	require.ErrorContains(t, err, "the history is encrypted: give the codec keys")
}

func sampleEntry() audit.Entry {
	return audit.Entry{
		Job: "hr", CycleID: "3-abcdef12", ChangeID: "3-abcdef12-7", ObjectType: "User", SourceID: "E7", Locator: "row 8",
		DisplayName: "Ava, \"the\" Chen", TargetID: "t-7", Action: audit.Update, Status: audit.Success,
		Modified: []audit.Property{{Name: "title", Old: "Engineer", New: "Architect"}, {Name: "mail", New: "ava@example.com"}, {Name: "phone", Old: "123"}},
		Time:     time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
	}
}
