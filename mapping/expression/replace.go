package expression

import (
	"regexp"
	"strconv"
	"strings"
)

// Replace's parameters by position.
const (
	rSource = iota
	rOldValue
	rRegexPattern
	rRegexGroupName
	rReplacementValue
	rReplacementAttributeName
	rTemplate
)

// replaceMode is one of Replace's five behaviours, chosen by which
// arguments are written (an argument written as "" counts as written).
type replaceMode uint8

const (
	// replaceOld replaces every oldValue in source with replacementValue.
	replaceOld replaceMode = iota + 1
	// replaceTemplate replaces every oldValue in template with source.
	replaceTemplate
	// replaceRegex replaces every match of regexPattern in source with
	// replacementValue, which may refer to groups as ${name} or $1.
	replaceRegex
	// replaceRegexGroup replaces, in every match, the text of the group
	// regexGroupName with replacementValue.
	replaceRegexGroup
	// replaceRegexFallback returns source when it has a value, else the
	// group regexGroupName of the first match in replacementAttributeName.
	replaceRegexFallback
)

type replaceSpec struct {
	mode replaceMode
	// re is the pattern when it is a constant; otherwise it is compiled
	// at each evaluation.
	re *regexp.Regexp
}

func prepReplace(p *prep) {
	spec := &replaceSpec{}
	has := p.provided
	switch {
	case has(rRegexPattern) && has(rRegexGroupName) && has(rReplacementAttributeName):
		spec.mode = replaceRegexFallback
	case has(rRegexPattern) && has(rRegexGroupName) && has(rReplacementValue):
		spec.mode = replaceRegexGroup
	case has(rRegexPattern) && has(rRegexGroupName):
		p.errorAt(rRegexGroupName, "with regexGroupName, give replacementValue or replacementAttributeName")
	case has(rRegexPattern) && has(rReplacementValue):
		spec.mode = replaceRegex
	case has(rRegexPattern):
		p.errorAt(rRegexPattern, "with regexPattern, give replacementValue")
	case has(rOldValue) && has(rTemplate):
		spec.mode = replaceTemplate
	case has(rOldValue) && has(rReplacementValue):
		spec.mode = replaceOld
	case has(rOldValue):
		p.errorAt(rOldValue, "with oldValue, give replacementValue or template")
	default:
		p.errorAt(-1, "give oldValue or regexPattern")
	}
	if pattern, ok := p.constText(rRegexPattern); ok {
		re, err := regexp.Compile(pattern)
		if err != nil {
			p.errorAt(rRegexPattern, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else {
			spec.re = re
			if group, ok := p.constText(rRegexGroupName); ok && groupIndex(re, group) < 0 {
				p.errorAt(rRegexGroupName, "regexPattern has no group named %q", group)
			}
		}
	}
	p.node.state = spec
}

// groupIndex finds a group by name, or by number as .NET allows.
func groupIndex(re *regexp.Regexp, name string) int {
	if i := re.SubexpIndex(name); i >= 0 {
		return i
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i <= re.NumSubexp() {
		return i
	}
	return -1
}

func evalReplace(e *Env, n *callNode) (Value, error) {
	spec := n.state.(*replaceSpec)
	src, err := n.arg(e, rSource)
	if err != nil {
		return Value{}, err
	}
	s, ok := src.Text()
	if src.kind != KindNull && !ok {
		return Value{}, n.failf("source is multi-valued")
	}
	if spec.mode == replaceRegexFallback && s != "" {
		return StringValue(s), nil
	}
	if src.kind == KindNull && spec.mode != replaceRegexFallback {
		return src, nil
	}
	switch spec.mode {
	case replaceOld, replaceTemplate:
		old, _, err := n.text(e, rOldValue)
		if err != nil {
			return Value{}, err
		}
		if spec.mode == replaceTemplate {
			tmpl, _, err := n.text(e, rTemplate)
			if err != nil {
				return Value{}, err
			}
			return StringValue(replaceAll(tmpl, old, s)), nil
		}
		repl, _, err := n.text(e, rReplacementValue)
		if err != nil {
			return Value{}, err
		}
		return StringValue(replaceAll(s, old, repl)), nil
	}
	re := spec.re
	if re == nil {
		pattern, _, err := n.text(e, rRegexPattern)
		if err != nil {
			return Value{}, err
		}
		if re, err = regexp.Compile(pattern); err != nil {
			return Value{}, n.failf("invalid regular expression: %v", err)
		}
	}
	if spec.mode == replaceRegex {
		repl, _, err := n.text(e, rReplacementValue)
		if err != nil {
			return Value{}, err
		}
		return StringValue(regexReplace(re, s, repl)), nil
	}
	name, _, err := n.text(e, rRegexGroupName)
	if err != nil {
		return Value{}, err
	}
	group := groupIndex(re, name)
	if group < 0 {
		return Value{}, n.failf("regexPattern has no group named %q", name)
	}
	if spec.mode == replaceRegexGroup {
		repl, _, err := n.text(e, rReplacementValue)
		if err != nil {
			return Value{}, err
		}
		return StringValue(replaceGroup(re, s, group, repl)), nil
	}
	other, ok, err := n.text(e, rReplacementAttributeName)
	if err != nil || !ok {
		return Value{}, err
	}
	m := re.FindStringSubmatchIndex(other)
	if m == nil || m[2*group] < 0 {
		return Value{}, nil
	}
	return StringValue(other[m[2*group]:m[2*group+1]]), nil
}

// replaceAll is strings.ReplaceAll, except that an empty oldValue leaves
// the text alone instead of inserting between every character.
func replaceAll(s, old, repl string) string {
	if old == "" {
		return s
	}
	return strings.ReplaceAll(s, old, repl)
}

// regexReplace replaces every match, expanding .NET substitutions.
func regexReplace(re *regexp.Regexp, s, repl string) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		expandNet(&b, re, s, m, repl)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// replaceGroup replaces the text of one group in every match.
func replaceGroup(re *regexp.Regexp, s string, group int, repl string) string {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[2*group], m[2*group+1]
		if start < 0 || start < last {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(repl)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// expandNet writes a .NET replacement pattern for one match: $$, ${name},
// $number, $&, $`, $', $+ and $_. Anything else is literal, as in .NET.
func expandNet(b *strings.Builder, re *regexp.Regexp, s string, m []int, repl string) {
	group := func(i int) {
		if m[2*i] >= 0 {
			b.WriteString(s[m[2*i]:m[2*i+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '&':
			group(0)
			i++
		case next == '`':
			b.WriteString(s[:m[0]])
			i++
		case next == '\'':
			b.WriteString(s[m[1]:])
			i++
		case next == '_':
			b.WriteString(s)
			i++
		case next == '+':
			if n := re.NumSubexp(); n > 0 {
				group(n)
			}
			i++
		case next == '{':
			end := strings.IndexByte(repl[i:], '}')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			g := groupIndex(re, repl[i+2:i+end])
			if g < 0 {
				b.WriteByte(c)
				continue
			}
			group(g)
			i += end
		case isDigit(next):
			j := i + 1
			for j < len(repl) && isDigit(repl[j]) {
				j++
			}
			// Take the longest run of digits that names a group.
			found := false
			for ; j > i+1 && !found; j-- {
				if g, err := strconv.Atoi(repl[i+1 : j]); err == nil && g <= re.NumSubexp() {
					group(g)
					i, found = j-1, true
				}
			}
			if !found {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
}
