package activities

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/codec"
)

// A batch result written from the entries as recorded reads as one
// encoded whole, which history readers rely on.
func TestBatchResultEncodesEntriesOnce(t *testing.T) {
	entries := []audit.Entry{
		{Job: "j", SourceID: "E1", Action: audit.Create, Status: audit.Success, Time: time.Unix(1, 0).UTC(), Modified: []audit.Property{{Name: "title", New: "<b>&</b>"}}},
		{Job: "j", SourceID: "E2", Action: audit.Other, Status: audit.Failure, ErrorCode: "Conflict", Reason: "exists"},
	}
	r := BatchResult{Entries: entries}
	for _, e := range entries {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		r.encoded = append(r.encoded, b)
	}
	got, err := json.Marshal(r)
	require.NoError(t, err)
	want, err := json.Marshal(struct {
		Summary BatchSummary  `json:"summary"`
		Entries []audit.Entry `json:"entries"`
	}{Summarize(entries), entries})
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.True(t, strings.HasPrefix(string(got), `{"summary":{"taken":2,`), "the summary heads the result: %s", got)

	var back BatchResult
	require.NoError(t, json.Unmarshal(got, &back))
	require.Equal(t, entries, back.Entries)
}

// A batch result that stopped early says where the rest start, in the
// encoding written from the recorded entries too.
func TestBatchResultCarriesNext(t *testing.T) {
	e := audit.Entry{Job: "j", SourceID: "E1", Action: audit.Create, Status: audit.Success}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	got, err := json.Marshal(BatchResult{Entries: []audit.Entry{e}, encoded: [][]byte{b}, Next: 42})
	require.NoError(t, err)
	var back BatchResult
	require.NoError(t, json.Unmarshal(got, &back))
	require.Equal(t, 42, back.Next)
	require.Equal(t, []audit.Entry{e}, back.Entries)

	got, err = json.Marshal(BatchResult{Entries: []audit.Entry{e}, encoded: [][]byte{b}})
	require.NoError(t, err)
	require.NotContains(t, string(got), "next")
}

// The summary counts what the cycle counts: entries by action and status,
// escrowed failures (not invalid records), and a refusal only when every
// call was refused for a cause retrying cannot fix.
func TestSummarize(t *testing.T) {
	refused := audit.Entry{Action: audit.Create, Status: audit.Failure, ErrorCode: "Unauthorized", Reason: "bad token"}
	s := Summarize([]audit.Entry{
		{Action: audit.Create, Status: audit.Success},
		{Action: audit.Create, Status: audit.Failure, ErrorCode: CodeInvalidSourceRecord},
		refused,
	})
	require.Equal(t, BatchSummary{Taken: 3, Counts: audit.Counts{"Create/Success": 1, "Create/Failure": 2}, Failed: 1}, s)

	incompatible := audit.Entry{Action: audit.Update, Status: audit.Failure, ErrorCode: "ServiceIncompatible", Reason: "not SCIM"}
	s = Summarize([]audit.Entry{refused, incompatible})
	require.Equal(t, "ServiceIncompatible: not SCIM", s.Refused)
	require.Equal(t, 2, s.Failed)
	require.Empty(t, Summarize(nil).Refused)
}

// The project's data converter sends a batch result's encoding as it is,
// and decodes it back with the standard JSON decoding; a result without
// recorded encodings is encoded as usual.
func TestBatchResultPayloadIsItsEncoding(t *testing.T) {
	e := audit.Entry{Job: "j", SourceID: "E1", Action: audit.Create, Status: audit.Success, Time: time.Unix(1, 0).UTC()}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	r := BatchResult{Entries: []audit.Entry{e}, encoded: [][]byte{b}, Next: 7}
	var _ codec.EncodedJSON = r
	want, ok := r.EncodedJSON()
	require.True(t, ok)

	dc := codec.Codec{}.DataConverter()
	p, err := dc.ToPayload(r)
	require.NoError(t, err)
	require.Equal(t, want, p.GetData())
	require.Equal(t, converter.MetadataEncodingJSON, string(p.GetMetadata()[converter.MetadataEncoding]))
	var back BatchResult
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, r.Entries, back.Entries)
	require.Equal(t, 7, back.Next)

	_, ok = BatchResult{Entries: []audit.Entry{e}}.EncodedJSON()
	require.False(t, ok)
	p, err = dc.ToPayload(BatchResult{Entries: []audit.Entry{e}})
	require.NoError(t, err)
	back = BatchResult{}
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, []audit.Entry{e}, back.Entries)
}
