package expression

import (
	"strings"
)

// Quote writes s as a string constant, escaping \ and ".
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Format writes a syntax tree back as expression text in a canonical
// layout; parsing the result gives the same tree.
func Format(n Node) string {
	var b strings.Builder
	format(&b, n)
	return b.String()
}

func format(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Attribute:
		b.WriteByte('[')
		b.WriteString(n.Name)
		b.WriteByte(']')
	case *String:
		b.WriteString(Quote(n.Value))
	case *Number:
		b.WriteString(n.Text)
	case *Identifier:
		b.WriteString(n.Name)
	case *Compare:
		format(b, n.Left)
		b.WriteString(" " + n.Op + " ")
		format(b, n.Right)
	case *Call:
		b.WriteString(n.Name)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			format(b, a)
		}
		b.WriteByte(')')
	}
}
