package file

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/openprovisioning/provisioner/connectors"
)

// DefaultPageSize is the page size of a request that does not set one.
const DefaultPageSize = 1000

// Source reads one file and writes values back to it (see Write). It is
// safe for concurrent use; reads are serialized.
type Source struct {
	cfg *settings
	mu  sync.Mutex
	rd  *pass // the read in progress, kept open between its pages
	// origin supplies the export when it is not the file at cfg.Path;
	// shape fingerprints the configuration and origin for its watermarks.
	origin Origin
	shape  string
	// index locates records for Get in the file as the last complete pass
	// over it found it; scanning keeps concurrent Gets that must rebuild it
	// from scanning the file all at once.
	index    atomic.Pointer[rowIndex]
	scanning sync.Mutex
}

var _ connectors.Source = (*Source)(nil)

// ChangeDetection is Snapshot: every read returns the whole file and the
// engine finds changes by comparing it with the previous read.
func (s *Source) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

// Read returns the next page of the file; Since is ignored unless the
// export comes from an Origin (NewSource), which is asked whether the
// export changed since the read Since names: when it has not, the read is
// one empty page marked Unchanged, with Since as its watermark. The cursor holds
// the position (record number and byte offset), the file's size and
// modification time, and the state of the content hash. The Source keeps
// the file open between pages; a read resumed on a fresh Source (a retried
// activity, another worker) seeks to the offset rather than building the
// objects before it again, and re-reads only their IDs so that a duplicate
// across the resume point is still caught. The last page's watermark is the
// SHA-256 of the file's content.
//
// A file that cannot be read, or that changes between the first and the
// last page, fails the read with a *connectors.Error of kind Unavailable:
// a read is a consistent snapshot or nothing.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	if req.Type != "" && req.Type != s.cfg.Type {
		return connectors.Page{}, fmt.Errorf("file source %s holds %s objects, not %s", s.name(), s.cfg.Type, req.Type)
	}
	size := req.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd == nil || req.Cursor == "" || req.Cursor != s.rd.cursor {
		s.closePass()
		var last Version
		if req.Cursor == "" {
			last = s.lastVersion(req.Since)
		}
		rd, err := s.open(ctx, req.Cursor, last)
		if errors.Is(err, ErrUnchanged) && !last.IsZero() {
			return connectors.Page{Unchanged: true, Watermark: req.Since}, nil
		}
		if err != nil {
			return connectors.Page{}, err
		}
		s.rd = rd
	}
	s.rd.sh.setWant(req.Attributes)
	s.rd.sh.unchanged = req.Unchanged
	page, err := s.rd.page(ctx, size)
	if err != nil || page.Cursor == "" {
		s.closePass()
	}
	return page, err
}

// Close releases the file of a read in progress.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closePass()
	return nil
}

func (s *Source) closePass() {
	if s.rd != nil {
		s.rd.f.Close()
		s.rd = nil
	}
}
