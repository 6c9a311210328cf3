package engine

import (
	"cmp"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/jsonenc"
)

// ResultBudget is how many bytes of encoded log entries one activity
// result is filled to; it holds half as much again at most, should the
// entries of the items in flight as it fills all be of EntryLimit (see
// budget). Temporal refuses a payload over 2 MB, and would refuse it
// after the changes it logs were pushed; the rest leaves room for the
// rest of the result and for an entry larger than it should be.
const ResultBudget = 1 << 20

// valueLimit is the longest value a log entry holds whole; a longer one
// (a photo, a huge multi-valued attribute) is logged as its audit.Summary.
const valueLimit = 4 << 10

// EntryLimit bounds one encoded log entry: an object with very many
// large values has its longest ones logged as their audit.Summary until
// its entry fits. A result keeps room for one such entry per item in
// flight within half a budget more than its own.
const EntryLimit = 32 << 10

// reasonKept is how much of a reason longer than valueLimit (an error page
// quoted whole) the entry keeps before the whole reason's Summary.
const reasonKept = 1 << 10

// FitEntry bounds what one log entry holds: values longer than valueLimit
// are logged as their length and hash, and, while the entry is over
// EntryLimit, so are its longest values. Nothing is cut silently: every
// value left out is named by its Summary. It returns the entry's
// encoding, which measuring its size made: the entry is encoded once for
// the state store and the activity result, and again only when shed.
func FitEntry(e *audit.Entry) []byte {
	e.DisplayName = LoggedValue(e.DisplayName)
	if len(e.Reason) > valueLimit {
		kept := reasonKept
		for !utf8.RuneStart(e.Reason[kept]) {
			kept--
		}
		e.Reason = e.Reason[:kept] + "… " + audit.Summary(e.Reason)
	}
	// The properties may be shared (with the operation recorded before
	// the push): they are copied before any is shortened.
	if slices.ContainsFunc(e.Modified, func(p audit.Property) bool { return len(p.Old) > valueLimit || len(p.New) > valueLimit }) {
		e.Modified = slices.Clone(e.Modified)
		summarizeLong(e.Modified)
	}
	encoded := encodeEntry(e)
	if over := len(encoded) - EntryLimit; over > 0 {
		props := slices.Clone(e.Modified)
		if shed(props, over) {
			e.Modified = props
			encoded = encodeEntry(e)
		}
	}
	return encoded
}

// encodeEntry returns e's JSON encoding, nil when it has none (a time out
// of RFC 3339's years), as json.Marshal would.
func encodeEntry(e *audit.Entry) []byte {
	// Room for the usual entry, escapes aside, so it is not regrown.
	size := 256 + len(e.Job) + len(e.CycleID) + len(e.ChangeID) + len(e.ObjectType) + len(e.SourceID) +
		len(e.Locator) + len(e.DisplayName) + len(e.TargetID) + len(e.ErrorCode) + len(e.Reason)
	for _, p := range e.Modified {
		size += 24 + len(p.Name) + len(p.Old) + len(p.New)
	}
	encoded, err := audit.AppendJSON(make([]byte, 0, size), e)
	if err != nil {
		return nil
	}
	return encoded
}

// FitProperties bounds a list of values shown beside the log entries (an
// on-demand import step) as fitEntry bounds an entry's.
func FitProperties(props []audit.Property) {
	summarizeLong(props)
	shed(props, EncodedSize(props)-EntryLimit)
}

// summarizeLong logs each value longer than valueLimit as its Summary.
func summarizeLong(props []audit.Property) {
	for i := range props {
		props[i].Old, props[i].New = LoggedValue(props[i].Old), LoggedValue(props[i].New)
	}
}

// shed logs the longest values of props as their Summary until their
// encoding is over bytes shorter, or no value is longer than its Summary,
// and reports whether it changed any.
func shed(props []audit.Property, over int) (changed bool) {
	if over <= 0 {
		return false
	}
	type value struct {
		s    *string
		size int
	}
	var values []value
	for i := range props {
		for _, s := range []*string{&props[i].Old, &props[i].New} {
			values = append(values, value{s, EncodedSize(*s)})
		}
	}
	slices.SortStableFunc(values, func(a, b value) int { return cmp.Compare(b.size, a.size) })
	for _, v := range values {
		s := audit.Summary(*v.s)
		saved := v.size - EncodedSize(s)
		if over <= 0 || saved <= 0 {
			return changed
		}
		over -= saved
		*v.s, changed = s, true
	}
	return changed
}

// LoggedValue is how a value appears in the log: whole, or as its Summary
// when longer than valueLimit.
func LoggedValue(v string) string {
	if len(v) > valueLimit {
		return audit.Summary(v)
	}
	return v
}

// EncodedSize is the length of v's JSON encoding. Entries and strings,
// measured for every entry of a phase and every value shed, are encoded
// without reflection.
func EncodedSize(v any) int {
	var b []byte
	switch x := v.(type) {
	case *audit.Entry:
		b, _ = audit.AppendJSON(make([]byte, 0, 1024), x)
	case string:
		b = jsonenc.AppendString(make([]byte, 0, len(x)+2), x, true)
	default:
		b, _ = json.Marshal(v)
	}
	return len(b)
}
