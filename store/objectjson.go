package store

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// AppendObjectJSON appends o's JSON encoding, byte for byte as
// json.Marshal makes it, without reflection: every object staged is
// encoded.
func AppendObjectJSON(b []byte, o connectors.Object) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, o.ID)
	if o.Locator != "" {
		b = append(b, `,"locator":`...)
		b = appendJSONString(b, o.Locator)
	}
	if len(o.Attributes) > 0 {
		b = append(b, `,"attributes":`...)
		var err error
		if b, err = appendJSONObject(b, o.Attributes); err != nil {
			return b, err
		}
	}
	if o.Disabled {
		b = append(b, `,"disabled":true`...)
	}
	if o.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	if len(o.Members) > 0 {
		b = append(b, `,"members":`...)
		b, _ = AppendJSON(b, o.Members)
	}
	if o.Invalid != "" {
		b = append(b, `,"invalid":`...)
		b = appendJSONString(b, o.Invalid)
	}
	return append(b, '}'), nil
}

// ObjectDecoder decodes source objects as AppendObjectJSON encodes them,
// with the result json.Unmarshal gives, without reflection: a batch
// decodes every object it provisions. Input of any other shape, or that
// is not valid JSON, goes through json.Unmarshal. It keeps the attribute
// names it meets, so that objects decoded by one decoder share them; it
// is not safe for concurrent use.
type ObjectDecoder struct {
	names map[string]string
	// width is how many attributes the last object had: the next one's
	// map is made that large rather than grown.
	width int
}

// DecodeObject decodes one object into a zero o. When data has the
// shape AppendObjectJSON writes, it also returns the encoding of o's
// attributes, a part of data; otherwise nothing.
func (d *ObjectDecoder) DecodeObject(data []byte, o *connectors.Object) (EncodedJSON, error) {
	if attrs, ok := d.object(data, o); ok {
		return attrs, nil
	}
	*o = connectors.Object{}
	return "", json.Unmarshal(data, o)
}

// DecodeAttributes decodes an attribute map into a nil a.
func (d *ObjectDecoder) DecodeAttributes(data []byte, a *connectors.Attributes) error {
	p := parser{d: d, b: data}
	if m, ok := p.attributes(); ok && p.i == len(p.b) {
		*a = m
		return nil
	}
	*a = nil
	return json.Unmarshal(data, a)
}

// object decodes data into o if it has the usual shape, and returns the
// encoding of o's attributes.
func (d *ObjectDecoder) object(data []byte, o *connectors.Object) (attrs EncodedJSON, _ bool) {
	p := parser{d: d, b: data}
	if !p.byte('{') {
		return "", false
	}
	var seen uint8
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return "", false
		}
		key, ok := p.rawKey()
		if !ok || !p.byte(':') {
			return "", false
		}
		var field uint8
		switch key {
		case "id":
			field = 1
			ok = p.optString(&o.ID)
		case "locator":
			field = 2
			ok = p.optString(&o.Locator)
		case "attributes":
			field = 4
			if start := p.i; !p.null() {
				if o.Attributes, ok = p.attributes(); ok {
					attrs = EncodedJSON(p.substring(start, p.i))
				}
			}
		case "disabled":
			field = 8
			ok = p.optBool(&o.Disabled)
		case "deleted":
			field = 16
			ok = p.optBool(&o.Deleted)
		case "members":
			field = 32
			if !p.null() {
				o.Members, ok = p.strings()
			}
		case "invalid":
			field = 64
			ok = p.optString(&o.Invalid)
		default:
			return "", false
		}
		// A field given twice merges for encoding/json; it is left to it.
		if !ok || seen&field != 0 {
			return "", false
		}
		seen |= field
	}
	return attrs, p.i == len(p.b)
}

// parser reads JSON without whitespace, as AppendJSON writes it.
type parser struct {
	d *ObjectDecoder
	b []byte
	i int
	// text is b as a string, made at the first string value: every value
	// is a part of it, where a copy each was an allocation each.
	text string
}

// substring returns b[start:end] as a part of text.
func (p *parser) substring(start, end int) string {
	if p.text == "" {
		p.text = string(p.b)
	}
	return p.text[start:end]
}

// byte consumes c if it comes next.
func (p *parser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// literal consumes s if it comes next.
func (p *parser) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *parser) null() bool { return p.literal("null") }

