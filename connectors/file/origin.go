package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
)

// Origin is where a Source reads an export that is not a local file: a
// report downloaded over HTTPS (connectors/httpexport). The Source parses,
// pages, fingerprints and compares it exactly as it does a file.
type Origin interface {
	// Name names the export in messages and errors, as Path names a file.
	// It must hold no credentials.
	Name() string
	// Open returns the export's bytes as they are now. When last describes
	// the bytes an earlier complete read passed over and the export still
	// has them, Open may return an error matching ErrUnchanged instead,
	// without the bytes; it never does when last is zero.
	Open(ctx context.Context, last Version) (Snapshot, error)
	// Stream returns a reader of the export from its first byte, for
	// learning its columns from no more than its header or first records.
	Stream(ctx context.Context) (io.ReadCloser, error)
}

// Snapshot is one version of an export's bytes, as a read passes over them.
type Snapshot interface {
	io.ReaderAt
	io.Closer
	// Stat returns the size of the bytes and a version that differs for
	// other bytes, as a file's modification time does. A read resumed on a
	// snapshot of another size or version starts again from the beginning
	// (connectors.ErrSnapshotChanged), as does one whose snapshot's Stat
	// changes while it is read (a file rewritten in place).
	Stat() (size, version int64, err error)
	// Validator identifies this version to its origin (an HTTP ETag); the
	// watermark of a read keeps it for the next Open. Empty when none.
	Validator() string
}

// Version describes the bytes of a complete read, from its watermark.
type Version struct {
	// Digest is the SHA-256 of the bytes, in hexadecimal.
	Digest string
	// Validator is the snapshot's Validator.
	Validator string
}

// IsZero reports whether v describes no read.
func (v Version) IsZero() bool { return v.Digest == "" && v.Validator == "" }

// ErrUnchanged is matched (with errors.Is) by the error of an Origin's Open
// when the export is still the version the caller has read.
var ErrUnchanged = errors.New("the export is unchanged since the last read")

// NewSource returns a source of the export that origin supplies, read as c
// says; c.Path is not used. Its reads of an export unchanged since the
// watermark they are given come back at once as connectors.Page.Unchanged.
// c.Format must be set.
// It does not write back: a Source of an origin refuses Write.
func NewSource(c Config, origin Origin) (*Source, error) {
	s, err := c.parse("", false)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append(append(cfg, 0), origin.Name()...))
	return &Source{cfg: s, origin: origin, shape: hex.EncodeToString(sum[:6])}, nil
}

// localFile is a Snapshot of a file on disk.
type localFile struct{ *os.File }

func (f localFile) Stat() (int64, int64, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return 0, 0, err
	}
	return fi.Size(), fi.ModTime().UnixNano(), nil
}

func (localFile) Validator() string { return "" }

// Watermarks of a Source of an origin add to the digest the source's shape
// (what its configuration and origin are) and the snapshot's validator:
// "sha256:<digest>|<shape>|<validator>". A watermark of another shape
// describes no version: the configuration changed, so the export must be
// read again even if its bytes did not.
const watermarkSep = "|"

func (s *Source) watermark(digest, validator string) string {
	w := "sha256:" + digest
	if s.origin == nil {
		return w
	}
	return w + watermarkSep + s.shape + watermarkSep + validator
}

// lastVersion reads the version a watermark of this source describes.
func (s *Source) lastVersion(since string) Version {
	parts := strings.SplitN(since, watermarkSep, 3)
	if s.origin == nil || len(parts) != 3 || parts[1] != s.shape || !strings.HasPrefix(parts[0], "sha256:") {
		return Version{}
	}
	return Version{Digest: strings.TrimPrefix(parts[0], "sha256:"), Validator: parts[2]}
}

// snapshot opens the export: the file, or what the origin supplies.
func (s *Source) snapshot(ctx context.Context, last Version) (Snapshot, error) {
	if s.origin != nil {
		return s.origin.Open(ctx, last)
	}
	f, err := os.Open(s.cfg.Path)
	if err != nil {
		return nil, err
	}
	return localFile{f}, nil
}

// stream opens the export for reading from its start.
func (s *Source) stream(ctx context.Context) (io.ReadCloser, error) {
	if s.origin != nil {
		return s.origin.Stream(ctx)
	}
	return os.Open(s.cfg.Path)
}

// name names the export in messages.
func (s *Source) name() string {
	if s.origin != nil {
		return s.origin.Name()
	}
	return s.cfg.Path
}
