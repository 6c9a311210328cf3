package file

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// commit applies a batch of requests to the file and sets each outcome.
// The file is read again when another program replaced it meanwhile.
func commit(path string, lay layout, batch []*request) {
	var err error
	for range 3 {
		if err = apply(path, lay, batch); err != errReplaced {
			break
		}
	}
	if err != nil {
		for _, r := range batch {
			r.err = writeError(connectors.KindUnavailable, path, err.Error())
		}
	}
}

var errReplaced = errors.New("another program kept changing the file while it was rewritten")

// field is one value to set.
type field struct {
	name  string
	value any
}

// edit is a record to change: its bytes in the file and the values to set.
type edit struct {
	start, end int64
	set        []field
	invalid    string // why the record cannot be read; it is not changed then
}

// merge adds values to set, a later value for a name replacing an earlier.
func (e *edit) merge(values connectors.Attributes) {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		f := field{name, values[name]}
		if i := slices.IndexFunc(e.set, func(g field) bool { return g.name == name }); i >= 0 {
			e.set[i] = f
		} else {
			e.set = append(e.set, f)
		}
	}
}

// apply rewrites the file once with every request it can; requests for IDs
// no valid record holds fail alone.
func apply(path string, lay layout, batch []*request) error {
	// A symbolic link stays one: the file it points to is replaced.
	name, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := f.Stat()
	if err != nil {
		return err
	}
	cfg := &settings{Config: Config{Path: name, IDColumn: lay.id}, format: lay.format, comma: lay.comma}
	found := map[string]*edit{}
	for _, r := range batch {
		found[r.id] = nil
	}
	ends, err := scan(f, old.Size(), cfg, found)
	if err != nil {
		return err
	}
	var edits []*edit // in the order of the requests
	for _, r := range batch {
		e := found[r.id]
		switch {
		case e == nil:
			r.err = writeError(connectors.KindNotFound, path, fmt.Sprintf("no record has %s %q", lay.id, r.id))
		case e.invalid != "":
			r.err = writeError(connectors.KindNotFound, path, fmt.Sprintf("the record with %s %q cannot be read: %s", lay.id, r.id, e.invalid))
		default:
			r.err = nil
			if e.set == nil {
				edits = append(edits, e)
			}
			e.merge(r.values)
		}
	}
	if len(edits) == 0 {
		return nil
	}
	var h *header
	if cfg.format == CSV {
		if h, _, err = readHeader(bufio.NewReader(io.NewSectionReader(f, 0, old.Size())), cfg.comma); err != nil {
			return err
		}
	}
	return replace(name, old, func(dst io.Writer) error {
		o := &output{src: bufio.NewReaderSize(io.NewSectionReader(f, 0, old.Size()), 64<<10), dst: dst}
		var err error
		if h != nil {
			err = o.csv(h, cfg.comma, ends, edits)
		} else {
			err = o.json(edits)
		}
		if err != nil {
			return err
		}
		_, err = io.Copy(dst, o.src)
		return err
	})
}

// scan reads the IDs of the file's records and sets found[id] to the first
// record of each ID asked for, which is the one a read returns. For CSV it
// returns where each record ends.
func scan(f *os.File, size int64, cfg *settings, found map[string]*edit) ([]int64, error) {
	sh := newShape(cfg)
	sh.idsOnly = true
	rs, err := openRows(&input{f: f, end: size}, sh, nil)
	if err != nil {
		return nil, err
	}
	var ends []int64
	for {
		start := rs.pos().off
		rec, err := rs.next()
		if err == io.EOF {
			return ends, nil
		}
		if err != nil {
			return nil, err
		}
		end := rs.pos().off
		if e, asked := found[rec.obj.ID]; asked && e == nil && rec.anchored {
			found[rec.obj.ID] = &edit{start: start, end: end, invalid: rec.obj.Invalid}
		}
		if cfg.format == CSV {
			ends = append(ends, end)
		}
	}
}

