package file

import (
	"bufio"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
)

// position is a place between records: how many records (CSV and JSON
// Lines: lines) come before it, and its byte offset.
type position struct{ n, off int64 }

// fingerprint tells whether the file changed.
type fingerprint struct{ size, mtime int64 }

func stat(f Snapshot) (fingerprint, error) {
	size, version, err := f.Stat()
	if err != nil {
		return fingerprint{}, err
	}
	return fingerprint{size: size, mtime: version}, nil
}

func (fp fingerprint) modified() string {
	return time.Unix(0, fp.mtime).UTC().Format(time.RFC3339Nano)
}

// fileHash hashes the file's bytes in order, as the readers pass them.
type fileHash struct {
	hash.Hash
	n int64 // bytes hashed so far
}

func newFileHash() *fileHash { return &fileHash{Hash: sha256.New()} }

// input opens readers over the file, from any offset up to end.
type input struct {
	f    io.ReaderAt
	end  int64
	hash *fileHash // nil for a reader whose bytes are not hashed
}

func (in *input) from(off int64) *bufio.Reader {
	var r io.Reader = io.NewSectionReader(in.f, off, in.end-off)
	if in.hash != nil {
		r = &hashingReader{r: r, pos: off, h: in.hash}
	}
	return bufio.NewReaderSize(r, 64<<10)
}

// hashingReader feeds the hash the bytes past those it already has, so
// readers may go back (a resumed read, a CSV record read again) as long as
// they start no later than the hashed prefix ends.
type hashingReader struct {
	r   io.Reader
	pos int64
	h   *fileHash
}

func (t *hashingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if end := t.pos + int64(n); end > t.h.n {
		t.h.Write(p[t.h.n-t.pos : n])
		t.h.n = end
	}
	t.pos += int64(n)
	return n, err
}

// cursor is where a read stands between pages.
type cursor struct {
	at     position
	fp     fingerprint
	hashed int64
	state  []byte // the hash's state after hashed bytes
}

const cursorVersion = "f1"

func (c *cursor) encode(h *fileHash) (string, error) {
	state, err := h.Hash.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return "", err
	}
	nums := []int64{c.at.n, c.at.off, c.fp.size, c.fp.mtime, c.hashed}
	var b strings.Builder
	b.WriteString(cursorVersion)
	for _, n := range nums {
		b.WriteByte('.')
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(state))
	return b.String(), nil
}

func decodeCursor(s string) (*cursor, error) {
	bad := fmt.Errorf("invalid cursor %q for a file source", s)
	parts := strings.Split(s, ".")
	if len(parts) != 7 || parts[0] != cursorVersion {
		return nil, bad
	}
	var nums [5]int64
	for i := range nums {
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil || (n < 0 && i != 3) { // only a modification time may be negative
			return nil, bad
		}
		nums[i] = n
	}
	state, err := base64.RawURLEncoding.DecodeString(parts[6])
	if err != nil {
		return nil, bad
	}
	c := &cursor{at: position{nums[0], nums[1]}, fp: fingerprint{nums[2], nums[3]}, hashed: nums[4], state: state}
	if c.at.off > c.hashed || c.hashed > c.fp.size {
		return nil, bad
	}
	return c, nil
}

func (c *cursor) restoreHash() (*fileHash, error) {
	h := newFileHash()
	if err := h.Hash.(encoding.BinaryUnmarshaler).UnmarshalBinary(c.state); err != nil {
		return nil, fmt.Errorf("invalid cursor for a file source: %w", err)
	}
	h.n = c.hashed
	return h, nil
}
