package expression

import (
	"fmt"
	"time"
)

// Env is what an evaluation reads. Use one Env per object: Now is read once
// and reused, so every date function sees the same instant.
type Env struct {
	// Attributes are the source object's attributes.
	Attributes map[string]any
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Exists reports whether a value is already used in the target for the
	// attribute being computed. SelectUniqueValue calls it; without it
	// SelectUniqueValue fails.
	Exists func(value string) (bool, error)

	now    time.Time
	hasNow bool
}

func (e *Env) current() time.Time {
	if !e.hasNow {
		if e.Now != nil {
			e.now = e.Now().UTC()
		} else {
			e.now = time.Now().UTC()
		}
		e.hasNow = true
	}
	return e.now
}

// EvalError is a failure while evaluating an expression, such as a value
// that is not a date where a date is needed.
type EvalError struct {
	// Function is the function that failed.
	Function string
	// Position is the function call's 1-based character position.
	Position int
	Message  string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%s at column %d: %s", e.Function, e.Position, e.Message)
}

// Eval evaluates the expression for one object.
func (x *Expr) Eval(env *Env) (Value, error) {
	return x.root.eval(env)
}

type node interface {
	eval(e *Env) (Value, error)
}

type attrNode struct{ name string }

func (n *attrNode) eval(e *Env) (Value, error) {
	return FromNative(e.Attributes[n.name]), nil
}

type constNode struct{ v Value }

func (n *constNode) eval(*Env) (Value, error) { return n.v, nil }

type callNode struct {
	fn   *function
	pos  int
	args []node // nil for an omitted argument
	// state is prepared at compile time from constant arguments (a compiled
	// regular expression, a parsed interval).
	state any
}

func (n *callNode) eval(e *Env) (Value, error) { return n.fn.eval(e, n) }

// provided reports whether argument i was written (not omitted).
func (n *callNode) provided(i int) bool { return i < len(n.args) && n.args[i] != nil }

// arg evaluates argument i; omitted and missing arguments are null.
func (n *callNode) arg(e *Env, i int) (Value, error) {
	if !n.provided(i) {
		return Value{}, nil
	}
	return n.args[i].eval(e)
}

// text evaluates argument i as a single string; null gives ok=false.
func (n *callNode) text(e *Env, i int) (s string, ok bool, err error) {
	v, err := n.arg(e, i)
	if err != nil || v.kind == KindNull {
		return "", false, err
	}
	s, ok = v.Text()
	if !ok {
		return "", false, n.failf("argument %d is multi-valued where one value is expected", i+1)
	}
	return s, true, nil
}

func (n *callNode) failf(format string, args ...any) error {
	return &EvalError{Function: n.fn.name, Position: n.pos, Message: fmt.Sprintf(format, args...)}
}

// function describes one built-in function.
type function struct {
	name string
	// params names the parameters as Azure documents them.
	params []string
	// min is the fewest arguments accepted; required is how many leading
	// arguments may not be omitted.
	min, required int
	// variadic lets the last parameter repeat.
	variadic bool
	// prepare checks constant arguments at compile time and may store state.
	prepare func(p *prep)
	eval    func(e *Env, n *callNode) (Value, error)
}

func (f *function) param(i int) string {
	if i < len(f.params) {
		return f.params[i]
	}
	return f.params[len(f.params)-1]
}

// integer evaluates argument i as an integer; null gives ok=false.
func (n *callNode) integer(e *Env, i int) (v int64, ok bool, err error) {
	a, err := n.arg(e, i)
	if err != nil || a.kind == KindNull {
		return 0, false, err
	}
	switch a.kind {
	case KindInt:
		return a.n, true, nil
	case KindFloat:
		if f := a.float(); f == float64(int64(f)) {
			return int64(f), true, nil
		}
	case KindString:
		if v, ok := parseInteger(a.s); ok {
			return v, true, nil
		}
	}
	return 0, false, n.failf("argument %d (%s) must be an integer, got %s", i+1, n.fn.param(i), a)
}
