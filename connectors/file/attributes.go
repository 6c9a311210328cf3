package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.AttributeChecker = (*Source)(nil)

// CheckAttributes compares names with the file's columns: the CSV header,
// or the fields of a JSON file's records. JSON has no header, so a field is
// there when any record has it; the records are read until every name has
// been seen, the whole file when one is missing. A JSON file without records
// has nothing to compare with (ErrAttributesUnknown).
func (s *Source) CheckAttributes(ctx context.Context, t connectors.ObjectType, names []string) (connectors.AttributeCheck, error) {
	if t != "" && t != s.cfg.Type {
		return connectors.AttributeCheck{}, fmt.Errorf("file source %s holds %s objects, not %s", s.name(), s.cfg.Type, t)
	}
	if len(names) == 0 {
		return connectors.AttributeCheck{}, nil
	}
	name := s.name()
	f, err := s.stream(ctx)
	var ce *connectors.Error
	if errors.As(err, &ce) {
		return connectors.AttributeCheck{}, err
	}
	if err != nil {
		return connectors.AttributeCheck{}, &connectors.Error{Kind: connectors.KindUnavailable, Op: "read " + name, Detail: err.Error()}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var (
		have    map[string]bool
		against string
	)
	if s.cfg.format == CSV {
		h, _, err := readHeader(br, s.cfg.comma)
		if err != nil {
			return connectors.AttributeCheck{}, fmt.Errorf("%s: %w", name, err)
		}
		have, against = map[string]bool{}, "the header of "+name
		for name := range h.index {
			have[name] = true
		}
	} else {
		records := 0
		have, records, err = jsonFields(ctx, br, s.cfg.format, s.cfg.path, names)
		if err != nil {
			return connectors.AttributeCheck{}, fmt.Errorf("%s: %w", name, err)
		}
		if records == 0 {
			return connectors.AttributeCheck{}, fmt.Errorf("%w: %s has no records to learn its fields from", connectors.ErrAttributesUnknown, name)
		}
		against = "the fields of the records of " + name
	}
	check := connectors.AttributeCheck{Against: against}
	known := slices.Sorted(maps.Keys(have))
	for _, n := range names {
		if !have[n] {
			check.Unknown = append(check.Unknown, connectors.UnknownAttribute{Name: n, Suggestion: connectors.Closest(n, known)})
		}
	}
	return check, nil
}

// jsonFields collects the field names of a JSON array's or JSON Lines'
// records until every one of want is among them or the file ends, and
// returns how many records it read. Elements that are not objects and
// malformed lines are skipped, as reads fail them alone.
func jsonFields(ctx context.Context, br *bufio.Reader, format string, path []string, want []string) (map[string]bool, int, error) {
	skipBOM(br)
	have := map[string]bool{}
	missing := len(want)
	add := func(rec map[string]json.RawMessage) {
		for k := range rec {
			if !have[k] {
				have[k] = true
				if slices.Contains(want, k) {
					missing--
				}
			}
		}
	}
	var next func() (map[string]json.RawMessage, error)
	if format == JSON {
		dec := json.NewDecoder(br)
		if err := enterRecords(dec, path); err == io.EOF {
			return have, 0, nil
		} else if err != nil {
			return nil, 0, err
		}
		next = func() (map[string]json.RawMessage, error) {
			if !dec.More() {
				return nil, io.EOF
			}
			var rec map[string]json.RawMessage
			var te *json.UnmarshalTypeError
			if err := dec.Decode(&rec); err != nil && !errors.As(err, &te) {
				return nil, err
			}
			return rec, nil
		}
	} else {
		next = func() (map[string]json.RawMessage, error) {
			for {
				line, err := br.ReadBytes('\n')
				if len(bytes.TrimSpace(line)) > 0 {
					var rec map[string]json.RawMessage
					if json.Unmarshal(line, &rec) == nil {
						return rec, nil
					}
					continue
				}
				if err != nil {
					return nil, err
				}
			}
		}
	}
	records := 0
	for missing > 0 {
		if records%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("record %d: %w", records+1, err)
		}
		records++
		add(rec)
	}
	return have, records, nil
}
