package file

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// record is one record read from the file.
type record struct {
	obj connectors.Object
	n   int64 // row, record or line number, for messages
	// anchored is false when obj.ID is made up because the record had none.
	anchored bool
}

// shape turns a record's values into an Object for one read.
type shape struct {
	*settings
	word    string          // what a record is called: row, record, line
	want    map[string]bool // attributes to return; nil for all
	wantFor []string        // the names want was made from
	wantGen int             // counts changes of want, for the columns kept of it
	idsOnly bool            // return IDs only, for scanning
	only    string          // when set, other records come back with their ID only
	// unchanged is the read's connectors.ReadRequest.Unchanged; key hashes
	// what the read makes of a JSON record, for want of generation keyGen.
	unchanged func(id string, hash uint64) bool
	key       uint64
	keyGen    int
}

// recordSeed seeds records' hashes (connectors.Object.RecordHash), which
// are compared within the worker process alone.
var recordSeed = maphash.MakeSeed()

// appendField appends a length-prefixed field, so that no two lists of
// fields append the same bytes.
func appendField(b []byte, f string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

func flagByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// setWant sets the attributes to return; a read asks for the same ones
// with every page, and they are not made again then.
func (sh *shape) setWant(names []string) {
	if sh.wantGen > 0 && slices.Equal(names, sh.wantFor) {
		return
	}
	sh.want, sh.wantFor = wanted(names), slices.Clone(names)
	sh.wantGen++
}

func newShape(s *settings) *shape {
	word := map[string]string{CSV: "row", JSON: "record", JSONL: "line"}[s.format]
	return &shape{settings: s, word: word}
}

func wanted(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (sh *shape) keep(name string) bool { return sh.want == nil || sh.want[name] }

// bare reports whether the record with this ID is returned with its ID only.
func (sh *shape) bare(id string) bool { return sh.idsOnly || (sh.only != "" && id != sh.only) }

func (sh *shape) locator(n int64) string {
	b := make([]byte, 0, 24)
	b = append(append(b, sh.word...), ' ')
	return string(strconv.AppendInt(b, n, 10))
}

// invalid is a record that fails alone. Without an ID it gets a made-up one
// ("row:17") so it can still be reported.
func (sh *shape) invalid(n int64, id, reason string) record {
	loc := sh.locator(n)
	rec := record{n: n, anchored: id != ""}
	if id == "" {
		id = sh.word + ":" + strconv.FormatInt(n, 10)
	}
	rec.obj = connectors.Object{ID: id, Locator: loc, Invalid: loc + ": " + reason}
	return rec
}

func (sh *shape) isDisabled(v string) bool {
	v = strings.TrimSpace(v)
	for _, d := range sh.disabled {
		if strings.EqualFold(v, d) {
			return true
		}
	}
	return false
}

// splitMembers reads a ";"-separated list of member IDs.
func splitMembers(v string) []string {
	var out []string
	for m := range strings.SplitSeq(v, ";") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}
