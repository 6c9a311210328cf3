package expression

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Character classes of RandomString; the special characters are those of
// Windows password complexity rules.
const (
	digits  = "0123456789"
	special = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
	upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower   = "abcdefghijklmnopqrstuvwxyz"
)

// maxRandomLength is Azure's limit on RandomString's length.
const maxRandomLength = 256

// evalGuid returns a random (version 4) GUID in lower case.
func evalGuid(*Env, *callNode) (Value, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Value{}, err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return StringValue(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])), nil
}

// randomSpec is RandomString's arguments, checked.
type randomSpec struct {
	length                        int64
	numbers, specials, caps, lows int64
	avoid                         string
}

func (s randomSpec) check() error {
	switch {
	case s.length < 1 || s.length > maxRandomLength:
		return fmt.Errorf("length must be 1 to %d, got %d", maxRandomLength, s.length)
	case s.numbers < 0 || s.specials < 0 || s.caps < 0 || s.lows < 0:
		return fmt.Errorf("minimum counts cannot be negative")
	case s.numbers+s.specials+s.caps+s.lows > s.length:
		return fmt.Errorf("length %d is less than the sum of the minimum counts (%d)", s.length, s.numbers+s.specials+s.caps+s.lows)
	}
	for _, c := range []struct {
		min  int64
		set  string
		name string
	}{{s.numbers, digits, "numbers"}, {s.specials, special, "special characters"}, {s.caps, upper, "capitals"}, {s.lows, lower, "lower-case letters"}} {
		if c.min > 0 && without(c.set, s.avoid) == "" {
			return fmt.Errorf("CharactersToAvoid excludes every character of %s", c.name)
		}
	}
	if without(s.pool(), s.avoid) == "" {
		return fmt.Errorf("CharactersToAvoid excludes every character")
	}
	return nil
}

// pool is the set the characters beyond the minimums are drawn from:
// letters and digits, and special characters only when some are required.
func (s randomSpec) pool() string {
	p := digits + upper + lower
	if s.specials > 0 {
		p += special
	}
	return p
}

func without(set, avoid string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(avoid, r) {
			return -1
		}
		return r
	}, set)
}

func prepRandomString(p *prep) {
	var spec randomSpec
	fields := []*int64{&spec.length, &spec.numbers, &spec.specials, &spec.caps, &spec.lows}
	for i, f := range fields {
		v, ok := p.constant(i)
		if !ok {
			return
		}
		s, _ := v.Text()
		n, ok := parseInteger(s)
		if !ok {
			p.errorAt(i, "%s must be an integer, got %s", p.node.fn.param(i), v)
			return
		}
		*f = n
	}
	if p.provided(5) {
		v, ok := p.constant(5)
		if !ok {
			return
		}
		spec.avoid, _ = v.Text()
	}
	if err := spec.check(); err != nil {
		p.errorAt(-1, "%v", err)
		return
	}
	p.node.state = spec
}

// evalRandomString draws a random string with crypto/rand.
func evalRandomString(e *Env, n *callNode) (Value, error) {
	spec, ok := n.state.(randomSpec)
	if !ok {
		fields := []*int64{&spec.length, &spec.numbers, &spec.specials, &spec.caps, &spec.lows}
		for i, f := range fields {
			v, ok, err := n.integer(e, i)
			if err != nil {
				return Value{}, err
			}
			if !ok {
				return Value{}, n.failf("%s is null", n.fn.param(i))
			}
			*f = v
		}
		avoid, _, err := n.text(e, 5)
		if err != nil {
			return Value{}, err
		}
		spec.avoid = avoid
		if err := spec.check(); err != nil {
			return Value{}, n.failf("%v", err)
		}
	}
	out := make([]byte, 0, spec.length)
	for _, c := range []struct {
		min int64
		set string
	}{{spec.numbers, digits}, {spec.specials, special}, {spec.caps, upper}, {spec.lows, lower}} {
		set := without(c.set, spec.avoid)
		for range c.min {
			out = append(out, set[randInt(len(set))])
		}
	}
	pool := without(spec.pool(), spec.avoid)
	for int64(len(out)) < spec.length {
		out = append(out, pool[randInt(len(pool))])
	}
	for i := len(out) - 1; i > 0; i-- {
		j := randInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return StringValue(string(out)), nil
}

// randInt returns a uniform random integer in [0, n).
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
