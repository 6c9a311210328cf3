package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		tok, err := j.dec.Token()
		if err == io.EOF {
			return nil, errors.New("the file is empty: expected a JSON array")
		}
		if err != nil {
			return nil, err
		}
		if tok != json.Delim('[') {
			return nil, errors.New("the file is not a JSON array (for one object per line, set format jsonl)")
		}
		j.at = position{0, j.base + j.dec.InputOffset()}
	} else {
		// A decoder only accepts the comma before the next element inside
		// an array, after an element: a made-up "[0" puts it there.
		j.dec = json.NewDecoder(io.MultiReader(strings.NewReader("[0"), in.from(p.off)))
		var zero int
		if _, err := j.dec.Token(); err != nil {
			return nil, err
		}
		if err := j.dec.Decode(&zero); err != nil {
			return nil, err
		}
		j.base, j.at = p.off-2, *p
	}
	j.dec.UseNumber()
	return j, nil
}

func (j *jsonRows) pos() position { return j.at }

func (j *jsonRows) next() (record, error) {
	if !j.dec.More() {
		if _, err := j.dec.Token(); err != nil {
			return record{}, j.syntax(err)
		}
		end := j.base + j.dec.InputOffset()
		if _, err := j.dec.Token(); err != io.EOF {
			return record{}, fmt.Errorf("data after the array's closing bracket at byte %d", end)
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
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return j.sh.invalid(j.at.n, "", "not valid JSON: "+err.Error()), nil
		}
		if _, err := dec.Token(); err != io.EOF {
			return j.sh.invalid(j.at.n, "", "more than one JSON value on the line"), nil
		}
		return j.sh.object(j.at.n, v), nil
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
