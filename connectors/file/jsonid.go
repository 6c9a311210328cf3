package file

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// A JSON record's ID is inside it: asking whether the caller holds the
// record unchanged (connectors.ReadRequest.Unchanged) needs the ID before
// the record is decoded. scanID finds it in the record's bytes without
// decoding them. It gives up on anything unusual (an escaped key or ID, a
// key given twice, a value of another kind); the record is then decoded
// as always. A wrong answer could only miss: a record is left unbuilt
// when the read holds a record of that ID with the same hash, and the
// hash is of these very bytes, whose ID the decoder found then.

// scanID returns the text of the top-level field key of a JSON object, a
// string (trimmed, as jsonID trims it) or a number's literal.
func scanID(b []byte, key string) (string, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return "", false
	}
	id, found := "", false
	for i < len(b) {
		k, end, ok := plainString(b, i)
		if !ok {
			return "", false
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return "", false
		}
		i = skipSpace(b, i+1)
		if string(k) == key {
			if found {
				return "", false
			}
			found = true
			if id, end, ok = idValue(b, i); !ok {
				return "", false
			}
		} else if end, ok = skipValue(b, i); !ok {
			return "", false
		}
		i = skipSpace(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return id, found
		default:
			return "", false
		}
	}
	return "", false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string without escapes, of valid UTF-8, at b[i],
// returning its bytes and where it ends.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	j := i + 1
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' || b[j] < 0x20 {
			return nil, 0, false
		}
		j++
	}
	// The decoder replaces invalid UTF-8.
	if j >= len(b) || !utf8.Valid(b[i+1:j]) {
		return nil, 0, false
	}
	return b[i+1 : j], j + 1, true
}

// idValue reads an ID: a string without escapes, or a number.
func idValue(b []byte, i int) (string, int, bool) {
	if i < len(b) && b[i] == '"' {
		s, end, ok := plainString(b, i)
		return strings.TrimSpace(string(s)), end, ok
	}
	j := i
	for j < len(b) && (b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] >= '0' && b[j] <= '9') {
		j++
	}
	if j == i {
		return "", 0, false
	}
	return string(b[i:j]), j, true
}

// skipValue returns where the value at b[i] ends: at the comma or brace
// after it. Its syntax is checked no further than finding its end.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, false
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true
			}
			depth--
		case ',':
			if depth == 0 {
				return i, true
			}
		}
	}
	return 0, false
}

// jsonRecordHash hashes a JSON record's bytes, trimmed, with what the read
// makes of them (connectors.Object's RecordHash).
func (sh *shape) jsonRecordHash(b []byte) uint64 {
	if sh.keyGen != sh.wantGen || sh.key == 0 {
		k := appendField(nil, sh.IDColumn)
		k = appendField(k, sh.DisabledColumn)
		k = appendField(k, sh.MembersColumn)
		for _, v := range sh.disabled {
			k = appendField(k, v)
		}
		k = append(k, flagByte(sh.want == nil))
		for _, name := range sh.wantFor {
			k = appendField(k, name)
		}
		sh.key, sh.keyGen = maphash.Bytes(recordSeed, k), sh.wantGen
	}
	var h maphash.Hash
	h.SetSeed(recordSeed)
	var k [8]byte
	binary.LittleEndian.PutUint64(k[:], sh.key)
	h.Write(k[:])
	h.Write(b)
	return max(h.Sum64(), 1)
}

// decoded returns the JSON Lines record n of trimmed bytes b: unbuilt
// when the read's caller holds it unchanged, decoded otherwise, with its
// hash either way. b holds one JSON value: more is an invalid record.
// (The records of a JSON document are decoded as the document is read:
// taking their bytes first would cost a full read more than it spares.)
func (sh *shape) decoded(n int64, b []byte) record {
	h := sh.jsonRecordHash(b)
	if rec, ok := sh.held(n, b, h); ok {
		return rec
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return sh.invalid(n, "", "not valid JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return sh.invalid(n, "", "more than one JSON value on the line")
	}
	rec := sh.object(n, v)
	if rec.obj.Invalid == "" && rec.obj.Attributes != nil {
		rec.obj.RecordHash = h
	}
	return rec
}

// held returns the record at n, unbuilt, when the read's caller holds it
// unchanged: its ID is found in its bytes b, whose hash is h.
func (sh *shape) held(n int64, b []byte, h uint64) (record, bool) {
	if sh.unchanged == nil {
		return record{}, false
	}
	id, ok := scanID(b, sh.IDColumn)
	if !ok || id == "" || sh.bare(id) || !sh.unchanged(id, h) {
		return record{}, false
	}
	return record{n: n, anchored: true, obj: connectors.Object{ID: id, RecordHash: h, Unchanged: true}}, true
}