// rawKey reads a key of plain characters, as the fields' names are.
func (p *parser) rawKey() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			key := p.b[start:p.i]
			p.i++
			switch string(key) { // no allocation: compared in place
			case "id":
				return "id", true
			case "locator":
				return "locator", true
			case "attributes":
				return "attributes", true
			case "disabled":
				return "disabled", true
			case "deleted":
				return "deleted", true
			case "members":
				return "members", true
			case "invalid":
				return "invalid", true
			}
			return "", false
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return "", false
		}
		p.i++
	}
	return "", false
}

// optString reads a string, or null, which leaves s as it is.
func (p *parser) optString(s *string) bool {
	if p.null() {
		return true
	}
	v, ok := p.string(false)
	if ok {
		*s = v
	}
	return ok
}

// optBool reads a boolean, or null, which leaves v as it is.
func (p *parser) optBool(v *bool) bool {
	switch {
	case p.literal("true"):
		*v = true
	case p.literal("false"):
		*v = false
	default:
		return p.null()
	}
	return true
}

// string reads a string; a name is kept to be shared. Strings with
// escapes or bytes that are not valid UTF-8 are decoded by encoding/json.
func (p *parser) string(name bool) (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, plain := p.i, true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !plain && !utf8.Valid(raw) {
				return p.unquote(start - 1)
			}
			if name {
				return p.d.name(raw), true
			}
			return p.substring(start, start+len(raw)), true
		case c == '\\':
			// Escapes are rare: the string is found and decoded whole.
			return p.unquote(start - 1)
		case c < 0x20:
			return "", false // not valid JSON
		case c >= utf8.RuneSelf:
			plain = false
		}
		p.i++
	}
	return "", false
}

// unquote decodes, with encoding/json, the string starting at start.
func (p *parser) unquote(start int) (string, bool) {
	end := start + 1
	for end < len(p.b) && p.b[end] != '"' {
		if p.b[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(p.b) {
		return "", false
	}
	var s string
	if json.Unmarshal(p.b[start:end+1], &s) != nil {
		return "", false
	}
	p.i = end + 1
	return s, true
}

// name returns raw as a string shared by the decoder's objects.
func (d *ObjectDecoder) name(raw []byte) string {
	if s, ok := d.names[string(raw)]; ok {
		return s
	}
	if d.names == nil {
		d.names = map[string]string{}
	}
	if len(d.names) >= 1024 { // names are a mapping's few; values are not kept
		return string(raw)
	}
	s := string(raw)
	d.names[s] = s
	return s
}

// attributes reads an object of attribute values.
func (p *parser) attributes() (connectors.Attributes, bool) {
	m, ok := p.object(p.d.width)
	if ok {
		p.d.width = len(m)
	}
	return connectors.Attributes(m), ok
}

// object reads an object as encoding/json decodes one into an any, in a
// map made for size entries.
func (p *parser) object(size int) (map[string]any, bool) {
	if !p.byte('{') {
		return nil, false
	}
	m := make(map[string]any, size)
	for first := true; ; first = false {
		if p.byte('}') {
			return m, true
		}
		if !first && !p.byte(',') {
			return nil, false
		}
		k, ok := p.string(true)
		if !ok || !p.byte(':') {
			return nil, false
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
	}
}

// strings reads a list of strings.
func (p *parser) strings() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	list := []string{}
	for first := true; ; first = false {
		if p.byte(']') {
			return list, true
		}
		if !first && !p.byte(',') {
			return nil, false
		}
		s, ok := p.string(false)
		if !ok {
			return nil, false
		}
		list = append(list, s)
	}
}

// value reads any value as encoding/json decodes it into an any;
// numbers are left to encoding/json.
func (p *parser) value() (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.string(false)
	case c == '{':
		return p.object(0)
	case c == '[':
		p.i++
		list := []any{}
		for first := true; ; first = false {
			if p.byte(']') {
				return list, true
			}
			if !first && !p.byte(',') {
				return nil, false
			}
			v, ok := p.value()
			if !ok {
				return nil, false
			}
			list = append(list, v)
		}
	case p.literal("true"):
		return true, true
	case p.literal("false"):
		return false, true
	case p.null():
		return nil, true
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] >= '0' && p.b[p.i] <= '9' || p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
			p.i++
		}
		var v any
		if json.Unmarshal(p.b[start:p.i], &v) != nil {
			return nil, false
		}
		return v, true
	}
	return nil, false
}
