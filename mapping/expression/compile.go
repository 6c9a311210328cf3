package expression

import (
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in an expression, at a 1-based character position.
type Error struct {
	Position int
	Message  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("column %d: %s", e.Position, e.Message)
}

// Errors is every problem found in an expression, in position order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Options tunes compilation.
type Options struct {
	// KnownAttribute reports whether a source attribute exists. When nil,
	// attribute names are not checked.
	KnownAttribute func(name string) bool
}

// Expr is a compiled expression. It is immutable and safe for concurrent
// use; compile once and evaluate it for every object.
type Expr struct {
	src   string
	root  node
	attrs []string
	calls map[string]bool
	top   string
}

// Compile parses and checks an expression: syntax, function names (which
// are case-sensitive), argument counts, constant arguments (regular
// expressions, date intervals, formats) and, with Options.KnownAttribute,
// attribute names. It returns Errors listing every problem found.
func Compile(src string, opts Options) (*Expr, error) {
	tree, err := Parse(src)
	if err != nil {
		se := err.(*SyntaxError)
		return nil, Errors{{Position: se.Position, Message: se.Message}}
	}
	c := &checker{opts: opts, calls: map[string]bool{}}
	root := c.build(tree, true)
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *Error) int { return a.Position - b.Position })
		return nil, c.errs
	}
	x := &Expr{src: src, root: root, calls: c.calls}
	slices.Sort(c.attrs)
	x.attrs = slices.Compact(c.attrs)
	if call, ok := tree.(*Call); ok {
		x.top = call.Name
	}
	return x, nil
}

// Source returns the expression text.
func (x *Expr) Source() string { return x.src }

// Attributes returns the source attributes the expression reads, sorted.
func (x *Expr) Attributes() []string { return slices.Clone(x.attrs) }

// Calls reports whether the expression calls the named function anywhere.
func (x *Expr) Calls(name string) bool { return x.calls[name] }

// TopLevel returns the name of the outermost function, or "" when the
// expression is a lone attribute or constant.
func (x *Expr) TopLevel() string { return x.top }

// checker turns a syntax tree into evaluation nodes, collecting problems.
type checker struct {
	opts  Options
	errs  Errors
	attrs []string
	calls map[string]bool
}

func (c *checker) errorf(pos int, format string, args ...any) {
	c.errs = append(c.errs, &Error{Position: pos, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) build(n Node, top bool) node {
	switch n := n.(type) {
	case *Attribute:
		c.attrs = append(c.attrs, n.Name)
		if c.opts.KnownAttribute != nil && !c.opts.KnownAttribute(n.Name) {
			c.errorf(n.P, "unknown source attribute [%s]", n.Name)
		}
		return &attrNode{name: n.Name}
	case *String:
		return &constNode{v: StringValue(n.Value)}
	case *Number:
		return &constNode{v: IntValue(n.Value)}
	case *Identifier:
		if v, ok := identifiers[n.Name]; ok {
			return &constNode{v: v}
		}
		if _, ok := functions[n.Name]; ok {
			c.errorf(n.P, "function %s must be called with parentheses: %s(...)", n.Name, n.Name)
		} else {
			c.errorf(n.P, "unknown name %q; string constants must be in double quotes", n.Name)
		}
		return &constNode{}
	case *Omitted:
		return nil
	case *Compare:
		l, r := c.build(n.Left, false), c.build(n.Right, false)
		if l == nil || r == nil {
			c.errorf(n.P, "comparison %s needs a value on both sides", n.Op)
		}
		return &compareNode{op: n.Op, left: l, right: r}
	case *Call:
		return c.buildCall(n, top)
	}
	return nil
}

func (c *checker) buildCall(call *Call, top bool) node {
	fn, ok := functions[call.Name]
	if !ok {
		c.errorf(call.P, "unknown function %q%s", call.Name, suggest(call.Name))
		for _, a := range call.Args {
			c.build(a, false)
		}
		return &constNode{}
	}
	c.calls[call.Name] = true
	cn := &callNode{fn: fn, pos: call.P, args: make([]node, len(call.Args))}
	for i, a := range call.Args {
		cn.args[i] = c.build(a, false)
	}
	most := len(fn.params)
	switch {
	case len(call.Args) < fn.min:
		c.errorf(call.P, "%s needs %s, got %d", call.Name, countArgs(fn.min, most, fn.variadic), len(call.Args))
	case !fn.variadic && len(call.Args) > most:
		c.errorf(call.P, "%s takes %s, got %d", call.Name, countArgs(fn.min, most, fn.variadic), len(call.Args))
	default:
		for i := 0; i < fn.required && i < len(call.Args); i++ {
			if cn.args[i] == nil {
				c.errorf(call.Args[i].Pos(), "%s: argument %d (%s) is required", call.Name, i+1, fn.param(i))
			}
		}
		if fn.prepare != nil {
			fn.prepare(&prep{checker: c, call: call, node: cn, top: top})
		}
	}
	return cn
}

func countArgs(least, most int, variadic bool) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", n)
	}
	switch {
	case variadic:
		return "at least " + plural(least)
	case least == most:
		return plural(most)
	}
	return fmt.Sprintf("%d to %d arguments", least, most)
}

// suggest names a function that differs only in case, a common mistake
// because names are case-sensitive.
func suggest(name string) string {
	for n := range functions {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q? names are case-sensitive)", n)
		}
	}
	return ""
}

// prep gives a function's prepare hook access to its call at compile time.
type prep struct {
	*checker
	call *Call
	node *callNode
	top  bool
}

// errorAt reports a problem at argument i (or the call when i is out of range).
func (p *prep) errorAt(i int, format string, args ...any) {
	pos := p.call.P
	if i >= 0 && i < len(p.call.Args) {
		pos = p.call.Args[i].Pos()
	}
	p.errorf(pos, "%s: %s", p.call.Name, fmt.Sprintf(format, args...))
}

// constant returns argument i when it is a constant (string or number).
func (p *prep) constant(i int) (Value, bool) {
	if i >= len(p.node.args) {
		return Value{}, false
	}
	if k, ok := p.node.args[i].(*constNode); ok {
		return k.v, true
	}
	return Value{}, false
}

// constText returns argument i's text when it is a constant.
func (p *prep) constText(i int) (string, bool) {
	v, ok := p.constant(i)
	if !ok {
		return "", false
	}
	return v.Text()
}

func (p *prep) provided(i int) bool { return p.node.provided(i) }

// prepInteger checks that a constant argument i is an integer of at least least.
func prepInteger(p *prep, i int, least int64) {
	v, ok := p.constant(i)
	if !ok || v.kind == KindNull {
		return
	}
	s, _ := v.Text()
	k, ok := parseInteger(s)
	switch {
	case !ok:
		p.errorAt(i, "%s must be an integer, got %s", p.node.fn.param(i), v)
	case k < least:
		p.errorAt(i, "%s must be at least %d, got %d", p.node.fn.param(i), least, k)
	}
}
