package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"sync"

	"github.com/openprovisioning/provisioner/connectors"
)

// Fingerprint hashes values, for change detection and cache keys: the
// SHA-256 of each value's JSON encoding followed by a newline, as
// encoding/json's Encoder writes it, so fingerprints stored by earlier
// versions still match. The shapes a source record is made of (strings,
// booleans, lists of strings, attribute maps) are encoded here without
// reflection, since every row of every snapshot read is fingerprinted;
// any other value goes through encoding/json.
func Fingerprint(parts ...any) string {
	buf := fingerprintBuffers.Get().(*[]byte)
	b := (*buf)[:0]
	for _, p := range parts {
		// A value the encoder cannot encode, it writes nothing of.
		if enc, err := appendFingerprinted(b, p); err == nil {
			b = append(enc, '\n')
		}
	}
	sum := sha256.Sum256(b)
	*buf = b
	fingerprintBuffers.Put(buf)
	return hex.EncodeToString(sum[:12])
}

var fingerprintBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendFingerprinted appends v's JSON encoding, as json.Marshal makes it.
func appendFingerprinted(b []byte, v any) ([]byte, error) {
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
		if b, err = appendFingerprinted(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends a string's encoding: printable ASCII that
// needs no escape as it is, anything else as encoding/json escapes it
// (HTML characters, control characters, invalid UTF-8, U+2028).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
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
