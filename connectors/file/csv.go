package file

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// header is a CSV file's first row: the attribute names.
type header struct {
	names []string
	index map[string]int
	bom   int64    // length of a byte order mark before it
	end   position // after the header
}

// column returns the index of a configured column, -1 when none is set.
func (h *header) column(field, name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	i, ok := h.index[name]
	if !ok {
		return 0, fmt.Errorf("%s column %q is not in the header", field, name)
	}
	return i, nil
}

var bom = []byte("\uFEFF")

// skipBOM drops a UTF-8 byte order mark, which spreadsheet programs write.
func skipBOM(br *bufio.Reader) int64 {
	if b, _ := br.Peek(len(bom)); bytes.Equal(b, bom) {
		br.Discard(len(bom))
		return int64(len(bom))
	}
	return 0
}

func newCSV(br *bufio.Reader, comma rune) *csv.Reader {
	r := csv.NewReader(br)
	r.Comma = comma
	r.ReuseRecord = true
	return r
}

// readHeader reads the header row and returns the reader, positioned on
// the first data row.
func readHeader(br *bufio.Reader, comma rune) (*header, *csv.Reader, error) {
	h := &header{bom: skipBOM(br), index: map[string]int{}}
	r := newCSV(br, comma)
	names, err := r.Read()
	if err == io.EOF {
		return nil, nil, errors.New("the file is empty: a CSV file needs a header row")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	for i, name := range names {
		// A column without a name (after a trailing delimiter) is skipped.
		name = strings.TrimSpace(name)
		if _, dup := h.index[name]; dup && name != "" {
			return nil, nil, fmt.Errorf("header: column %q appears twice", name)
		}
		if name != "" {
			h.index[name] = i
		}
		h.names = append(h.names, name)
	}
	line, _ := r.FieldPos(0)
	h.end = position{n: int64(line) + newlines(names), off: h.bom + r.InputOffset()}
	return h, r, nil
}

// csvRows reads CSV records. Rows are numbered by the line they start on,
// the header being line 1, which is what an editor shows (and a spreadsheet
// too unless a quoted cell spans lines).
type csvRows struct {
	in                    *input
	sh                    *shape
	h                     *header
	id, disabled, members int // column indexes, -1 when not configured
	r                     *csv.Reader
	start                 position // where r began
	at                    position
	// kept are the columns returned, by index, for the shape's want of
	// generation keptGen, and columns hashes what makes a row's object of
	// its fields: the columns, those kept, and how disabled and members
	// are read.
	kept    []bool
	keptGen int
	columns uint64
	buf     []byte
}

func openCSV(in *input, sh *shape, at *position) (rows, error) {
	h, r, err := readHeader(in.from(0), sh.comma)
	if err != nil {
		return nil, err
	}
	c := &csvRows{in: in, sh: sh, h: h}
	if c.id, err = h.column("idColumn", sh.IDColumn); err != nil {
		return nil, err
	}
	if c.disabled, err = h.column("disabledColumn", sh.DisabledColumn); err != nil {
		return nil, err
	}
	if c.members, err = h.column("membersColumn", sh.MembersColumn); err != nil {
		return nil, err
	}
	if at == nil {
		c.r, c.start, c.at = r, position{0, h.bom}, h.end
	} else {
		c.reset(*at)
	}
	return c, nil
}

// reset reads on from p with a new reader.
func (c *csvRows) reset(p position) {
	c.r = newCSV(c.in.from(p.off), c.sh.comma)
	c.r.FieldsPerRecord = len(c.h.names)
	c.start, c.at = p, p
}

func (c *csvRows) pos() position { return c.at }

func (c *csvRows) next() (record, error) {
	fields, err := c.r.Read()
	if err == io.EOF {
		return record{}, io.EOF
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return record{}, err
	}
	before := c.at
	c.at.off = c.start.off + c.r.InputOffset()
	if pe == nil {
		line, _ := c.r.FieldPos(0)
		row := c.start.n + int64(line)
		// The record ends on its last field's line, after the line breaks
		// of that field: counting them in every field costs a read more.
		last, _ := c.r.FieldPos(len(fields) - 1)
		c.at.n = c.start.n + int64(last) + int64(strings.Count(fields[len(fields)-1], "\n"))
		return c.object(row, fields), nil
	}
	row, end := c.start.n+int64(pe.StartLine), c.start.n+int64(pe.Line)
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		end = row + newlines(fields)
	}
	rec := c.malformed(row, end, fields, pe)
	if end == row {
		c.at.n = end
		return rec, nil
	}
	// A broken record that runs on over several lines most likely has a
	// stray quote that swallowed the rows after it: cut it back to its first
	// line and read the lines after it again as rows of their own, so that
	// they do not go missing (and look deleted).
	off, err := skipLines(c.in.from(before.off), before.off, row-before.n)
	if err != nil {
		return record{}, err
	}
	c.reset(position{n: row, off: off})
	return rec, nil
}

