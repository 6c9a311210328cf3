package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// Source says where objects are read from: one connection, written under
// the key its connector registered (file, files, scim, ldap, …).
type Source struct {
	Connector connectors.SourceConfig
	// extra lists further connections set beside Connector, refused by
	// Validate.
	extra []string
}

// Target says which application accounts are provisioned into.
type Target struct {
	// Application names the target for operators (a search attribute in the UI).
	Application string
	// Connector is the connection, written under its connector's key.
	Connector connectors.TargetConfig
	extra     []string
}

// Key returns the key the source's connector is registered under.
func (s Source) Key() string {
	k, _ := connectors.SourceKey(s.Connector)
	return k
}

// Key returns the key the target's connector is registered under.
func (t Target) Key() string {
	k, _ := connectors.TargetKey(t.Connector)
	return k
}

// MarshalJSON writes {"<key>": connection}.
func (s Source) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if err := writeConnection(&b, "source", s.Connector, connectors.SourceKey); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalJSON writes {"application": …, "<key>": connection}.
func (t Target) MarshalJSON() ([]byte, error) {
	app, err := json.Marshal(t.Application)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"application":`)
	b.Write(app)
	if t.Connector != nil {
		b.WriteByte(',')
	}
	if err := writeConnection(&b, "target", t.Connector, connectors.TargetKey); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeConnection writes `"<key>": connection`, nothing for none.
func writeConnection[C comparable](b *bytes.Buffer, side string, c C, keyOf func(C) (string, bool)) error {
	var none C
	if c == none {
		return nil
	}
	key, ok := keyOf(c)
	if !ok {
		return fmt.Errorf("%s: %T is not a registered connector configuration", side, c)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", side, key, err)
	}
	k, _ := json.Marshal(key)
	b.Write(k)
	b.WriteByte(':')
	b.Write(v)
	return nil
}

// UnmarshalJSON reads {"<key>": connection}.
func (s *Source) UnmarshalJSON(b []byte) error {
	*s = Source{}
	return readJSON(b, "source", nil, func(key string, raw json.RawMessage) error {
		c, ok := connectors.NewSourceConfig(key)
		if !ok {
			return unknownConnector("source", key, connectors.SourceKeys())
		}
		if err := json.Unmarshal(raw, c); err != nil {
			return fmt.Errorf("source.%s: %w", key, err)
		}
		s.set(key, c)
		return nil
	})
}

// UnmarshalJSON reads {"application": …, "<key>": connection}.
func (t *Target) UnmarshalJSON(b []byte) error {
	*t = Target{}
	return readJSON(b, "target", &t.Application, func(key string, raw json.RawMessage) error {
		c, ok := connectors.NewTargetConfig(key)
		if !ok {
			return unknownConnector("target", key, connectors.TargetKeys())
		}
		if err := json.Unmarshal(raw, c); err != nil {
			return fmt.Errorf("target.%s: %w", key, err)
		}
		t.set(key, c)
		return nil
	})
}

// readJSON passes each connection of an object to conn, in key order,
// reading "application" into app when app is not nil. A null connection
// is none, as an absent one.
func readJSON(b []byte, side string, app *string, conn func(string, json.RawMessage) error) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", side, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch raw := m[k]; {
		case app != nil && k == "application":
			if err := json.Unmarshal(raw, app); err != nil {
				return fmt.Errorf("%s.application: %w", side, err)
			}
		case string(raw) == "null":
		default:
			if err := conn(k, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// UnmarshalYAML reads `<key>: connection`, refusing unknown fields within.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	*s = Source{}
	return readYAML(n, "source", nil, func(key string, v *yaml.Node) error {
		c, ok := connectors.NewSourceConfig(key)
		if !ok {
			return unknownField(v, key, "config.Source")
		}
		if err := decodeStrict(v, "source."+key, c); err != nil {
			return err
		}
		s.set(key, c)
		return nil
	})
}

// UnmarshalYAML reads `application: …` and `<key>: connection`.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	*t = Target{}
	return readYAML(n, "target", &t.Application, func(key string, v *yaml.Node) error {
		c, ok := connectors.NewTargetConfig(key)
		if !ok {
			return unknownField(v, key, "config.Target")
		}
		if err := decodeStrict(v, "target."+key, c); err != nil {
			return err
		}
		t.set(key, c)
		return nil
	})
}

// readYAML passes each connection of a mapping to conn, in document order.
func readYAML(n *yaml.Node, side string, app *string, conn func(string, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s must be a mapping", n.Line, side)}}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		switch {
		case app != nil && key == "application":
			if err := v.Decode(app); err != nil {
				return err
			}
		case v.Tag == "!!null":
		default:
			if err := conn(key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// innerLine is the line number yaml gives an error inside a re-read node.
var innerLine = regexp.MustCompile(`line \d+: `)

// decodeStrict decodes a connection's node into c refusing unknown fields,
// as the whole configuration is read: a node's own Decode would not.
// Errors name the connection at its line.
func decodeStrict(v *yaml.Node, field string, c any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err = dec.Decode(c)
	if err == nil {
		return nil
	}
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	for i, m := range msgs {
		msgs[i] = fmt.Sprintf("line %d: %s: %s", v.Line, field, innerLine.ReplaceAllString(strings.TrimPrefix(m, "yaml: "), ""))
	}
	return &yaml.TypeError{Errors: msgs}
}

func unknownField(v *yaml.Node, key, in string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: field %s not found in type %s", v.Line, key, in)}}
}

func unknownConnector(side, key string, known []string) error {
	return fmt.Errorf("%s: %q is not a known connector (%s)", side, key, strings.Join(known, ", "))
}

func (s *Source) set(key string, c connectors.SourceConfig) {
	if s.Connector != nil {
		s.extra = append(s.extra, key)
		return
	}
	s.Connector = c
}

func (t *Target) set(key string, c connectors.TargetConfig) {
	if t.Connector != nil {
		t.extra = append(t.extra, key)
		return
	}
	t.Connector = c
}

// MarshalYAML writes `<key>: connection`.
func (s Source) MarshalYAML() (any, error) {
	if s.Connector == nil {
		return map[string]any{}, nil
	}
	return map[string]any{s.Key(): s.Connector}, nil
}

// MarshalYAML writes `application: …` and `<key>: connection`.
func (t Target) MarshalYAML() (any, error) {
	m := map[string]any{"application": t.Application}
	if t.Connector != nil {
		m[t.Key()] = t.Connector
	}
	return m, nil
}

// validateConnections checks that one source and one target connection
// are set, and each connection's configuration.
func (j *Job) validateConnections(add func(string, error)) {
	validateConnection(add, "source", j.Source.Connector, j.Source.Key(), j.Source.extra, connectors.SourceKeys())
	validateConnection(add, "target", j.Target.Connector, j.Target.Key(), j.Target.extra, connectors.TargetKeys())
}

func validateConnection[C interface{ Validate() error }](add func(string, error), side string, c C, key string, extra, known []string) {
	switch {
	case len(extra) > 0:
		add(side, fmt.Errorf("set exactly one of %s", strings.Join(known, ", ")))
	case any(c) == nil:
		add(side, fmt.Errorf("set one of %s (required)", strings.Join(known, ", ")))
	case key == "":
		add(side, fmt.Errorf("%T is not a registered connector configuration", c))
	default:
		add(side+"."+key, c.Validate())
	}
}

// resolvePaths takes the relative paths the connections name from dir.
func (j *Job) resolvePaths(dir string) {
	for _, c := range []any{j.Source.Connector, j.Target.Connector} {
		if r, ok := c.(connectors.PathResolver); ok {
			r.ResolvePaths(dir)
		}
	}
}

// sourceTypes returns the object types the source holds when its
// configuration says, before anything is read.
func (j *Job) sourceTypes() ([]connectors.ObjectType, bool) {
	th, ok := j.Source.Connector.(connectors.TypeHolder)
	if !ok {
		return nil, false
	}
	return th.ObjectTypes(), true
}
