package expression

// Node is a node of a parsed expression. Pos is the node's 1-based
// character position in the expression text.
type Node interface {
	Pos() int
}

// Attribute is a source attribute reference: [name].
type Attribute struct {
	P    int
	Name string
}

// String is a string constant: "text", with escapes already resolved.
type String struct {
	P     int
	Value string
}

// Number is an integer constant: 42, -7 or &HF7.
type Number struct {
	P     int
	Value int64
	// Text is the literal as written.
	Text string
}

// Identifier is a bare name used as a constant, such as vbTextCompare.
type Identifier struct {
	P    int
	Name string
}

// Omitted is an argument left empty, as in Replace([mail], "@x", , , "", , ).
type Omitted struct {
	P int
}

// Call is a function call.
type Call struct {
	P    int
	Name string
	Args []Node
}

// Compare is a comparison: left op right, where op is one of
// = <> < <= > >=.
type Compare struct {
	P     int
	Op    string
	Left  Node
	Right Node
}

// Pos implements Node.
func (n *Attribute) Pos() int { return n.P }

// Pos implements Node.
func (n *String) Pos() int { return n.P }

// Pos implements Node.
func (n *Number) Pos() int { return n.P }

// Pos implements Node.
func (n *Identifier) Pos() int { return n.P }

// Pos implements Node.
func (n *Omitted) Pos() int { return n.P }

// Pos implements Node.
func (n *Call) Pos() int { return n.P }

// Pos implements Node.
func (n *Compare) Pos() int { return n.P }
