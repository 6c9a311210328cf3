package mapping

import (
	"fmt"
	"strings"
)

// checkTarget validates a target attribute path. Plain names
// (`userName`, `sAMAccountName`), sub-attributes (`name.givenName`), SCIM
// value paths (`emails[type eq "work"].value`) and extension schema
// attributes (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`)
// are accepted; the path is otherwise an opaque key for the target.
func checkTarget(path string) error {
	rest := path
	if len(rest) >= 4 && strings.EqualFold(rest[:4], "urn:") {
		end := strings.IndexByte(rest, '[')
		if end < 0 {
			end = len(rest)
		}
		colon := strings.LastIndexByte(rest[:end], ':')
		urn := rest[:colon]
		for _, part := range strings.Split(urn, ":") {
			if part == "" || strings.ContainsAny(part, " \t") {
				return fmt.Errorf("schema URN %q is malformed", urn)
			}
		}
		rest = rest[colon+1:]
	}
	name, rest := splitName(rest)
	if name == "" {
		return fmt.Errorf("expected an attribute name at %q", rest)
	}
	if strings.HasPrefix(rest, "[") {
		end := closingBracket(rest)
		if end < 0 {
			return fmt.Errorf("value filter is not closed with ]")
		}
		if err := checkFilter(rest[1:end]); err != nil {
			return fmt.Errorf("value filter: %w", err)
		}
		rest = rest[end+1:]
	}
	for rest != "" {
		if rest[0] != '.' {
			return fmt.Errorf("unexpected %q", rest)
		}
		name, rest = splitName(rest[1:])
		if name == "" {
			return fmt.Errorf("expected a sub-attribute name after \".\"")
		}
	}
	return nil
}

// splitName splits an attribute name (a letter, then letters, digits, "-"
// or "_"; or "$ref") off the front of s.
func splitName(s string) (name, rest string) {
	if strings.HasPrefix(s, "$ref") {
		return s[:4], s[4:]
	}
	i := 0
	for i < len(s) {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_')) {
			break
		}
		i++
	}
	return s[:i], s[i:]
}

// closingBracket finds the ] that ends a value filter, skipping quoted text.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == ']':
			return i
		}
	}
	return -1
}

var filterOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

// checkFilter validates a value filter: comparisons `attr op value` or
// `attr pr`, joined by and/or.
func checkFilter(f string) error {
	words, err := filterWords(f)
	if err != nil {
		return err
	}
	for i := 0; ; {
		if i >= len(words) {
			return fmt.Errorf("expected a comparison such as type eq \"work\"")
		}
		if name, rest := splitName(words[i]); name == "" || rest != "" {
			return fmt.Errorf("%q is not an attribute name", words[i])
		}
		if i+1 < len(words) && strings.EqualFold(words[i+1], "pr") {
			i += 2
		} else {
			if i+2 >= len(words) || !filterOps[strings.ToLower(words[i+1])] {
				return fmt.Errorf("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after %q", words[i])
			}
			if !filterValue(words[i+2]) {
				return fmt.Errorf("%s is not a quoted string, number, true, false or null", words[i+2])
			}
			i += 3
		}
		if i == len(words) {
			return nil
		}
		if w := strings.ToLower(words[i]); w != "and" && w != "or" {
			return fmt.Errorf("expected and/or, got %q", words[i])
		}
		i++
	}
}

// filterWords splits a filter on spaces, keeping quoted strings whole.
func filterWords(f string) ([]string, error) {
	var words []string
	for i := 0; i < len(f); {
		switch {
		case f[i] == ' ':
			i++
		case f[i] == '"':
			j := i + 1
			for j < len(f) && f[j] != '"' {
				if f[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(f) {
				return nil, fmt.Errorf("string is not closed with \"")
			}
			words = append(words, f[i:j+1])
			i = j + 1
		default:
			j := strings.IndexByte(f[i:], ' ')
			if j < 0 {
				j = len(f) - i
			}
			words = append(words, f[i:i+j])
			i += j
		}
	}
	return words, nil
}

func filterValue(w string) bool {
	if strings.HasPrefix(w, `"`) {
		return true
	}
	switch strings.ToLower(w) {
	case "true", "false", "null":
		return true
	}
	for i, c := range w {
		if !(c >= '0' && c <= '9' || c == '.' || (i == 0 && c == '-')) {
			return false
		}
	}
	return w != "" && w != "-"
}
