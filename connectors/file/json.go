package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// jsonRows reads the elements of a top-level JSON array. Unlike a CSV row,
// a syntax error here ends the read: where the next element starts cannot
// be told.
type jsonRows struct {
	sh   *shape
	dec  *json.Decoder
	base int64 // file offset of the decoder's offset 0
	at   position
}

func openJSON(in *input, sh *shape, p *position) (rows, error) {
	j := &jsonRows{sh: sh}
	if p == nil {
		br := in.from(0)
		j.base = skipBOM(br)
		j.dec = json.NewDecoder(br)
		if err := enterRecords(j.dec, sh.path); err == io.EOF {
			return nil, errors.New("the file is empty: expected a JSON array")
		} else if err != nil {
			return nil, err
		}
		j.at = position{0, j.base + j.dec.InputOffset()}
	} else {
		// A decoder only accepts the comma before the next element inside
		// an array, after an element: a made-up "[0" puts it there, inside
		// made-up objects that lead to the records as the real ones do.
		var lead strings.Builder
		for _, name := range sh.path {
			k, _ := json.Marshal(name)
			lead.WriteString("{" + string(k) + ":")
		}
		lead.WriteString("[0")
		j.dec = json.NewDecoder(io.MultiReader(strings.NewReader(lead.String()), in.from(p.off)))
		var zero int
		if err := enterRecords(j.dec, sh.path); err != nil {
			return nil, err
		}
		if err := j.dec.Decode(&zero); err != nil {
			return nil, err
		}
		j.base, j.at = p.off-int64(lead.Len()), *p
	}
	j.dec.UseNumber()
	return j, nil
}

// nextLinks are the fields beside a page of records that lead to the next
// page (OData v2, v4): a document holding one is not the whole export.
var nextLinks = []string{"__next", "@odata.nextLink", "odata.nextLink"}

// enterRecords reads dec up to the opening bracket of the array of
// records: the top-level value, or the one at path inside objects. It
// returns io.EOF for an empty document.
func enterRecords(dec *json.Decoder, path []string) error {
	for depth, name := range path {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != json.Delim('{') {
			return fmt.Errorf("expected a JSON object holding %q (recordsPath %s), found %s", name, strings.Join(path, "."), describeToken(tok))
		}
		for {
			if !dec.More() {
				return fmt.Errorf("no field %q in the JSON object at %s (recordsPath %s)", name, where(path[:depth]), strings.Join(path, "."))
			}
			key, err := dec.Token()
			if err != nil {
				return err
			}
			if key == name {
				break
			}
			if err := skipField(dec, key, depth == len(path)-1); err != nil {
				return err
			}
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == json.Delim('[') {
		return nil
	}
	if len(path) > 0 {
		return fmt.Errorf("%s is %s, not an array of records", where(path), describeToken(tok))
	}
	if tok == json.Delim('{') {
		return errors.New("not a JSON array but an object: set recordsPath to the field that holds the records (Report_Entry for a Workday report, d.results for SuccessFactors OData), or format jsonl for one object per line")
	}
	return errors.New("not a JSON array (for one object per line, set format jsonl)")
}

// leaveRecords reads what follows the array of records' closing bracket:
// the rest of the objects around it, then nothing.
func leaveRecords(dec *json.Decoder, path []string, base int64) error {
	for depth := len(path) - 1; depth >= 0; depth-- {
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			if err := skipField(dec, key, depth == len(path)-1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	end := base + dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the array's closing bracket at byte %d", end)
	}
	return nil
}

// skipField reads the value of field key without keeping it. Beside the
// records, a link to a next page fails the read: the records are a page.
func skipField(dec *json.Decoder, key json.Token, besideRecords bool) error {
	if k, ok := key.(string); ok && besideRecords && slices.Contains(nextLinks, k) {
		var link any
		if err := dec.Decode(&link); err != nil {
			return err
		}
		if link != nil && link != "" {
			return fmt.Errorf("the records are one page of a longer result (it has a %s link to the next page): export them whole, or ask for a page size that holds them all", k)
		}
		return nil
	}
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func where(path []string) string {
	if len(path) == 0 {
		return "the top level"
	}
	return strings.Join(path, ".")
}

func describeToken(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "an object"
	case json.Delim('['):
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("the value %v", tok)
}

func (j *jsonRows) pos() position { return j.at }

func (j *jsonRows) next() (record, error) {
	if !j.dec.More() {
		if _, err := j.dec.Token(); err != nil {
			return record{}, j.syntax(err)
		}
		if err := leaveRecords(j.dec, j.sh.path, j.base); err != nil {
			var se *json.SyntaxError
			if err == io.EOF || errors.As(err, &se) {
				return record{}, j.syntax(err)
			}
			return record{}, err
		}
		return record{}, io.EOF
	}
	var v any
	if err := j.dec.Decode(&v); err != nil {
		return record{}, j.syntax(err)
	}
	j.at = position{j.at.n + 1, j.base + j.dec.InputOffset()}
	return j.sh.object(j.at.n, v), nil
}

func (j *jsonRows) syntax(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("record %d: %v near byte %d; the records after it cannot be read", j.at.n+1, err, j.base+se.Offset)
	}
	return fmt.Errorf("record %d: %w", j.at.n+1, err)
}

// jsonlRows reads JSON Lines: one object per line, blank lines skipped.
// Records are numbered by line, so an editor finds them.
type jsonlRows struct {
	sh   *shape
	br   *bufio.Reader
	long []byte // a line longer than br's buffer
	at   position
}

func openJSONL(in *input, sh *shape, p *position) rows {
	if p == nil {
		br := in.from(0)
		return &jsonlRows{sh: sh, br: br, at: position{0, skipBOM(br)}}
	}
	return &jsonlRows{sh: sh, br: in.from(p.off), at: *p}
}

func (j *jsonlRows) pos() position { return j.at }

func (j *jsonlRows) next() (record, error) {
	for {
		line, err := j.line()
		if err != nil {
			return record{}, err
		}
		if len(line) == 0 {
			return record{}, io.EOF
		}
		j.at = position{j.at.n + 1, j.at.off + int64(len(line))}
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		return j.sh.decoded(j.at.n, line), nil
	}
}

// line returns the next line with its line break; empty at the end of
// the file, which is not an error here.
func (j *jsonlRows) line() ([]byte, error) {
	b, err := j.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		if err == io.EOF {
			err = nil
		}
		return b, err
	}
	j.long = append(j.long[:0], b...)
	for err == bufio.ErrBufferFull {
		b, err = j.br.ReadSlice('\n')
		j.long = append(j.long, b...)
	}
	if err == io.EOF {
		err = nil
	}
	return j.long, err
}
