package expression

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// turkic reports whether a culture name (RFC 4646, e.g. "tr-TR") uses the
// Turkish dotted and dotless i; every other culture cases like the
// invariant culture.
func turkic(culture string) bool {
	lang, _, _ := strings.Cut(strings.ToLower(culture), "-")
	return lang == "tr" || lang == "az"
}

func evalToLower(e *Env, n *callNode) (Value, error) {
	culture, _, err := n.text(e, 1)
	if err != nil {
		return Value{}, err
	}
	if turkic(culture) {
		return mapText(e, n, func(s string) string { return strings.ToLowerSpecial(unicode.TurkishCase, s) })
	}
	return mapText(e, n, strings.ToLower)
}

func evalToUpper(e *Env, n *callNode) (Value, error) {
	culture, _, err := n.text(e, 1)
	if err != nil {
		return Value{}, err
	}
	if turkic(culture) {
		return mapText(e, n, func(s string) string { return strings.ToUpperSpecial(unicode.TurkishCase, s) })
	}
	return mapText(e, n, strings.ToUpper)
}

// pcaseSeparator reports whether r separates words when PCase has no
// explicit separators: the Unicode categories .NET's ToTitleCase uses.
// Apostrophes stay inside words, so "o'neil" becomes "O'neil".
func pcaseSeparator(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSeparator[r]
	}
	if r == '’' {
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Cc, unicode.Cf,
		unicode.Pc, unicode.Pd, unicode.Ps, unicode.Pe, unicode.Pi, unicode.Pf, unicode.Po,
		unicode.Sm, unicode.Sc, unicode.Sk, unicode.So)
}

// asciiSeparator caches pcaseSeparator for ASCII, the common case.
var asciiSeparator = func() (t [utf8.RuneSelf]bool) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = r != '\'' && unicode.In(r, unicode.Zs, unicode.Cc, unicode.Pc, unicode.Pd, unicode.Ps, unicode.Pe, unicode.Po, unicode.Sm, unicode.Sc, unicode.Sk)
	}
	return t
}()

// evalPCase upper-cases the first character of each word and lower-cases
// the rest, so "PABLO GONSALVES (SECOND)" becomes "Pablo Gonsalves (Second)".
func evalPCase(e *Env, n *callNode) (Value, error) {
	seps, custom, err := n.text(e, 1)
	if err != nil {
		return Value{}, err
	}
	isSep := pcaseSeparator
	if custom {
		isSep = func(r rune) bool { return strings.ContainsRune(seps, r) }
	}
	return mapText(e, n, func(s string) string {
		var b strings.Builder
		b.Grow(len(s))
		start := true
		for _, r := range s {
			switch {
			case isSep(r):
				b.WriteRune(r)
				start = true
			case start:
				b.WriteRune(unicode.ToTitle(r))
				start = false
			default:
				b.WriteRune(unicode.ToLower(r))
			}
		}
		return b.String()
	})
}