// replace writes a new file next to the old one, with its mode, and moves
// it into place once it is on disk.
func replace(name string, old os.FileInfo, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(old.Mode().Perm()); err != nil {
		return err
	}
	keepOwner(tmp, old)
	w := bufio.NewWriterSize(tmp, 64<<10)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := newTime(tmp, old.ModTime()); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Programs that export the file do not take the lock: one that wrote
	// it since it was read must not lose its export to this rewrite.
	now, err := os.Stat(name)
	if err != nil {
		return err
	}
	if !os.SameFile(now, old) || now.Size() != old.Size() || !now.ModTime().Equal(old.ModTime()) {
		return errReplaced
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	return syncDir(dir)
}

// newTime gives the new file a modification time other than the old one's.
// A resumed read tells files apart by size and time, and the clock of a
// file system may tick too coarsely to tell two rewrites in a row apart;
// a file system that keeps coarser times needs the larger step.
func newTime(f *os.File, old time.Time) error {
	for _, step := range []time.Duration{time.Millisecond, 2 * time.Second} {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.ModTime().Equal(old) {
			return nil
		}
		t := old.Add(step)
		if err := os.Chtimes(f.Name(), t, t); err != nil {
			return err
		}
	}
	return nil
}

// output copies the old file to the new one, changing some records.
type output struct {
	src *bufio.Reader // the old file, from its first byte
	dst io.Writer
	at  int64 // bytes of src consumed
	buf []byte
}

// splice copies the bytes before start, then writes what fn makes of the
// bytes from start to end.
func (o *output) splice(start, end int64, fn func(raw []byte) ([]byte, error)) error {
	n, err := io.CopyN(o.dst, o.src, start-o.at)
	o.at += n
	if err != nil {
		return err
	}
	o.buf = slices.Grow(o.buf[:0], int(end-start))[:end-start]
	if _, err := io.ReadFull(o.src, o.buf); err != nil {
		return err
	}
	o.at = end
	out, err := fn(o.buf)
	if err != nil {
		return err
	}
	_, err = o.dst.Write(out)
	return err
}

// csv rewrites the edited rows. Columns that are added get an empty cell
// in every other row, malformed ones too, so that no row's cells shift.
func (o *output) csv(h *header, comma rune, ends []int64, edits []*edit) error {
	index := maps.Clone(h.index)
	var added []string
	for _, e := range edits {
		for _, f := range e.set {
			if _, ok := index[f.name]; !ok && f.value != nil {
				index[f.name] = len(h.names) + len(added)
				added = append(added, f.name)
			}
		}
	}
	width := len(h.names) + len(added)
	change := func(e *edit) func([]byte) ([]byte, error) {
		return func(raw []byte) ([]byte, error) { return csvRow(raw, comma, width, index, e.set) }
	}
	sortByStart(edits)
	if len(added) == 0 {
		for _, e := range edits {
			if err := o.splice(e.start, e.end, change(e)); err != nil {
				return err
			}
		}
		return nil
	}
	// A leading empty cell makes the encoded names start with a delimiter.
	names, err := encodeRow(append([]string{""}, added...), comma, false)
	if err != nil {
		return err
	}
	names = names[:len(names)-1]
	cells := bytes.Repeat([]byte(string(comma)), len(added))
	appendCells := func(suffix []byte) func([]byte) ([]byte, error) {
		return func(raw []byte) ([]byte, error) {
			at := len(raw) - eol(raw)
			return slices.Concat(raw[:at], suffix, raw[at:]), nil
		}
	}
	if err := o.splice(h.bom, h.end.off, appendCells(names)); err != nil {
		return err
	}
	start := h.end.off
	for _, end := range ends {
		fn := appendCells(cells)
		if len(edits) > 0 && edits[0].start == start {
			fn, edits = change(edits[0]), edits[1:]
		}
		if err := o.splice(start, end, fn); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// csvRow sets the values in one CSV row, which keeps its line break and
// the blank lines before it (a CSV reader skips them).
func csvRow(raw []byte, comma rune, width int, index map[string]int, set []field) ([]byte, error) {
	blank := blankLines(raw)
	r := csv.NewReader(bytes.NewReader(raw[blank:]))
	r.Comma = comma
	fields, err := r.Read()
	if err != nil {
		return nil, err
	}
	for len(fields) < width {
		fields = append(fields, "")
	}
	for _, f := range set {
		if i, ok := index[f.name]; ok {
			fields[i] = cellText(f.value)
		}
	}
	brk := eol(raw)
	row, err := encodeRow(fields, comma, brk == 2)
	if err != nil {
		return nil, err
	}
	if brk == 0 { // the last row of a file that does not end in a line break
		row = row[:len(row)-1]
	}
	return slices.Concat(raw[:blank], row), nil
}

// blankLines is the length of the empty lines raw starts with.
func blankLines(raw []byte) int {
	n := 0
	for {
		switch {
		case bytes.HasPrefix(raw[n:], []byte("\n")):
			n++
		case bytes.HasPrefix(raw[n:], []byte("\r\n")):
			n += 2
		default:
			return n
		}
	}
}

func encodeRow(fields []string, comma rune, crlf bool) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = comma, crlf
	if err := w.Write(fields); err != nil {
		return nil, err
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

func sortByStart(edits []*edit) {
	slices.SortFunc(edits, func(a, b *edit) int { return cmp.Compare(a.start, b.start) })
}

// json rewrites the edited records.
func (o *output) json(edits []*edit) error {
	sortByStart(edits)
	for _, e := range edits {
		err := o.splice(e.start, e.end, func(raw []byte) ([]byte, error) {
			// The bytes start after the previous record: a separating comma
			// and spaces or blank lines come before the object.
			lead := len(raw) - len(bytes.TrimLeft(raw, " \t\r\n,"))
			obj := bytes.TrimRight(raw[lead:], " \t\r\n")
			changed, err := setFields(obj, e.set)
			if err != nil {
				return nil, err
			}
			return slices.Concat(raw[:lead], changed, raw[lead+len(obj):]), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// setFields sets fields of a JSON object in its text and keeps every other
// byte: a value is replaced where it stands, and a new field follows the
// last one, spaced as that one is.
func setFields(obj []byte, set []field) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("the record is not a JSON object")
	}
	type span struct{ start, end int }
	values := map[string]span{} // a repeated name's last value counts, as in a read
	// The record has its ID field, so there is a last field to follow.
	var last int
	var indent, colon []byte
	for dec.More() {
		from := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keyEnd := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		last = int(dec.InputOffset())
		values[tok.(string)] = span{last - len(raw), last}
		sep := obj[from:keyEnd]
		if s := bytes.TrimLeft(sep, " \t\r\n"); len(s) > 0 && s[0] == ',' {
			sep = s[1:]
		}
		indent = sep[:len(sep)-len(bytes.TrimLeft(sep, " \t\r\n"))]
		colon = obj[keyEnd : last-len(raw)]
	}
	type change struct {
		span
		text []byte
	}
	var changes []change
	var added []byte
	for _, f := range set {
		text, err := jsonBytes(f.value)
		if err != nil {
			return nil, err
		}
		if v, ok := values[f.name]; ok {
			changes = append(changes, change{v, text})
			continue
		}
		if f.value == nil {
			continue
		}
		key, err := jsonBytes(f.name)
		if err != nil {
			return nil, err
		}
		added = slices.Concat(added, []byte{','}, indent, key, colon, text)
	}
	changes = append(changes, change{span{last, last}, added})
	slices.SortFunc(changes, func(a, b change) int { return cmp.Compare(a.start, b.start) })
	var out []byte
	at := 0
	for _, c := range changes {
		out = append(append(out, obj[at:c.start]...), c.text...)
		at = c.end
	}
	return append(out, obj[at:]...), nil
}

// jsonBytes encodes a value on one line, as JSON Lines needs, leaving
// characters HTML gives meaning to as they are.
func jsonBytes(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// eol is the length of the line break that ends a row, 0 at the file's end.
func eol(raw []byte) int {
	switch {
	case bytes.HasSuffix(raw, []byte("\r\n")):
		return 2
	case bytes.HasSuffix(raw, []byte("\n")):
		return 1
	}
	return 0
}

// cellText is a value as a CSV cell holds it.
func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, ";")
	}
	return ""
}
