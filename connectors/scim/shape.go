package scim

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/jsonenc"
)

// A mapping gives every user it creates the same attributes, so every
// create's body has the same structure: only the values differ. A shape
// is that structure, written once as JSON cut where the values go; a
// create with the same attributes is written into it, value by value,
// where building the resource's nested maps and encoding them, keys
// sorted at every level, cost a dozen allocations and most of the body's
// CPU. The body is byte for byte the one encodeBody writes of
// buildResource's resource.
type shape struct {
	names []string // the attributes with values, sorted
	// parts are the JSON around the values, one more than slots.
	parts [][]byte
	// slots are the attributes whose values go between parts, in order.
	slots []slot
	// size is the bytes of the parts and the closing newline, with room
	// for the values besides.
	size int
}

type slot struct {
	name string
	path attrPath
}

// shapes caches the shapes of a client's creates by object type and
// attributes. The last one used per type is checked first: a job's
// creates seldom change shape.
type shapes struct {
	mu   sync.Mutex
	byID map[string]*shape // object type, NUL, the names joined by NUL
	last map[connectors.ObjectType]*shape
}

// maxNames bounds the attributes a create may have to be written into a
// shape; one with more is built as a resource.
const maxNames = 64

// encodeResource returns the body of a create of attrs.
func (c *Client) encodeResource(t connectors.ObjectType, attrs connectors.Attributes) ([]byte, error) {
	var buf [maxNames]string
	names := buf[:0]
	for k, v := range attrs {
		if isEmpty(v) {
			continue
		}
		if len(names) == maxNames {
			return c.encodeBuilt(t, attrs)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	s, err := c.shapes.get(c, t, names)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.encodeBuilt(t, attrs)
	}
	b := make([]byte, 0, s.size)
	b = append(b, s.parts[0]...)
	for i, sl := range s.slots {
		if b, err = jsonenc.AppendValue(b, c.wireValue(t, sl.path, attrs[sl.name], false), false); err != nil {
			return nil, err
		}
		b = append(b, s.parts[i+1]...)
	}
	return append(b, '\n'), nil
}

// encodeBuilt builds the resource of a create and encodes it.
func (c *Client) encodeBuilt(t connectors.ObjectType, attrs connectors.Attributes) ([]byte, error) {
	res, err := c.buildResource(t, attrs)
	if err != nil {
		return nil, err
	}
	return encodeBody(res)
}

// get returns the shape of a create of type t with the attributes names,
// sorted, or nil when its body must be built (see newShape).
func (ss *shapes) get(c *Client, t connectors.ObjectType, names []string) (*shape, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.last[t]; s != nil && slices.Equal(s.names, names) {
		return s, nil
	}
	id := string(t) + "\x00" + strings.Join(names, "\x00")
	s, ok := ss.byID[id]
	if !ok {
		var err error
		if s, err = c.newShape(t, slices.Clone(names)); err != nil {
			return nil, err
		}
		if ss.byID == nil {
			ss.byID, ss.last = map[string]*shape{}, map[connectors.ObjectType]*shape{}
		}
		// Shapes are few (the mappings' attribute sets); a client that met
		// very many is likely given attributes of its own per object, and
		// starts again.
		if len(ss.byID) >= 256 {
			clear(ss.byID)
		}
		ss.byID[id] = s
	}
	if s != nil {
		ss.last[t] = s
	}
	return s, nil
}

// slotMark is the text a value's place holds while a shape is written;
// the mark cannot come out of a path or a schema URN.
const slotMark = "\x00slot\x00"

// newShape writes the resource of a create with the attributes names,
// each value a mark of its place, and cuts it at the marks. It returns
// nil when the structure could depend on the values: a path whose value
// is the very attribute its filter selects elements by.
func (c *Client) newShape(t connectors.ObjectType, names []string) (*shape, error) {
	marks := make(connectors.Attributes, len(names))
	paths := make([]attrPath, len(names))
	for i, name := range names {
		p, err := parsePath(name)
		if err != nil {
			return nil, err
		}
		if _, ok := p.seed[p.sub]; ok {
			return nil, nil
		}
		paths[i] = p
		marks[name] = slotMark + strconv.Itoa(i) + slotMark
	}
	res, err := c.assembleResource(t, marks, func(_ attrPath, v any) any { return v })
	if err != nil {
		return nil, err
	}
	body, err := encodeBody(res)
	if err != nil {
		return nil, err
	}
	body = body[:len(body)-1] // the newline goes after the last value
	quoted, err := jsonenc.AppendValue(nil, slotMark, false)
	if err != nil {
		return nil, err
	}
	mark := quoted[1 : len(quoted)-1] // as JSON escapes it
	s := &shape{names: names}
	for {
		// A value's place is `"`, the mark, its index, the mark, `"`.
		at := bytes.Index(body, mark)
		if at < 0 {
			s.parts = append(s.parts, body)
			s.size = 1 + 32*len(s.slots)
			for _, p := range s.parts {
				s.size += len(p)
			}
			return s, nil
		}
		rest := body[at+len(mark):]
		end := bytes.Index(rest, mark)
		if at == 0 || body[at-1] != '"' || end < 0 || len(rest) == end+len(mark) || rest[end+len(mark)] != '"' {
			return nil, nil
		}
		i, err := strconv.Atoi(string(rest[:end]))
		if err != nil || i < 0 || i >= len(names) {
			return nil, nil
		}
		s.parts = append(s.parts, body[:at-1])
		s.slots = append(s.slots, slot{name: names[i], path: paths[i]})
		body = rest[end+len(mark)+1:]
	}
}
