package expression

import (
	"strings"
	"unicode"
)

func prepInStr(p *prep) {
	prepInteger(p, 2, 1)
	if v, ok := p.constant(3); ok {
		if _, ok := compareMode(v); !ok {
			p.errorAt(3, "compareType must be vbTextCompare or vbBinaryCompare, got %s", v)
		}
	}
}

// compareMode reads InStr's compareType: true for a text (case-insensitive)
// comparison.
func compareMode(v Value) (text, ok bool) {
	switch v.kind {
	case KindNull:
		return false, true
	case KindInt:
		return v.n == 1, v.n == 0 || v.n == 1
	case KindString:
		switch strings.ToLower(strings.TrimSpace(v.s)) {
		case "vbtextcompare", "1":
			return true, true
		case "vbbinarycompare", "0", "":
			return false, true
		}
	}
	return false, false
}

// evalInStr returns the 1-based position of value2 in value1 at or after
// start, or 0 when it is absent. vbTextCompare ignores case.
func evalInStr(e *Env, n *callNode) (Value, error) {
	s, ok, err := n.text(e, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	sub, ok, err := n.text(e, 1)
	if err != nil || !ok {
		return Value{}, err
	}
	start, sok, err := n.integer(e, 2)
	if err != nil {
		return Value{}, err
	}
	if !sok {
		start = 1
	}
	if start < 1 {
		return Value{}, n.failf("start must be 1 or more")
	}
	mode, err := n.arg(e, 3)
	if err != nil {
		return Value{}, err
	}
	text, ok := compareMode(mode)
	if !ok {
		return Value{}, n.failf("compareType must be vbTextCompare or vbBinaryCompare, got %s", mode)
	}
	hay, needle := []rune(s), []rune(sub)
	switch {
	case len(hay) == 0:
		return IntValue(0), nil
	case len(needle) == 0:
		return IntValue(start), nil
	case start > int64(len(hay)):
		return IntValue(0), nil
	}
	if text {
		for i, r := range hay {
			hay[i] = unicode.ToLower(r)
		}
		for i, r := range needle {
			needle[i] = unicode.ToLower(r)
		}
	}
	for i := int(start - 1); i+len(needle) <= len(hay); i++ {
		if runesEqual(hay[i:i+len(needle)], needle) {
			return IntValue(int64(i + 1)), nil
		}
	}
	return IntValue(0), nil
}

func runesEqual(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
