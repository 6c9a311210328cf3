// Package file is a source connector for HR exports: a CSV file with a
// header row, a JSON array of flat objects, or JSON Lines. The file is read
// whole on every cycle (a snapshot source) and the engine finds changes by
// comparing content with the previous read. A malformed record fails alone:
// it comes back as an Object with Invalid set and reading goes on.
//
// In a job's configuration:
//
//	source:
//	  file:
//	    path: hr-users.csv          # relative to the job file
//	    idColumn: employeeId
//	    disabledColumn: status
//	    disabledValues: [Inactive, Terminated]
//
// Every column becomes a string attribute named by its header; an empty
// cell is a nil value, so a value emptied in the export clears the target.
// Records are located for messages as "row N" in CSV, N being the line the
// record starts on with the header as row 1; "record N" for the Nth element
// of a JSON array; "line N" in JSON Lines.
//
// Values the target generates (an e-mail address) can be written back to
// the record they belong to; the file is then replaced atomically.
package file

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// Formats a file can be read in.
const (
	CSV   = "csv"
	JSON  = "json"  // a top-level array of objects
	JSONL = "jsonl" // one object per line
)

// Config says which file to read and how its columns map onto objects.
//
// For a JSON file a "column" is a field of each object.
type Config struct {
	Path string `json:"path,omitempty" yaml:"path"`
	// Format is csv, json or jsonl; by default it follows the extension
	// (.csv, .json, .jsonl or .ndjson).
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
	// Type is the object type the file holds: User (default) or Group.
	Type connectors.ObjectType `json:"type,omitempty" yaml:"type,omitempty"`
	// IDColumn holds each record's stable source anchor (an employee ID).
	IDColumn string `json:"idColumn" yaml:"idColumn"`
	// DisabledColumn and DisabledValues mark accounts disabled: a record is
	// disabled when the column holds one of the values, compared without
	// regard to case. The values default to ["true"].
	DisabledColumn string   `json:"disabledColumn,omitempty" yaml:"disabledColumn,omitempty"`
	DisabledValues []string `json:"disabledValues,omitempty" yaml:"disabledValues,omitempty"`
	// MembersColumn lists a group's member IDs, separated by ";" (in JSON
	// also an array of strings).
	MembersColumn string `json:"membersColumn,omitempty" yaml:"membersColumn,omitempty"`
	// Delimiter separates CSV fields: one character, "," by default.
	Delimiter string `json:"delimiter,omitempty" yaml:"delimiter,omitempty"`
	// RecordsPath, for format json, names the array of records inside the
	// top-level object by its field names, separated by dots: Report_Entry
	// for a Workday report, d.results for SuccessFactors OData v2, value for
	// OData v4. Without it the top-level value is the array.
	RecordsPath string `json:"recordsPath,omitempty" yaml:"recordsPath,omitempty"`
}

// settings is a checked Config with its defaults applied.
type settings struct {
	Config
	format   string
	comma    rune
	disabled []string // DisabledValues, trimmed
	path     []string // RecordsPath, split
}

// Validate checks the configuration and that the file can be read and has
// the configured columns. Every problem is reported as a
// connectors.FieldError.
func (c Config) Validate() error {
	s, err := c.settings()
	if err != nil {
		return err
	}
	return s.checkFile()
}

// Open returns a source over the file. The file itself is opened by each
// read, so a source can be created before the first export arrives.
func (c Config) Open() (*Source, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	return &Source{cfg: s}, nil
}

func (c Config) settings() (*settings, error) { return c.parse(c.Path, true) }

// Columns checks the configuration of an export read from an Origin (see
// NewSource): every field but Path, Format required.
func (c Config) Columns() error {
	_, err := c.parse("", false)
	return err
}

// parse checks the configuration; name is the file's path, whose extension
// may tell the format, and file requires one.
func (c Config) parse(name string, file bool) (*settings, error) {
	s := &settings{Config: c, comma: ','}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, connectors.Invalid(field, format, args...))
	}
	if file && c.Path == "" {
		bad("path", "required")
	}
	switch f := strings.ToLower(c.Format); f {
	case CSV, JSON, JSONL:
		s.format = f
	case "":
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv":
			s.format = CSV
		case ".json":
			s.format = JSON
		case ".jsonl", ".ndjson":
			s.format = JSONL
		default:
			if name != "" {
				bad("format", "cannot tell the format from the name %q: set csv, json or jsonl", filepath.Base(name))
			} else if !file {
				bad("format", "required: csv, json or jsonl")
			}
		}
	default:
		bad("format", "%q is not csv, json or jsonl", c.Format)
	}
	switch c.Type {
	case "":
		s.Type = connectors.User
	case connectors.User, connectors.Group:
	default:
		bad("type", "%q is not User or Group", c.Type)
	}
	if c.IDColumn == "" {
		bad("idColumn", "required")
	}
	if c.Delimiter != "" {
		r, n := utf8.DecodeRuneInString(c.Delimiter)
		if n != len(c.Delimiter) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
			bad("delimiter", "%q must be one character other than a quote or a line break", c.Delimiter)
		}
		s.comma = r
	}
	if c.RecordsPath != "" {
		s.path = strings.Split(c.RecordsPath, ".")
		if slices.Contains(s.path, "") {
			bad("recordsPath", "%q has an empty field name", c.RecordsPath)
		}
		if s.format != JSON {
			bad("recordsPath", "only for format json")
		}
	}
	values := c.DisabledValues
	if len(values) == 0 {
		values = []string{"true"}
	}
	for _, v := range values {
		s.disabled = append(s.disabled, strings.TrimSpace(v))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// checkFile reads the start of the file to check that the configured
// columns exist: the CSV header, or the first JSON record.
func (s *settings) checkFile() error {
	f, err := os.Open(s.Path)
	if err != nil {
		return connectors.Invalid("path", "%w", err)
	}
	defer f.Close()
	if s.format != CSV {
		first, err := firstJSONRecord(f, s.format, s.path)
		if err != nil {
			return connectors.Invalid("path", "%s: %w", s.Path, err)
		}
		if first != nil {
			if _, ok := first[s.IDColumn]; !ok {
				return connectors.Invalid("idColumn", "field %q not in the first record of %s", s.IDColumn, s.Path)
			}
		}
		return nil
	}
	h, _, err := readHeader(bufio.NewReader(f), s.comma)
	if err != nil {
		return connectors.Invalid("path", "%s: %w", s.Path, err)
	}
	var errs []error
	for _, c := range []struct{ field, name string }{
		{"idColumn", s.IDColumn}, {"disabledColumn", s.DisabledColumn}, {"membersColumn", s.MembersColumn},
	} {
		if _, ok := h.index[c.name]; c.name != "" && !ok {
			errs = append(errs, connectors.Invalid(c.field, "column %q not in the header of %s", c.name, s.Path))
		}
	}
	return errors.Join(errs...)
}
