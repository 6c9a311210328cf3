package expression

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// letters are replacements for letters that carry no combining mark to
// strip: ligatures and letters with a stroke.
var letters = map[rune]string{
	'ß': "ss", 'ẞ': "SS",
	'æ': "ae", 'Æ': "AE",
	'œ': "oe", 'Œ': "OE",
	'ø': "oe", 'Ø': "OE",
	'ł': "l", 'Ł': "L",
	'đ': "d", 'Đ': "D",
	'ħ': "h", 'Ħ': "H",
	'ı': "i",
}

// evalNormalizeDiacritics removes accents (Zoë gives Zoe) and spells out
// the letters Azure lists as digraphs: ß→ss, æ→ae, ø→oe.
func evalNormalizeDiacritics(e *Env, n *callNode) (Value, error) {
	return mapText(e, n, normalizeDiacritics)
}

func normalizeDiacritics(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if rep, ok := letters[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
