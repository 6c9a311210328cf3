package file

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// object turns a decoded JSON record into an Object.
func (sh *shape) object(n int64, v any) record {
	m, ok := v.(map[string]any)
	if !ok {
		return sh.invalid(n, "", "not a JSON object")
	}
	id, err := jsonID(m[sh.IDColumn])
	if err != nil {
		return sh.invalid(n, "", fmt.Sprintf("%s %v", sh.IDColumn, err))
	}
	if id == "" {
		return sh.invalid(n, "", fmt.Sprintf("%s is empty", sh.IDColumn))
	}
	rec := record{n: n, anchored: true, obj: connectors.Object{ID: id}}
	if sh.bare(id) {
		return rec
	}
	rec.obj.Locator = sh.locator(n)
	attrs := make(connectors.Attributes, len(m))
	for k, x := range m {
		if !sh.keep(k) {
			continue
		}
		if attrs[k], err = jsonValue(x); err != nil {
			return sh.invalid(n, id, fmt.Sprintf("field %q: %v", k, err))
		}
	}
	rec.obj.Attributes = attrs
	if sh.DisabledColumn != "" {
		rec.obj.Disabled = sh.isDisabled(jsonText(m[sh.DisabledColumn]))
	}
	if sh.MembersColumn != "" {
		if rec.obj.Members, err = jsonMembers(m[sh.MembersColumn]); err != nil {
			return sh.invalid(n, id, fmt.Sprintf("field %q: %v", sh.MembersColumn, err))
		}
	}
	return rec
}

func jsonID(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	}
	return "", errors.New("must be a string or a number")
}

// jsonValue converts a field to an attribute value: strings, booleans,
// numbers (int64 when integral, else float64) and arrays of strings. An
// empty string or array is nil, as an empty CSV cell is.
func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return x, nil
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", x)
		}
		if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil
		}
		return f, nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("an array may hold only strings")
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errors.New("nested objects are not supported")
}

// jsonText is a scalar's text, to compare with the disabled values.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	return ""
}

func jsonMembers(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return splitMembers(x), nil
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("members must be strings")
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, errors.New("members must be a string or an array of strings")
}

// firstJSONRecord returns the file's first record if it is an object, for
// checking the configuration; nil when there is none to check.
func firstJSONRecord(r io.Reader, format string, path []string) (map[string]any, error) {
	br := bufio.NewReader(r)
	skipBOM(br)
	dec := json.NewDecoder(br)
	if format == JSON {
		if err := enterRecords(dec, path); err == io.EOF {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if !dec.More() {
			return nil, nil
		}
	}
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil, nil // a malformed record fails alone when read
	}
	return m, nil
}
