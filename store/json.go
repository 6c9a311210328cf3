package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// AppendJSON appends v's JSON encoding, byte for byte as json.Marshal
// makes it. The shapes object values take (strings, booleans, lists of
// strings, attribute maps) are encoded without reflection, since every
// object read is fingerprinted and every object pushed has its values
// stored; any other value goes through encoding/json.
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	case connectors.Attributes:
		return appendJSONObject(b, x)
	case map[string]any:
		return appendJSONObject(b, x)
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// appendJSONObject appends a map's encoding, its keys in byte order.
func appendJSONObject(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = AppendJSON(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends a string's encoding: printable ASCII that
// needs no escape and valid UTF-8 beyond ASCII (names with accents) as
// they are, anything else as encoding/json escapes it (HTML characters,
// control characters, invalid UTF-8, U+2028 and U+2029).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		if plainJSON[s[i]] {
			i++
			continue
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if r < utf8.RuneSelf || r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON marks the bytes a JSON string holds unescaped.
var plainJSON = func() (plain [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		plain[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return plain
}()

// AppendOperationJSON appends op's JSON encoding, byte for byte as
// json.Marshal makes it, without reflection: every create records its
// operation before its push.
func AppendOperationJSON(b []byte, op *Operation) ([]byte, error) {
	if op == nil {
		return append(b, "null"...), nil
	}
	b = append(b, `{"changeId":`...)
	b = appendJSONString(b, op.ChangeID)
	b = append(b, `,"action":`...)
	b = appendJSONString(b, string(op.Action))
	if op.TargetID != "" {
		b = append(b, `,"targetId":`...)
		b = appendJSONString(b, op.TargetID)
	}
	if len(op.Modified) > 0 {
		b = append(b, `,"modified":[`...)
		for i, p := range op.Modified {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, p.Name)
			if p.Old != "" {
				b = append(b, `,"old":`...)
				b = appendJSONString(b, p.Old)
			}
			if p.New != "" {
				b = append(b, `,"new":`...)
				b = appendJSONString(b, p.New)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if op.Done {
		b = append(b, `,"done":true`...)
	}
	t, err := op.Time.MarshalJSON()
	if err != nil {
		return b, err // a year out of JSON's range, as json.Marshal refuses
	}
	b = append(append(b, `,"time":`...), t...)
	return append(b, '}'), nil
}
