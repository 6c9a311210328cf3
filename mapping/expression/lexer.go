package expression

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokAttribute
	tokString
	tokNumber
	tokIdent
	tokLParen
	tokRParen
	tokComma
	tokCompare
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of expression"
	case tokAttribute:
		return "attribute"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	case tokIdent:
		return "name"
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokComma:
		return `","`
	}
	return "comparison operator"
}

type token struct {
	kind tokenKind
	pos  int // 1-based character position
	text string
	num  int64
}

// lexer splits an expression into tokens. Positions count characters
// (runes), not bytes, so they match what an editor shows.
type lexer struct {
	src string
	off int // byte offset
	col int // 1-based character position of off
	err *SyntaxError
}

func (l *lexer) fail(pos int, msg string) token {
	if l.err == nil {
		l.err = &SyntaxError{Position: pos, Message: msg}
	}
	return token{kind: tokEOF, pos: pos}
}

func (l *lexer) advance(n int) {
	l.col += utf8.RuneCountInString(l.src[l.off : l.off+n])
	l.off += n
}

func (l *lexer) next() token {
	for l.off < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.off:])
		if !unicode.IsSpace(r) {
			break
		}
		l.advance(size)
	}
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: l.col}
	}
	start := l.col
	c := l.src[l.off]
	switch {
	case c == '(':
		l.advance(1)
		return token{kind: tokLParen, pos: start}
	case c == ')':
		l.advance(1)
		return token{kind: tokRParen, pos: start}
	case c == ',':
		l.advance(1)
		return token{kind: tokComma, pos: start}
	case c == '[':
		end := strings.IndexByte(l.src[l.off:], ']')
		if end < 0 {
			return l.fail(start, "attribute name is not closed with ]")
		}
		name := l.src[l.off+1 : l.off+end]
		l.advance(end + 1)
		if strings.TrimSpace(name) == "" {
			return l.fail(start, "attribute name is empty")
		}
		return token{kind: tokAttribute, pos: start, text: name}
	case c == '"':
		return l.lexString(start)
	case c == '=' || c == '<' || c == '>':
		op := string(c)
		if l.off+1 < len(l.src) {
			switch two := l.src[l.off : l.off+2]; two {
			case "<>", "<=", ">=":
				op = two
			}
		}
		l.advance(len(op))
		return token{kind: tokCompare, pos: start, text: op}
	case c == '&':
		return l.lexHex(start)
	case c == '-' || (c >= '0' && c <= '9'):
		return l.lexNumber(start)
	}
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	if r == '_' || unicode.IsLetter(r) {
		end := l.off + size
		for end < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[end:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			end += size
		}
		text := l.src[l.off:end]
		l.advance(end - l.off)
		return token{kind: tokIdent, pos: start, text: text}
	}
	return l.fail(start, "unexpected character "+strconv.QuoteRune(r))
}

// lexString reads a string constant. Azure documents two escapes, \\ and
// \"; any other backslash is kept as written so regular expressions such as
// "\d+" survive.
func (l *lexer) lexString(start int) token {
	var b strings.Builder
	i := l.off + 1
	for i < len(l.src) {
		c := l.src[i]
		switch {
		case c == '"':
			l.advance(i + 1 - l.off)
			return token{kind: tokString, pos: start, text: b.String()}
		case c == '\\' && i+1 < len(l.src) && (l.src[i+1] == '\\' || l.src[i+1] == '"'):
			b.WriteByte(l.src[i+1])
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return l.fail(start, "string is not closed with \"")
}

func (l *lexer) lexNumber(start int) token {
	end := l.off
	if l.src[end] == '-' {
		end++
	}
	digits := end
	for end < len(l.src) && l.src[end] >= '0' && l.src[end] <= '9' {
		end++
	}
	if end == digits {
		return l.fail(start, `"-" must be followed by digits`)
	}
	text := l.src[l.off:end]
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return l.fail(start, "number "+text+" is out of range")
	}
	l.advance(end - l.off)
	return token{kind: tokNumber, pos: start, text: text, num: n}
}

// lexHex reads a VBA hexadecimal literal such as &HF7.
func (l *lexer) lexHex(start int) token {
	if l.off+1 >= len(l.src) || (l.src[l.off+1] != 'H' && l.src[l.off+1] != 'h') {
		return l.fail(start, `"&" must start a hexadecimal number such as &HF7`)
	}
	end := l.off + 2
	for end < len(l.src) && isHexDigit(l.src[end]) {
		end++
	}
	if end == l.off+2 {
		return l.fail(start, "hexadecimal number has no digits")
	}
	text := l.src[l.off:end]
	n, err := strconv.ParseUint(text[2:], 16, 64)
	if err != nil {
		return l.fail(start, "number "+text+" is out of range")
	}
	l.advance(end - l.off)
	return token{kind: tokNumber, pos: start, text: text, num: int64(n)}
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
