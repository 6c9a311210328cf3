package expression

import (
	"strings"
)

// Functions on strings. Unless Azure documents otherwise (Left and Word
// return "" for a null string), a null source gives null, so a missing
// attribute stays missing instead of becoming a made-up value.

func evalAppend(e *Env, n *callNode) (Value, error) {
	s, res, stop, err := n.sourceText(e)
	if stop {
		return res, err
	}
	suffix, _, err := n.text(e, 1)
	if err != nil {
		return Value{}, err
	}
	return StringValue(s + suffix), nil
}

// evalJoin joins every value, expanding multi-valued arguments. Null and
// empty values are skipped, so Join(", ", "", [surname], [givenName])
// gives "Doe, John" as Azure documents.
func evalJoin(e *Env, n *callNode) (Value, error) {
	sep, _, err := n.text(e, 0)
	if err != nil {
		return Value{}, err
	}
	var b strings.Builder
	first := true
	for i := 1; i < len(n.args); i++ {
		v, err := n.arg(e, i)
		if err != nil {
			return Value{}, err
		}
		if v.kind != KindList {
			// Single values skip Values, which would allocate a slice.
			s, _ := v.Text()
			first = joinOne(&b, sep, s, first)
			continue
		}
		for _, s := range v.list() {
			first = joinOne(&b, sep, s, first)
		}
	}
	return StringValue(b.String()), nil
}

// joinOne appends s unless it is empty, and reports whether nothing has
// been written yet.
func joinOne(b *strings.Builder, sep, s string, first bool) bool {
	if s == "" {
		return first
	}
	if !first {
		b.WriteString(sep)
	}
	b.WriteString(s)
	return false
}

func prepLeft(p *prep) { prepInteger(p, 1, -1<<63) }

// evalLeft returns the first NumChars characters: "" for 0, the whole
// string for a negative count, "" for a null string.
func evalLeft(e *Env, n *callNode) (Value, error) {
	s, ok, err := n.text(e, 0)
	if err != nil {
		return Value{}, err
	}
	count, cok, err := n.integer(e, 1)
	if err != nil || !ok {
		return StringValue(""), err
	}
	switch {
	case !cok || count < 0:
		return StringValue(s), nil
	case count == 0:
		return StringValue(""), nil
	}
	return StringValue(prefixRunes(s, int(min(count, int64(len(s)))))), nil
}

// prefixRunes returns the first n characters of s.
func prefixRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func prepMid(p *prep) {
	prepInteger(p, 1, 1)
	prepInteger(p, 2, 0)
}

// evalMid returns length characters from the 1-based start; a length past
// the end stops at the end.
func evalMid(e *Env, n *callNode) (Value, error) {
	s, res, stop, err := n.sourceText(e)
	if stop {
		return res, err
	}
	start, sok, err := n.integer(e, 1)
	if err != nil {
		return Value{}, err
	}
	length, lok, err := n.integer(e, 2)
	if err != nil {
		return Value{}, err
	}
	if !sok || start < 1 {
		return Value{}, n.failf("start must be 1 or more")
	}
	if !lok || length < 0 {
		return Value{}, n.failf("length must be 0 or more")
	}
	r := []rune(s)
	if start > int64(len(r)) {
		return StringValue(""), nil
	}
	end := min(start-1+min(length, int64(len(r))), int64(len(r)))
	return StringValue(string(r[start-1 : end])), nil
}

func evalStripSpaces(e *Env, n *callNode) (Value, error) {
	return mapText(e, n, func(s string) string { return strings.ReplaceAll(s, " ", "") })
}

// mapText applies f to argument 0, keeping null as null.
func mapText(e *Env, n *callNode, f func(string) string) (Value, error) {
	s, res, stop, err := n.sourceText(e)
	if stop {
		return res, err
	}
	return StringValue(f(s)), nil
}

// evalWord returns the WordNumber-th word (1-based), words being separated
// by any character of delimiters. It returns "" for a null string, a number
// below 1, or too few words.
func evalWord(e *Env, n *callNode) (Value, error) {
	s, ok, err := n.text(e, 0)
	if err != nil {
		return Value{}, err
	}
	num, nok, err := n.integer(e, 1)
	if err != nil {
		return Value{}, err
	}
	delims, _, err := n.text(e, 2)
	if err != nil {
		return Value{}, err
	}
	if !ok || !nok || num < 1 {
		return StringValue(""), nil
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if num > int64(len(words)) {
		return StringValue(""), nil
	}
	return StringValue(words[num-1]), nil
}

// sourceText evaluates the first argument as one string. stop is true when
// the caller must return res and err as they are: an evaluation error, a
// multi-valued source, or a null source, which stays null.
func (n *callNode) sourceText(e *Env) (s string, res Value, stop bool, err error) {
	src, err := n.arg(e, 0)
	if err != nil || src.kind == KindNull {
		return "", src, true, err
	}
	s, ok := src.Text()
	if !ok {
		return "", Value{}, true, n.failf("source is multi-valued")
	}
	return s, Value{}, false, nil
}
