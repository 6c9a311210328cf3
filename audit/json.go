package audit

import (
	"strconv"

	"github.com/openprovisioning/provisioner/internal/jsonenc"
)

// AppendJSON appends e's JSON encoding, byte for byte as json.Marshal
// makes it, without reflection: every object a cycle provisions has its
// entry encoded. Like json.Marshal, it fails only on a time outside
// RFC 3339's years, and then appends nothing.
func AppendJSON(b []byte, e *Entry) ([]byte, error) {
	if e == nil {
		return append(b, "null"...), nil
	}
	n0 := len(b)
	b = append(b, `{"job":`...)
	b = jsonenc.AppendString(b, e.Job, true)
	b = append(b, `,"cycleId":`...)
	b = jsonenc.AppendString(b, e.CycleID, true)
	b = append(b, `,"changeId":`...)
	b = jsonenc.AppendString(b, e.ChangeID, true)
	b = append(b, `,"objectType":`...)
	b = jsonenc.AppendString(b, e.ObjectType, true)
	b = append(b, `,"sourceId":`...)
	b = jsonenc.AppendString(b, e.SourceID, true)
	b = appendOptional(b, `,"locator":`, e.Locator)
	b = appendOptional(b, `,"displayName":`, e.DisplayName)
	b = appendOptional(b, `,"targetId":`, e.TargetID)
	b = append(b, `,"action":`...)
	b = jsonenc.AppendString(b, string(e.Action), true)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, string(e.Status), true)
	b = appendOptional(b, `,"errorCode":`, e.ErrorCode)
	b = appendOptional(b, `,"reason":`, e.Reason)
	if len(e.Modified) > 0 {
		b = append(b, `,"modified":[`...)
		for i := range e.Modified {
			p := &e.Modified[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsonenc.AppendString(b, p.Name, true)
			b = appendOptional(b, `,"old":`, p.Old)
			b = appendOptional(b, `,"new":`, p.New)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if e.DryRun {
		b = append(b, `,"dryRun":true`...)
	}
	b = append(b, `,"time":"`...)
	t, err := e.Time.AppendText(b)
	if err != nil {
		return b[:n0], err
	}
	b = append(t, `","durationMs":`...)
	b = strconv.AppendInt(b, e.DurationMs, 10)
	return append(b, '}'), nil
}

// appendOptional appends an omitempty string field: its key and value
// unless the value is empty.
func appendOptional(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return jsonenc.AppendString(append(b, key...), v, true)
}
