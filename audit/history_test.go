package audit

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func payload(t *testing.T, v any) []*commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return []*commonpb.Payload{p}
}

func TestResultEntries(t *testing.T) {
	e := sampleEntry()
	got, err := resultEntries(payload(t, map[string]any{"entries": []Entry{e, e}, "next": "x"}))
	require.NoError(t, err)
	require.Equal(t, []Entry{e, e}, got)

	for name, p := range map[string][]*commonpb.Payload{
		"no result":        nil,
		"nil result":       payload(t, nil),
		"a string":         payload(t, "done"),
		"no entries field": payload(t, map[string]int{"staged": 3}),
	} {
		got, err := resultEntries(p)
		require.NoError(t, err, name)
		require.Empty(t, got, name)
	}

	_, err = resultEntries(payload(t, map[string]any{"entries": "not a list"}))
	require.Error(t, err)
}
