package ldap

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"
)

// isGUID reports whether an attribute holds AD's 16-byte binary GUID.
func isGUID(attr string) bool { return strings.EqualFold(attr, "objectGUID") }

// formatGUID renders AD's binary GUID the way AD tools show it: the first
// three fields are stored little-endian, the last eight bytes as they are.
func formatGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, not 16", len(b))
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8:10], b[10:]), nil
}

// parseGUID is the inverse of formatGUID.
func parseGUID(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 || len(s) != 36 {
		return nil, fmt.Errorf("%q is not a GUID", s)
	}
	return []byte{h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6],
		h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]}, nil
}

// idCodec reads and finds objects by their ID attribute.
type idCodec struct{ attr string }

// of returns the entry's ID, or an error saying why the entry has none.
func (c idCodec) of(e *goldap.Entry) (string, error) {
	raw := e.GetEqualFoldRawAttributeValues(c.attr)
	switch {
	case len(raw) == 0:
		return "", fmt.Errorf("entry has no %s", c.attr)
	case len(raw) > 1:
		return "", fmt.Errorf("entry has %d values of %s", len(raw), c.attr)
	case isGUID(c.attr):
		return formatGUID(raw[0])
	}
	return string(raw[0]), nil
}

// filter is an equality filter matching the object with the given ID.
func (c idCodec) filter(id string) (string, error) {
	value := goldap.EscapeFilter(id)
	if isGUID(c.attr) {
		b, err := parseGUID(id)
		if err != nil {
			return "", err
		}
		value = escapeBytes(b)
	}
	return "(" + c.attr + "=" + value + ")", nil
}

// escapeBytes writes every byte as \xx, as binary values must be in filters.
func escapeBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\%02x`, c)
	}
	return s.String()
}

// decodeValues turns raw attribute values into strings: GUIDs formatted,
// other binary values (photos, SIDs, certificates) base64-encoded.
func decodeValues(attr string, raw [][]byte) []string {
	out := make([]string, len(raw))
	for i, v := range raw {
		switch {
		case isGUID(attr) && len(v) == 16:
			out[i], _ = formatGUID(v)
		case utf8.Valid(v):
			out[i] = string(v)
		default:
			out[i] = base64.StdEncoding.EncodeToString(v)
		}
	}
	return out
}

// attrValue is how an attribute's values are passed on: a string when
// there is one, unless the attribute is declared multi-valued.
func attrValue(vals []string, multi bool) any {
	if len(vals) == 1 && !multi {
		return vals[0]
	}
	return vals
}

// encodeValues turns a connector value into LDAP values; nil and empty
// values become none, which clears the attribute.
func encodeValues(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return []string{x}, nil
	case bool:
		return []string{strings.ToUpper(strconv.FormatBool(x))}, nil
	case int:
		return []string{strconv.Itoa(x)}, nil
	case int64:
		return []string{strconv.FormatInt(x, 10)}, nil
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case []string:
		out := make([]string, 0, len(x))
		for _, s := range x {
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		var out []string
		for _, e := range x {
			vs, err := encodeValues(e)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot store a %T in LDAP", v)
}
