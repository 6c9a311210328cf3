package expression

import (
	"math"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/mapping/internal/azvalue"
)

// compareNode is a comparison inside a condition: left op right.
type compareNode struct {
	op          string
	left, right node
}

// eval compares two values. Numbers compare numerically (also when one side
// is a numeric string), dates as instants, booleans as booleans, anything
// else as case-sensitive strings. Null equals the empty string, so
// IIF([country]="", …) works on a missing country; an ordering comparison
// with a null or empty side is false.
func (n *compareNode) eval(e *Env) (Value, error) {
	l, err := n.left.eval(e)
	if err != nil {
		return Value{}, err
	}
	r, err := n.right.eval(e)
	if err != nil {
		return Value{}, err
	}
	c, ok := compareValues(l, r)
	if !ok {
		return BoolValue(n.op == "<>"), nil
	}
	switch n.op {
	case "=":
		return BoolValue(c == 0), nil
	case "<>":
		return BoolValue(c != 0), nil
	}
	if l.IsNullOrEmpty() || r.IsNullOrEmpty() {
		return BoolValue(false), nil
	}
	switch n.op {
	case "<":
		return BoolValue(c < 0), nil
	case "<=":
		return BoolValue(c <= 0), nil
	case ">":
		return BoolValue(c > 0), nil
	}
	return BoolValue(c >= 0), nil
}

// compareValues orders two values; ok is false when they cannot be compared
// (a list of several values).
func compareValues(l, r Value) (int, bool) {
	if l.kind == KindDate || r.kind == KindDate {
		lt, lok := asDate(l)
		rt, rok := asDate(r)
		if lok && rok {
			return lt.Compare(rt), true
		}
	}
	if l.kind == KindBool || r.kind == KindBool {
		lb, lok := truth(l)
		rb, rok := truth(r)
		if lok && rok {
			return boolInt(lb) - boolInt(rb), true
		}
	}
	if l.kind == KindInt || l.kind == KindFloat || r.kind == KindInt || r.kind == KindFloat {
		lf, lok := number(l)
		rf, rok := number(r)
		if lok && rok {
			return cmpFloat(lf, rf), true
		}
	}
	ls, lok := textOrEmpty(l)
	rs, rok := textOrEmpty(r)
	if !lok || !rok {
		return 0, false
	}
	return strings.Compare(ls, rs), true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// textOrEmpty is Text with null read as "".
func textOrEmpty(v Value) (string, bool) {
	if v.kind == KindNull {
		return "", true
	}
	return v.Text()
}

// number reads a value as a number: ints, floats and numeric strings.
func number(v Value) (float64, bool) {
	switch v.kind {
	case KindInt:
		return float64(v.n), true
	case KindFloat:
		return v.float(), !math.IsNaN(v.float())
	case KindString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
		return f, err == nil
	}
	return 0, false
}

// truth reads a value as a boolean: booleans, "True"/"False" in any case,
// and numbers (non-zero is true). Null is false.
func truth(v Value) (b, ok bool) {
	switch v.kind {
	case KindNull:
		return false, true
	case KindBool:
		return v.n != 0, true
	case KindInt:
		return v.n != 0, true
	case KindFloat:
		return v.float() != 0, true
	case KindString:
		if b, ok := azvalue.ParseBool(v.s); ok {
			return b, true
		}
		if f, ok := number(v); ok {
			return f != 0, true
		}
	}
	return false, false
}

func evalIIF(e *Env, n *callNode) (Value, error) {
	cond, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	b, ok := truth(cond)
	if !ok {
		return Value{}, n.failf("condition %s is neither true nor false", cond)
	}
	if b {
		return n.arg(e, 1)
	}
	return n.arg(e, 2)
}

func prepSwitch(p *prep) {
	if len(p.call.Args)%2 != 0 {
		p.errorAt(-1, "needs an even number of arguments (source, defaultValue, then key/value pairs), got %d", len(p.call.Args))
	}
}

// evalSwitch compares the source with each key, case-sensitively, and
// returns the value of the first key that matches. A null source matches
// the key "". Only the matching value is evaluated.
func evalSwitch(e *Env, n *callNode) (Value, error) {
	src, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	s, ok := textOrEmpty(src)
	if !ok {
		return Value{}, n.failf("source is multi-valued")
	}
	for i := 2; i+1 < len(n.args); i += 2 {
		k, err := n.arg(e, i)
		if err != nil {
			return Value{}, err
		}
		if ks, ok := textOrEmpty(k); ok && ks == s {
			return n.arg(e, i+1)
		}
	}
	return n.arg(e, 1)
}

// evalCoalesce returns the first argument that is neither null nor empty;
// when none is, the last argument (the default, possibly "").
func evalCoalesce(e *Env, n *callNode) (Value, error) {
	var v Value
	for i := range n.args {
		var err error
		if v, err = n.arg(e, i); err != nil {
			return Value{}, err
		}
		if !v.IsNullOrEmpty() {
			return v, nil
		}
	}
	return v, nil
}

// evalNot returns False when the source is True, and True otherwise.
func evalNot(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	if v.kind == KindBool {
		return BoolValue(v.n == 0), nil
	}
	s, _ := v.Text()
	return BoolValue(!strings.EqualFold(strings.TrimSpace(s), "true")), nil
}

func evalCBool(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil {
		return Value{}, err
	}
	b, ok := truth(v)
	if !ok {
		return Value{}, n.failf("%s is not a number or a boolean", v)
	}
	return BoolValue(b), nil
}

func evalIsNull(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	return BoolValue(v.kind == KindNull), err
}

func evalIsNullOrEmpty(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	return BoolValue(v.IsNullOrEmpty()), err
}

func evalIsPresent(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	return BoolValue(!v.IsNullOrEmpty()), err
}

func evalIsString(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	return BoolValue(v.kind == KindString), err
}

// evalIgnoreFlow marks a null or empty result so the mapping leaves the
// target attribute alone instead of clearing it.
func evalIgnoreFlow(e *Env, n *callNode) (Value, error) {
	v, err := n.arg(e, 0)
	if err != nil || !v.IsNullOrEmpty() {
		return v, err
	}
	return Value{ignore: true}, nil
}

// evalRedact returns its argument; hiding the value from logs is the
// caller's job (see Expr.Calls).
func evalRedact(e *Env, n *callNode) (Value, error) {
	return n.arg(e, 0)
}
