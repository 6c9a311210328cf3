package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
)

// readBatchResult reads what the cycle needs of a batch's result: the
// summary that heads it, and where the items it left start. Only the head
// is decoded: the entries, most of the result, are for the log, and
// decoding them cost the workflow as much CPU as the rest of its work.
// A result recorded before the summary is summarized from its entries.
func readBatchResult(p *commonpb.Payload) (activities.BatchSummary, int, error) {
	if string(p.GetMetadata()[converter.MetadataEncoding]) == converter.MetadataEncodingJSON {
		if s, next, ok := readHead(p.GetData()); ok {
			return s, next, nil
		}
	}
	var res batchOutcome
	if err := converter.GetDefaultDataConverter().FromPayload(p, &res); err != nil {
		return activities.BatchSummary{}, 0, fmt.Errorf("read the batch's result: %w", err)
	}
	entries := make([]audit.Entry, len(res.Entries))
	for i, o := range res.Entries {
		entries[i] = o.entry()
	}
	return activities.Summarize(entries), res.Next, nil
}

// readHead decodes the summary and Next that head a result, stopping at
// its entries; ok is false when the result has no summary before them.
// Decoding is a function of the bytes alone; the checker flags
// encoding/json for the map iteration inside it.
//
//workflowcheck:ignore
func readHead(data []byte) (s activities.BatchSummary, next int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return s, 0, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return s, 0, false
		}
		switch t {
		case "summary":
			if dec.Decode(&s) != nil {
				return s, 0, false
			}
			ok = true
		case "next":
			if dec.Decode(&next) != nil {
				return s, 0, false
			}
		default:
			return s, next, ok
		}
	}
	return s, next, ok
}

// batchOutcome is what the cycle reads of a batch's result recorded
// before results were headed by their summary.
type batchOutcome struct {
	Entries []entryOutcome `json:"entries"`
	Next    int            `json:"next,omitempty"`
}

// entryOutcome holds the fields of a log entry the cycle counts and checks.
type entryOutcome struct {
	Action    audit.Action `json:"action"`
	Status    audit.Status `json:"status"`
	ErrorCode string       `json:"errorCode,omitempty"`
	Reason    string       `json:"reason,omitempty"`
}

func (o entryOutcome) entry() audit.Entry {
	return audit.Entry{Action: o.Action, Status: o.Status, ErrorCode: o.ErrorCode, Reason: o.Reason}
}
