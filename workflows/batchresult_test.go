package workflows

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
)

func payloadOf(t *testing.T, v any) *converter.RawValue {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	raw := converter.NewRawValue(p)
	return &raw
}

// A result headed by its summary is read from the head alone: entries that
// would not even decode are not looked at.
func TestReadBatchResultReadsTheHead(t *testing.T) {
	head := `{"summary":{"taken":2,"counts":{"Create/Success":2}},"next":7,"entries":[{"action":12}]}`
	raw := payloadOf(t, json.RawMessage(head))
	s, next, err := readBatchResult(raw.Payload())
	require.NoError(t, err)
	require.Equal(t, activities.BatchSummary{Taken: 2, Counts: audit.Counts{"Create/Success": 2}}, s)
	require.Equal(t, 7, next)
}

// A result recorded before summaries is summarized from its entries, as
// the cycle counted them then.
func TestReadBatchResultSummarizesOldResults(t *testing.T) {
	old := batchOutcome{Entries: []entryOutcome{
		{Action: audit.Create, Status: audit.Success},
		{Action: audit.Update, Status: audit.Failure, ErrorCode: "Unauthorized", Reason: "no"},
	}, Next: 3}
	raw := payloadOf(t, old)
	s, next, err := readBatchResult(raw.Payload())
	require.NoError(t, err)
	require.Equal(t, 3, next)
	require.Equal(t, activities.BatchSummary{Taken: 2, Counts: audit.Counts{"Create/Success": 1, "Update/Failure": 1}, Failed: 1}, s)
}

// What a batch writes is what the cycle reads.
func TestReadBatchResultOfABatch(t *testing.T) {
	entries := []audit.Entry{{Action: audit.Create, Status: audit.Success}, {Action: audit.Other, Status: audit.Skipped}}
	raw := payloadOf(t, activities.BatchResult{Entries: entries, Next: 9})
	s, next, err := readBatchResult(raw.Payload())
	require.NoError(t, err)
	require.Equal(t, 9, next)
	require.Equal(t, activities.Summarize(entries), s)
}
