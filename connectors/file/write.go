package file

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/openprovisioning/provisioner/connectors"
)

var _ connectors.Writer = (*Source)(nil)

// Write sets values on the record whose ID is id, for writeback of values
// the target generated. In CSV a value goes into the column named as the
// attribute, added at the end of the header when absent, and a list is
// joined with ";"; in JSON it goes into the field of that name. A nil value
// empties the cell (JSON: null) and adds no column or field.
//
// The file is replaced atomically and Write returns once the value is on
// disk. Other records keep their bytes, except that every CSV row gets an
// empty cell for an added column. Writes to one file are serialized within
// the process and, through an advisory lock on "<path>.lock", between
// processes; writes that arrive while the file is rewritten go into the
// next rewrite together. A read under way on this Source finishes on the
// file as it was; resumed from its cursor on another Source it fails as
// Changed.
//
// Errors are *connectors.Error: NotFound when no valid record has the ID,
// InvalidRequest for a value of another type or for a name that is the ID
// column or has spaces around it, Unavailable when the file cannot be read
// or replaced. A write that ctx ends before its rewrite begins returns
// ctx's error. A failed write leaves the file as it was.
func (s *Source) Write(ctx context.Context, t connectors.ObjectType, id string, values connectors.Attributes) error {
	if t != "" && t != s.cfg.Type {
		return fmt.Errorf("file source %s holds %s objects, not %s", s.cfg.Path, s.cfg.Type, t)
	}
	if s.origin != nil {
		return writeError(connectors.KindInvalidRequest, s.name(), "an export read from elsewhere than a file cannot be written back")
	}
	path, err := filepath.Abs(s.cfg.Path)
	if err != nil {
		return writeError(connectors.KindUnavailable, s.cfg.Path, err.Error())
	}
	if err := s.cfg.checkValues(path, values); err != nil {
		return err
	}
	if len(values) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := writerFor(path)
	defer w.release()
	return w.write(ctx, &request{
		lay:    layout{format: s.cfg.format, comma: s.cfg.comma, id: s.cfg.IDColumn},
		id:     id,
		values: values,
		done:   make(chan struct{}),
	})
}

func (s *settings) checkValues(path string, values connectors.Attributes) error {
	for name, v := range values {
		switch {
		case name == "" || name != strings.TrimSpace(name):
			return writeError(connectors.KindInvalidRequest, path, fmt.Sprintf("attribute name %q: empty or with spaces around it", name))
		case name == s.IDColumn:
			return writeError(connectors.KindInvalidRequest, path, fmt.Sprintf("%s is the ID column and cannot be written", name))
		}
		switch x := v.(type) {
		case nil, string, bool, int64, []string:
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return writeError(connectors.KindInvalidRequest, path, fmt.Sprintf("%s: %v is not a number a file can hold", name, x))
			}
		default:
			return writeError(connectors.KindInvalidRequest, path, fmt.Sprintf("%s: values of type %T cannot be written", name, v))
		}
	}
	return nil
}

func writeError(kind connectors.Kind, path, detail string) *connectors.Error {
	return &connectors.Error{Kind: kind, Op: "write " + path, Detail: detail}
}

// layout is what a rewrite must know of the file. Sources configured
// differently for one path are never applied in one rewrite.
type layout struct {
	format string
	comma  rune
	id     string // the ID column
}

// request is one Write waiting for, or in, a rewrite.
type request struct {
	lay    layout
	id     string
	values connectors.Attributes
	err    error         // the outcome, set before done is closed
	done   chan struct{} // closed once the rewrite holding the request ends
}

// writer serializes the writes to one file in this process.
type writer struct {
	path  string
	users int           // Write calls holding it, guarded by writers
	turn  chan struct{} // held by the goroutine rewriting the file
	mu    sync.Mutex
	queue []*request // requests no rewrite has taken yet
}

// writers holds a writer for each file being written to.
var writers = struct {
	sync.Mutex
	m map[string]*writer
}{m: map[string]*writer{}}

func writerFor(path string) *writer {
	writers.Lock()
	defer writers.Unlock()
	w := writers.m[path]
	if w == nil {
		w = &writer{path: path, turn: make(chan struct{}, 1)}
		writers.m[path] = w
	}
	w.users++
	return w
}

func (w *writer) release() {
	writers.Lock()
	defer writers.Unlock()
	if w.users--; w.users == 0 {
		delete(writers.m, w.path)
	}
}

// write queues r and waits until a rewrite has applied it. Whoever gets the
// turn takes every queued request with it, so a burst of writes costs a
// few rewrites rather than one each.
func (w *writer) write(ctx context.Context, r *request) error {
	w.mu.Lock()
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case w.turn <- struct{}{}:
		defer func() { <-w.turn }()
		select {
		case <-r.done: // the rewrite that just ended took it
			return r.err
		default:
		}
		return w.lead(ctx, r)
	case <-ctx.Done():
		if w.withdraw(r) {
			return ctx.Err()
		}
		<-r.done // a rewrite has it: its outcome is what happened
		return r.err
	}
}

// lead rewrites the file with the queued requests that share r's layout.
// Only the wait for the file lock heeds ctx: a rewrite under way finishes,
// since other callers' writes are in it.
func (w *writer) lead(ctx context.Context, r *request) error {
	unlock, err := lockFile(ctx, w.path+".lock")
	if err != nil {
		w.withdraw(r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return writeError(connectors.KindUnavailable, w.path, err.Error())
	}
	defer unlock()
	batch := w.take(r.lay)
	// The waiters are released even if the rewrite panics, and then see
	// that it did not finish.
	for _, b := range batch {
		b.err = writeError(connectors.KindUnavailable, w.path, "the rewrite did not finish")
	}
	defer func() {
		for _, b := range batch {
			close(b.done)
		}
	}()
	commit(w.path, r.lay, batch)
	return r.err
}

func (w *writer) take(lay layout) []*request {
	w.mu.Lock()
	defer w.mu.Unlock()
	var batch []*request
	w.queue = slices.DeleteFunc(w.queue, func(r *request) bool {
		if r.lay == lay {
			batch = append(batch, r)
			return true
		}
		return false
	})
	return batch
}

// withdraw removes r from the queue; false when a rewrite has taken it.
func (w *writer) withdraw(r *request) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.Index(w.queue, r)
	if i >= 0 {
		w.queue = slices.Delete(w.queue, i, i+1)
	}
	return i >= 0
}
