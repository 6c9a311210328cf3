package expression

import (
	"strconv"
	"strings"
)

// parseInteger reads a base-10 integer with optional sign and surrounding
// white space, or a VBA hexadecimal literal such as &HF7.
func parseInteger(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '&' && (s[1] == 'H' || s[1] == 'h') {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return int64(n), err == nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// evalBitAnd ANDs the bits of two integers: BitAnd(&HF, &HF7) is 7.
func evalBitAnd(e *Env, n *callNode) (Value, error) {
	a, aok, err := n.integer(e, 0)
	if err != nil {
		return Value{}, err
	}
	b, bok, err := n.integer(e, 1)
	if err != nil || !aok || !bok {
		return Value{}, err
	}
	return IntValue(a & b), nil
}

// evalCStr converts a number, boolean or date to its string form.
func evalCStr(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil || v.kind == KindNull {
		return v, err
	}
	s, ok := v.Text()
	if !ok {
		return Value{}, n.failf("value is multi-valued")
	}
	return StringValue(s), nil
}
