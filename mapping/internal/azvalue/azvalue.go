// Package azvalue reads source attribute values (string, bool, int64,
// float64, []string or nil) the way Azure's provisioning service types
// them: booleans print as "True"/"False", numbers in invariant culture, and
// empty strings and empty lists count as no value.
package azvalue

import (
	"strconv"
	"strings"
)

// IsEmpty reports whether v is null or empty: nil, "", or an empty list.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	}
	return false
}

// IsMulti reports whether v is a multi-valued attribute value.
func IsMulti(v any) bool {
	_, ok := v.([]string)
	return ok
}

// Text returns the string form of a single value. ok is false for nil,
// multi-valued values and unknown types.
func Text(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return FormatFloat(x), true
	}
	return "", false
}

// Display renders any value for people: lists are joined with ", ".
func Display(v any) string {
	if m, ok := v.([]string); ok {
		return strings.Join(m, ", ")
	}
	s, _ := Text(v)
	return s
}

// FormatBool spells a boolean as .NET does.
func FormatBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// FormatFloat prints a float in the shortest form that reads back exactly.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Bool reads a boolean: a bool, or a string that .NET's Boolean.Parse
// accepts ("true"/"false" in any case, surrounding white space allowed).
func Bool(v any) (b, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		return ParseBool(x)
	}
	return false, false
}

// ParseBool parses "True"/"False" case-insensitively.
func ParseBool(s string) (b, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// Int reads an integer: an int64, an integral float64, or a base-10 string
// with optional sign and surrounding white space.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}
