package ldap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// How watermarks are chosen.
//
// A read filters on (delta>=Since) and remembers the highest value it saw.
// Taking that highest value as the next watermark would lose a change made
// during a long read to an entry the read had already passed, whenever an
// entry later in the search order changed after it. So the watermark is
// capped by a limit fixed when the read starts, below any value a change made
// during the read can get:
//   - modifyTimestamp and entryCSN: the client's clock at the start, less
//     clockSkew (the directory's clock may lag ours);
//   - uSNChanged: the rootDSE's highestCommittedUSN at the start, plus one
//     (Active Directory); without it the highest value seen is used, which
//     leaves the race above open.
//
// Below the cap, the watermark is the value just above the highest seen, so
// entries that changed long before the read are not sent again; entries that
// changed close to the read are, which is harmless.
const clockSkew = 5 * time.Minute

// generalizedTime is the form of modifyTimestamp watermarks; whole seconds
// are all OpenLDAP stores.
const generalizedTime = "20060102150405Z"

// csnTime is the time part of an entryCSN ("...Z#count#sid#mod").
const csnTime = "20060102150405.000000Z"

// deltaValue is one value of the delta attribute, comparable within its kind.
type deltaValue struct {
	t   time.Time // modifyTimestamp
	csn string    // entryCSN
	usn int64     // uSNChanged
}

func parseDelta(kind, v string) (deltaValue, error) {
	switch kind {
	case DeltaModifyTimestamp:
		// Go accepts a fraction after the seconds (AD writes ".0Z").
		t, err := time.Parse("20060102150405Z0700", v)
		if err != nil {
			return deltaValue{}, fmt.Errorf("%q is not a generalized time", v)
		}
		return deltaValue{t: t.UTC()}, nil
	case DeltaEntryCSN:
		if len(v) < len(csnTime) {
			return deltaValue{}, fmt.Errorf("%q is not a CSN", v)
		}
		if _, err := time.Parse(csnTime, v[:len(csnTime)]); err != nil {
			return deltaValue{}, fmt.Errorf("%q is not a CSN", v)
		}
		return deltaValue{csn: v}, nil
	case DeltaUSNChanged:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return deltaValue{}, fmt.Errorf("%q is not a USN", v)
		}
		return deltaValue{usn: n}, nil
	}
	return deltaValue{}, fmt.Errorf("no delta attribute")
}

func (a deltaValue) less(b deltaValue) bool {
	return a.t.Before(b.t) || a.csn < b.csn || a.usn < b.usn
}

// String is the value as a filter and a watermark write it.
func (a deltaValue) String() string {
	switch {
	case !a.t.IsZero():
		return a.t.Format(generalizedTime)
	case a.csn != "":
		return a.csn
	}
	return strconv.FormatInt(a.usn, 10)
}

// above returns the smallest value greater than a at the attribute's
// granularity. For a CSN that is the same change with its last field, the
// modification number (six hex digits), one higher.
func (a deltaValue) above() deltaValue {
	switch {
	case !a.t.IsZero():
		return deltaValue{t: a.t.Truncate(time.Second).Add(time.Second)}
	case a.csn != "":
		i := strings.LastIndexByte(a.csn, '#')
		mod, err := strconv.ParseUint(a.csn[i+1:], 16, 24)
		if i < 0 || err != nil || mod == 0xffffff {
			return a // >= then resends this one entry: harmless
		}
		return deltaValue{csn: fmt.Sprintf("%s#%06x", a.csn[:i], mod+1)}
	}
	return deltaValue{usn: a.usn + 1}
}

// timeLimit is the cap for time-based kinds of a read starting at start.
func timeLimit(kind string, start time.Time) string {
	t := start.Add(-clockSkew).UTC()
	switch kind {
	case DeltaModifyTimestamp:
		return t.Format(generalizedTime)
	case DeltaEntryCSN:
		return t.Format(csnTime) + "#000000#000#000000"
	}
	return ""
}

// nextWatermark combines the previous watermark, the highest value seen and
// the cap; all may be empty.
func nextWatermark(kind, since, maxSeen, limit string) string {
	if maxSeen == "" {
		return since
	}
	seen, err := parseDelta(kind, maxSeen)
	if err != nil {
		return since
	}
	w := seen.above()
	if limit != "" {
		if l, err := parseDelta(kind, limit); err == nil && l.less(w) {
			w = l
		}
	}
	if since != "" {
		if s, err := parseDelta(kind, since); err == nil && w.less(s) {
			return since
		}
	}
	return w.String()
}

// higher returns the higher of two delta values, ignoring one that does not
// parse (an entry with a malformed timestamp must not stop the watermark).
func higher(kind, a, b string) string {
	va, errA := parseDelta(kind, a)
	vb, errB := parseDelta(kind, b)
	switch {
	case errB != nil:
		return a
	case errA != nil || va.less(vb):
		return b
	}
	return a
}
