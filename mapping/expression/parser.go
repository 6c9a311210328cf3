package expression

import (
	"fmt"
)

// MaxDepth bounds how deeply calls may nest, so hostile input cannot exhaust
// the stack.
const MaxDepth = 100

// SyntaxError is an expression that cannot be parsed.
type SyntaxError struct {
	// Position is the 1-based character position of the problem.
	Position int
	Message  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Position, e.Message)
}

// Parse parses an expression into its syntax tree. Besides Azure's function
// calls it accepts a lone attribute or constant, so "[mail]" is a valid
// expression.
func Parse(src string) (Node, error) {
	p := &parser{lex: lexer{src: src, col: 1}}
	p.tok = p.lex.next()
	n := p.expr(0)
	if p.err == nil && p.tok.kind != tokEOF {
		p.failf(p.tok.pos, "unexpected %s after the end of the expression", p.describe())
	}
	if p.lex.err != nil {
		return nil, p.lex.err
	}
	if p.err != nil {
		return nil, p.err
	}
	return n, nil
}

type parser struct {
	lex lexer
	tok token
	err *SyntaxError
}

func (p *parser) failf(pos int, format string, args ...any) {
	if p.err == nil && p.lex.err == nil {
		p.err = &SyntaxError{Position: pos, Message: fmt.Sprintf(format, args...)}
	}
	p.tok = token{kind: tokEOF, pos: pos}
}

func (p *parser) failed() bool { return p.err != nil || p.lex.err != nil }

func (p *parser) advance() { p.tok = p.lex.next() }

func (p *parser) describe() string {
	switch p.tok.kind {
	case tokIdent, tokCompare, tokNumber:
		return fmt.Sprintf("%s %q", p.tok.kind, p.tok.text)
	case tokString:
		return "string constant"
	case tokAttribute:
		return fmt.Sprintf("attribute [%s]", p.tok.text)
	}
	return p.tok.kind.String()
}

func (p *parser) expr(depth int) Node {
	left := p.operand(depth)
	if p.tok.kind != tokCompare || p.failed() {
		return left
	}
	op := p.tok
	p.advance()
	right := p.operand(depth)
	if p.tok.kind == tokCompare && !p.failed() {
		p.failf(p.tok.pos, "comparisons cannot be chained; nest IIF calls instead")
	}
	return &Compare{P: op.pos, Op: op.text, Left: left, Right: right}
}

func (p *parser) operand(depth int) Node {
	t := p.tok
	switch t.kind {
	case tokAttribute:
		p.advance()
		return &Attribute{P: t.pos, Name: t.text}
	case tokString:
		p.advance()
		return &String{P: t.pos, Value: t.text}
	case tokNumber:
		p.advance()
		return &Number{P: t.pos, Value: t.num, Text: t.text}
	case tokIdent:
		p.advance()
		if p.tok.kind != tokLParen {
			return &Identifier{P: t.pos, Name: t.text}
		}
		return p.call(t, depth)
	}
	if !p.failed() {
		if t.kind == tokEOF {
			p.failf(t.pos, "expression ends where a value was expected")
		} else {
			p.failf(t.pos, "unexpected %s where a value was expected", p.describe())
		}
	}
	return &Omitted{P: t.pos}
}

func (p *parser) call(name token, depth int) Node {
	if depth >= MaxDepth {
		p.failf(name.pos, "calls are nested more than %d deep", MaxDepth)
		return &Omitted{P: name.pos}
	}
	c := &Call{P: name.pos, Name: name.text}
	open := p.tok.pos
	p.advance() // (
	if p.tok.kind == tokRParen {
		p.advance()
		return c
	}
	for !p.failed() {
		if p.tok.kind == tokComma || p.tok.kind == tokRParen {
			c.Args = append(c.Args, &Omitted{P: p.tok.pos})
		} else {
			c.Args = append(c.Args, p.expr(depth+1))
		}
		switch p.tok.kind {
		case tokComma:
			p.advance()
			continue
		case tokRParen:
			p.advance()
			return c
		case tokEOF:
			p.failf(p.tok.pos, "%s( opened at column %d is not closed", name.text, open)
		default:
			p.failf(p.tok.pos, "unexpected %s in the arguments of %s; expected \",\" or \")\"", p.describe(), name.text)
		}
	}
	return c
}
