package expression

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// evalConvertToBase64 encodes the UTF-16LE bytes of the string, as .NET's
// Encoding.Unicode does: "Hello world!" gives "SABlAGwAbABvACAAdwBvAHIAbABkACEA".
func evalConvertToBase64(e *Env, n *callNode) (Value, error) {
	return mapText(e, n, func(s string) string {
		units := utf16.Encode([]rune(s))
		buf := make([]byte, 0, 2*len(units))
		for _, u := range units {
			buf = append(buf, byte(u), byte(u>>8))
		}
		return base64.StdEncoding.EncodeToString(buf)
	})
}

// evalConvertToUTF8Hex writes the UTF-8 bytes as upper-case hex.
func evalConvertToUTF8Hex(e *Env, n *callNode) (Value, error) {
	return mapText(e, n, func(s string) string {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		return strings.ToUpper(hex.EncodeToString([]byte(s)))
	})
}
