package store

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/jsonenc"
)

// AppendJSON appends v's JSON encoding, byte for byte as json.Marshal
// makes it. The shapes object values take (strings, booleans, lists of
// strings, attribute maps) are encoded without reflection, since every
// object read is fingerprinted and every object pushed has its values
// stored; any other value goes through encoding/json.
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case EncodedJSON:
		return append(b, x...), nil
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

// EncodedJSON is a value's encoding as AppendJSON writes it, which
// AppendJSON then writes as it is.
type EncodedJSON string

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

// appendJSONString appends a string's encoding as encoding/json escapes
// it (HTML characters, control characters, invalid UTF-8, U+2028), also
// for the names with diacritics sources are full of.
func appendJSONString(b []byte, s string) []byte {
	return jsonenc.AppendString(b, s, true)
}

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
