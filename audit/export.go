package audit

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"time"
)

// Columns are the export columns of the provisioning log. Scripts read them
// by name and position, so new columns only ever go at the end.
var Columns = []string{
	"job", "cycleId", "changeId", "time", "objectType", "sourceId", "locator", "displayName",
	"targetId", "action", "status", "errorCode", "reason", "modified",
}

// Row is the entry as export columns.
func (e Entry) Row() []string {
	return []string{
		e.Job, e.CycleID, e.ChangeID, e.Time.UTC().Format(time.RFC3339Nano), e.ObjectType, e.SourceID, e.Locator, e.DisplayName,
		e.TargetID, string(e.Action), string(e.Status), e.ErrorCode, e.Reason, FormatModified(e.Modified),
	}
}

// FormatModified writes modified properties as "name: old → new; ...",
// leaving out an empty side (a value set on create, a value cleared).
func FormatModified(ps []Property) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// String writes the property as "name: old → new".
func (p Property) String() string {
	return p.Name + ": " + strings.TrimSpace(p.Old+" → "+p.New)
}

// CSVWriter writes entries as CSV under a header row of Columns.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer of CSV entries to w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one entry, after the header row the first time.
func (c *CSVWriter) Write(e Entry) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.w.Write(e.Row())
}

// Close writes the header row when no entry was written and flushes.
func (c *CSVWriter) Close() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(Columns)
}

// JSONWriter writes entries as one JSON array, one entry per line, without
// holding them in memory.
type JSONWriter struct {
	w     io.Writer
	count int
}

// NewJSONWriter returns a writer of a JSON array of entries to w.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{w: w} }

// Write writes one entry.
func (j *JSONWriter) Write(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	sep := ",\n  "
	if j.count == 0 {
		sep = "[\n  "
	}
	j.count++
	_, err = io.WriteString(j.w, sep+string(b))
	return err
}

// Close ends the array; with no entry written it writes an empty array.
func (j *JSONWriter) Close() error {
	end := "\n]\n"
	if j.count == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}
