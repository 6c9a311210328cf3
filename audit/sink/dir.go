package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/audit"
)

// Dir keeps the trail as JSON Lines files, one entry a line, under
// DIR/JOB/YYYY-MM-DD/HHMMSS_UNIT.jsonl: a folder per job and per day (UTC)
// of the unit's time, a file per unit. A file appears whole, by a link
// that never replaces one already there, so each unit is in the folder
// exactly once however often its export is tried, and tools that follow
// the folder never see a partial line. Old days go by removing their
// folders.
type Dir struct {
	path string
}

// NewDir returns the sink of a folder, which it creates when missing and
// checks that the worker can write in, with hard links.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("audit folder: %w", err)
	}
	f, err := os.CreateTemp(path, ".write-check-*")
	if err != nil {
		return nil, fmt.Errorf("audit folder %s is not writable: %w", path, err)
	}
	f.Close()
	defer os.Remove(f.Name())
	if err := os.Link(f.Name(), f.Name()+".link"); err != nil {
		return nil, fmt.Errorf("audit folder %s: its file system must support hard links: %w", path, err)
	}
	os.Remove(f.Name() + ".link")
	return &Dir{path: path}, nil
}

// Name is the folder's.
func (d *Dir) Name() string { return "folder " + d.path }

// Begin returns nil when the unit's file is there already.
func (d *Dir) Begin(_ context.Context, u Unit, _ int, _ func(int)) (Writer, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	day := filepath.Join(d.path, u.Job, u.Time.UTC().Format(time.DateOnly))
	base := u.Time.UTC().Format("150405") + "_" + u.ID + ".jsonl"
	final := filepath.Join(day, base)
	if _, err := os.Stat(final); err == nil {
		return nil, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(day, 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(day, "."+base+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &dirWriter{f: f, buf: bufio.NewWriterSize(f, 256<<10), final: final, base: base}, nil
}

type dirWriter struct {
	f     *os.File
	buf   *bufio.Writer
	final string
	base  string
}

func (w *dirWriter) Write(_ context.Context, e audit.Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := w.buf.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}

// Commit syncs the file and links it under its final name. Another
// attempt that linked it first wrote the same entries.
func (w *dirWriter) Commit(context.Context) error {
	tmp := w.f.Name()
	defer os.Remove(tmp)
	err := w.buf.Flush()
	if err == nil {
		err = w.f.Chmod(0o640)
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Link(tmp, w.final); err != nil && !errors.Is(err, fs.ErrExist) {
		// An attempt at once with this one may have linked its file and
		// removed this one's as left over.
		if _, serr := os.Stat(w.final); serr != nil {
			return fmt.Errorf("link %s: %w", w.final, err)
		}
	}
	// Files left by attempts that died before their link.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(tmp), "."+w.base+".*.tmp"))
	for _, l := range left {
		os.Remove(l)
	}
	return syncDir(filepath.Dir(w.final))
}

func (w *dirWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// syncDir makes a new name in the folder durable.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", path, err)
	}
	return nil
}

// Read calls fn with every entry a folder holds for a job, day by day and,
// within a day, in the order the units were exported. With since set, the
// folders of days before it are not read at all; the day before since is
// still read, for entries timed by a worker whose clock ran ahead of the
// server's.
func Read(dir, job string, since time.Time, fn func(audit.Entry) error) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("audit folder: %w", err)
	}
	days, err := os.ReadDir(filepath.Join(dir, job))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	from := ""
	if !since.IsZero() {
		from = since.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	}
	for _, day := range days {
		if _, err := time.Parse(time.DateOnly, day.Name()); err != nil || !day.IsDir() || day.Name() < from {
			continue
		}
		folder := filepath.Join(dir, job, day.Name())
		files, err := os.ReadDir(folder)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(files))
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".jsonl") && !strings.HasPrefix(f.Name(), ".") {
				names = append(names, f.Name())
			}
		}
		slices.Sort(names)
		for _, name := range names {
			if err := readFile(filepath.Join(folder, name), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func readFile(path string, fn func(audit.Entry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	// One entry a line, so the entry's number is its line's.
	for line := 1; ; line++ {
		var e audit.Entry
		if err := dec.Decode(&e); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s line %d: %w", path, line, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}
