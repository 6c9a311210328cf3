// Package jsonenc writes JSON without reflection, byte for byte as
// encoding/json writes it, for the values encoded once per object pushed
// (request bodies, log entries): reflection there costs more than the
// bytes it writes.
package jsonenc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it: control characters, invalid UTF-8 (as U+FFFD), U+2028 and
// U+2029 always, and <, > and & when escapeHTML is set (as json.Marshal
// does; an Encoder may turn it off).
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	// Long strings (schema URNs, addresses) are mostly plain ASCII: their
	// plain start is passed over eight bytes at a time, up to the first
	// byte that needs a look. Short ones go straight to the byte loop.
	i := 0
	for i+8 <= len(s) {
		if m := special(load8(s, i), escapeHTML); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			break
		}
		i += 8
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] || (!escapeHTML && (c == '<' || c == '>' || c == '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hex = "0123456789abcdef"

// load8 reads the eight bytes of s from i as one little-endian word.
func load8(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// special marks the bytes of x that may need escaping or decoding: a
// control character, a quote, a backslash, a byte of a multi-byte
// sequence, or, with escapeHTML, <, > or &. A byte above a marked one may
// be marked wrongly (a borrow crosses into it), never one below: the
// lowest byte marked is one that needs a look.
func special(x uint64, escapeHTML bool) uint64 {
	m := x&high | below(x, 0x20) | equal(x, '"') | equal(x, '\\')
	if escapeHTML {
		m |= equal(x, '<') | equal(x, '>') | equal(x, '&')
	}
	return m
}

// below marks the bytes of x that are less than n, exactly for the lowest
// such byte; bytes of 0x80 and above are never marked.
func below(x uint64, n byte) uint64 { return (x - ones*uint64(n)) &^ x & high }

// equal marks the bytes of x that are c, exactly for the lowest one.
func equal(x uint64, c byte) uint64 { return below(x^(ones*uint64(c)), 1) }

// plain marks the ASCII bytes a JSON string holds as they are, HTML
// characters excluded.
var plain = func() (p [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return p
}()

// AppendValue appends v's JSON encoding. Strings, booleans, nil, lists
// and string-keyed maps of them are written here, maps with their keys in
// byte order; any other value is written by encoding/json, so the output
// is always what encoding/json makes of v (json.Marshal when escapeHTML
// is set, an Encoder with SetEscapeHTML(false) otherwise, without its
// newline), and so is the error.
func AppendValue(dst []byte, v any, escapeHTML bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendString(dst, x, escapeHTML), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case []string:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s, escapeHTML)
		}
		return append(dst, ']'), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendValue(dst, e, escapeHTML); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendObject(dst, x, escapeHTML)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendObject appends a map as encoding/json does, its keys sorted.
func appendObject(dst []byte, m map[string]any, escapeHTML bool) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k, escapeHTML)
		dst = append(dst, ':')
		var err error
		if dst, err = AppendValue(dst, m[k], escapeHTML); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}
