package scim

import (
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/internal/jsonenc"
)

// encodeBody returns a request body's JSON, byte for byte as an
// encoding/json Encoder without HTML escaping writes it, newline included.
// Resources and PATCH requests, one per object pushed, are written
// without reflection.
func encodeBody(body any) ([]byte, error) {
	b := make([]byte, 0, 512)
	var err error
	if p, ok := body.(patchRequest); ok {
		b, err = appendPatch(b, p)
	} else {
		b, err = jsonenc.AppendValue(b, body, false)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// appendPatch appends a PATCH request as encoding/json would.
func appendPatch(b []byte, p patchRequest) ([]byte, error) {
	b = append(b, `{"schemas":`...)
	b, _ = jsonenc.AppendValue(b, p.Schemas, false)
	b = append(b, `,"Operations":`...)
	if p.Operations == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '[')
	for i, op := range p.Operations {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"op":`...)
		b = jsonenc.AppendString(b, op.Op, false)
		if op.Path != "" {
			b = append(b, `,"path":`...)
			b = jsonenc.AppendString(b, op.Path, false)
		}
		if op.Value != nil {
			b = append(b, `,"value":`...)
			var err error
			if b, err = jsonenc.AppendValue(b, op.Value, false); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// createdResource is what a create's answer is read for.
type createdResource struct {
	ID string `json:"id"`
}

// scanID reads the id of the resource a create answered with, as
// decoding the answer into a createdResource would, without decoding the
// rest: every create's answer is read. It reports false, leaving the
// answer to encoding/json, unless the answer is valid JSON whose first
// value is an object in which no key but one exactly "id" can match "id",
// that one holding a string as it is written (no escapes, valid UTF-8).
// Keys with an escape or a non-ASCII byte, which encoding/json might match
// to "id" by folding, leave the answer to encoding/json too.
func scanID(raw []byte) (string, bool) {
	s := scanner{raw: raw}
	s.space()
	if !s.take('{') {
		return "", false
	}
	s.space()
	if s.take('}') {
		return "", true
	}
	var id []byte
	seen := false
	for {
		s.space()
		key, escaped, ok := s.str()
		if !ok || escaped || !ascii(key) {
			return "", false
		}
		s.space()
		if !s.take(':') {
			return "", false
		}
		s.space()
		if len(key) == 2 && key[0]|0x20 == 'i' && key[1]|0x20 == 'd' {
			if seen || string(key) != "id" {
				return "", false
			}
			seen = true
			v, escaped, ok := s.str()
			if !ok || escaped || !utf8.Valid(v) {
				return "", false
			}
			id = v
		} else if !s.value(0) {
			return "", false
		}
		s.space()
		switch {
		case s.take(','):
		case s.take('}'):
			return string(id), true
		default:
			return "", false
		}
	}
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// scanner checks JSON's grammar over raw, from i on.
type scanner struct {
	raw []byte
	i   int
}

// maxDepth bounds the nesting the scanner follows; deeper answers are
// left to encoding/json.
const maxDepth = 64

func (s *scanner) space() {
	for s.i < len(s.raw) {
		switch s.raw[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) take(c byte) bool {
	if s.i < len(s.raw) && s.raw[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns what is between its quotes, and whether
// that holds an escape; ok is false when there is no valid string.
func (s *scanner) str() (v []byte, escaped, ok bool) {
	if !s.take('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.raw) {
		c := s.raw[s.i]
		if c >= 0x20 && c != '"' && c != '\\' {
			s.i++
			continue
		}
		switch {
		case c == '"':
			s.i++
			return s.raw[start : s.i-1], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.raw) {
				return nil, false, false
			}
			switch s.raw[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.raw)-s.i < 5 {
					return nil, false, false
				}
				for _, h := range s.raw[s.i+1 : s.i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				s.i += 5
			default:
				return nil, false, false
			}
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// value reads one valid value of any kind.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.raw) || depth > maxDepth {
		return false
	}
	switch s.raw[s.i] {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{':
		s.i++
		s.space()
		if s.take('}') {
			return true
		}
		for {
			s.space()
			if _, _, ok := s.str(); !ok {
				return false
			}
			s.space()
			if !s.take(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.take('}') {
				return true
			}
			if !s.take(',') {
				return false
			}
		}
	case '[':
		s.i++
		s.space()
		if s.take(']') {
			return true
		}
		for {
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.take(']') {
				return true
			}
			if !s.take(',') {
				return false
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return s.number()
}

func (s *scanner) literal(lit string) bool {
	if len(s.raw)-s.i >= len(lit) && string(s.raw[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.take('-')
	switch {
	case s.take('0'):
	case s.i < len(s.raw) && '1' <= s.raw[s.i] && s.raw[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.take('.') && !s.digits() {
		return false
	}
	if s.take('e') || s.take('E') {
		if !s.take('+') {
			s.take('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.raw) && '0' <= s.raw[s.i] && s.raw[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
