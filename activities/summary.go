package activities

import (
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// BatchSummary is what a cycle needs of a batch's entries: it heads the
// batch's result, so the workflow reads it without decoding the entries,
// which stay in history for the log. Old results without it are
// summarized from their entries by Summarize, so both ways agree.
type BatchSummary struct {
	// Taken is how many entries the result holds.
	Taken int `json:"taken"`
	// Counts tallies the entries by action and status.
	Counts audit.Counts `json:"counts,omitempty"`
	// Failed counts failures that are escrowed: those of invalid source
	// records are not, as retrying cannot mend them.
	Failed int `json:"failed,omitempty"`
	// Refused is why the target refused every call of the batch (the last
	// refusal's code and reason), for a cause retrying cannot fix; empty
	// when any call was not refused so.
	Refused string `json:"refused,omitempty"`
}

// Summarize summarizes entries as BatchSummary describes.
func Summarize(entries []audit.Entry) BatchSummary {
	s := BatchSummary{Taken: len(entries), Counts: audit.Counts{}}
	refused := 0
	for _, e := range entries {
		s.Counts.Add(e)
		if e.Status == audit.Failure && e.ErrorCode != CodeInvalidSourceRecord {
			s.Failed++
		}
		switch e.ErrorCode {
		case string(connectors.KindUnauthorized), string(connectors.KindServiceIncompatible):
			refused++
			s.Refused = e.ErrorCode + ": " + e.Reason
		}
	}
	if refused == 0 || refused != len(entries) {
		s.Refused = ""
	}
	return s
}