func (c *csvRows) object(row int64, fields []string) record {
	// Spaces around an ID are never meant; the attribute keeps them.
	id := strings.TrimSpace(fields[c.id])
	if id == "" {
		return c.sh.invalid(row, "", fmt.Sprintf("%s is empty", c.sh.IDColumn))
	}
	rec := record{n: row, anchored: true, obj: connectors.Object{ID: id}}
	if c.sh.bare(id) {
		return rec
	}
	if c.kept == nil || c.keptGen != c.sh.wantGen {
		c.keepColumns()
	}
	// The caller that holds this row as it is needs no object built of it:
	// at a million rows, building them is most of a read's time.
	rec.obj.RecordHash = c.recordHash(fields)
	if c.sh.unchanged != nil && c.sh.unchanged(id, rec.obj.RecordHash) {
		rec.obj.Unchanged = true
		return rec
	}
	rec.obj.Locator = c.sh.locator(row)
	attrs := make(connectors.Attributes, len(fields))
	for i, name := range c.h.names {
		if !c.kept[i] {
			continue
		}
		if fields[i] == "" {
			attrs[name] = nil // an emptied cell clears the target value
		} else {
			attrs[name] = fields[i]
		}
	}
	rec.obj.Attributes = attrs
	if c.disabled >= 0 {
		rec.obj.Disabled = c.sh.isDisabled(fields[c.disabled])
	}
	if c.members >= 0 {
		rec.obj.Members = splitMembers(fields[c.members])
	}
	return rec
}

// keepColumns notes the columns the shape's want keeps, and hashes them
// with what else makes a row's object.
func (c *csvRows) keepColumns() {
	c.kept, c.keptGen = make([]bool, len(c.h.names)), c.sh.wantGen
	b := binary.AppendVarint(nil, int64(c.id))
	b = binary.AppendVarint(b, int64(c.disabled))
	b = binary.AppendVarint(b, int64(c.members))
	for i, name := range c.h.names {
		c.kept[i] = name != "" && c.sh.keep(name)
		b = append(appendField(b, name), flagByte(c.kept[i]))
	}
	for _, v := range c.sh.disabled {
		b = appendField(b, v)
	}
	c.columns = maphash.Bytes(recordSeed, b)
}

// recordHash hashes a row's fields and its columns (connectors.Object's
// RecordHash): rows of the same hash make the same object.
func (c *csvRows) recordHash(fields []string) uint64 {
	b := binary.LittleEndian.AppendUint64(c.buf[:0], c.columns)
	for _, f := range fields {
		b = appendField(b, f)
	}
	c.buf = b
	return max(maphash.Bytes(recordSeed, b), 1)
}

func (c *csvRows) malformed(row, end int64, fields []string, pe *csv.ParseError) record {
	var reason string
	if errors.Is(pe.Err, csv.ErrFieldCount) && end == row {
		reason = fmt.Sprintf("has %d fields, the header has %d", len(fields), len(c.h.names))
	} else if errors.Is(pe.Err, csv.ErrFieldCount) {
		reason = fmt.Sprintf("a quoted field runs on to line %d (a stray quote?)", end)
	} else {
		reason = fmt.Sprintf("%v (line %d, column %d)", pe.Err, c.start.n+int64(pe.Line), pe.Column)
	}
	if end > row {
		reason += "; the lines after its first are read as rows of their own"
	}
	// The fields before the fault are known; the ID may be among them.
	id := ""
	if c.id < len(fields) {
		id = strings.TrimSpace(fields[c.id])
	}
	return c.sh.invalid(row, id, reason)
}

func newlines(fields []string) int64 {
	var n int
	for _, f := range fields {
		n += strings.Count(f, "\n")
	}
	return int64(n)
}

// skipLines returns the offset k lines after off, br reading from off.
func skipLines(br *bufio.Reader, off, k int64) (int64, error) {
	for k > 0 {
		b, err := br.ReadSlice('\n')
		off += int64(len(b))
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return off, nil
		case err != nil:
			return off, err
		}
		k--
	}
	return off, nil
}
