// Package sink copies the provisioning log out of workflow history, so the
// trail outlives the namespace's retention: every finished cycle's entries
// (and an on-demand request's, and a rollback's) go to the sinks the
// worker's operator configured — JSON Lines files by job and day, and a
// log collector's HTTP endpoint.
//
// An export is tried again until it succeeds, and a retried export may
// find part of its work done. Each sink keeps it exactly once or says how
// a repeat is told apart: a JSON Lines file appears whole or not at all,
// under a name the retry finds; an HTTP batch that may have been posted
// before is posted again with the same idempotency key and entries.
package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/audit"
)

// Unit is what one export copies: the entries one finished cycle run, one
// on-demand request or one rollback left in history. Its ID and time name
// what the sinks write, so they must be the same on every attempt.
type Unit struct {
	Job string
	// ID is unique among the job's units.
	ID string
	// Time is when the unit's entries were complete; none is later.
	Time time.Time
}

// Sink is where a copy of the trail goes.
type Sink interface {
	// Name tells the sink apart in checkpoints and errors.
	Name() string
	// Begin starts copying a unit. done is how far an earlier attempt got
	// by its last checkpoint, and progress reports how far this one gets.
	// It returns nil when the sink holds the unit already.
	Begin(ctx context.Context, u Unit, done int, progress func(int)) (Writer, error)
}

// Writer copies one unit's entries to a sink.
type Writer interface {
	Write(ctx context.Context, e audit.Entry) error
	// Commit makes the entries written part of the sink.
	Commit(ctx context.Context) error
	// Abort drops what Commit would have made part of the sink.
	Abort()
}

// Checkpoint is how far an export got, by sink name; complete marks a sink
// that holds the whole unit.
type Checkpoint map[string]int

const complete = -1

// Export copies the entries read yields to every sink that does not hold
// them yet, resuming from cp, and returns how many entries it read (none
// when every sink held the unit). saved is called with the checkpoint
// whenever it moves on; an attempt after a failure passes the last one.
func Export(ctx context.Context, sinks []Sink, u Unit, cp Checkpoint, read func(fn func(audit.Entry) error) error, saved func(Checkpoint)) (int, error) {
	if err := u.check(); err != nil {
		return 0, err
	}
	cp = copyOf(cp)
	type open struct {
		name string
		w    Writer
	}
	var writers []open
	abort := func() {
		for _, o := range writers {
			o.w.Abort()
		}
	}
	for _, s := range sinks {
		name := s.Name()
		if cp[name] == complete {
			continue
		}
		w, err := s.Begin(ctx, u, cp[name], func(n int) {
			cp[name] = n
			saved(copyOf(cp))
		})
		if err != nil {
			abort()
			return 0, fmt.Errorf("export %s of job %s to %s: %w", u.ID, u.Job, name, err)
		}
		if w == nil {
			cp[name] = complete
			continue
		}
		writers = append(writers, open{name, w})
	}
	if len(writers) == 0 {
		saved(copyOf(cp))
		return 0, nil
	}
	n := 0
	err := read(func(e audit.Entry) error {
		n++
		for _, o := range writers {
			if err := o.w.Write(ctx, e); err != nil {
				return fmt.Errorf("export %s of job %s to %s: %w", u.ID, u.Job, o.name, err)
			}
		}
		return nil
	})
	if err != nil {
		abort()
		return n, err
	}
	for i, o := range writers {
		if err := o.w.Commit(ctx); err != nil {
			for _, rest := range writers[i+1:] {
				rest.w.Abort()
			}
			return n, fmt.Errorf("export %s of job %s to %s: %w", u.ID, u.Job, o.name, err)
		}
		cp[o.name] = complete
		saved(copyOf(cp))
	}
	return n, nil
}

func copyOf(cp Checkpoint) Checkpoint {
	out := Checkpoint{}
	for k, v := range cp {
		out[k] = v
	}
	return out
}

// safeName is what job names and unit IDs may hold: they name files.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// unsafeChar is a character a unit ID may not hold.
var unsafeChar = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// UnitID joins parts (a cycle ID, a run ID) into a unit ID that can name
// a file. Characters a file name cannot hold become "_", and a hash of the
// parts then keeps IDs that differ only there apart.
func UnitID(parts ...string) string {
	id := strings.Join(parts, "_")
	safe := unsafeChar.ReplaceAllString(id, "_")
	if safe == id && safeName.MatchString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "u" + safe + "_" + hex.EncodeToString(sum[:6])
}

func (u Unit) check() error {
	switch {
	case !safeName.MatchString(u.Job):
		return fmt.Errorf("export: job name %q cannot name a folder", u.Job)
	case !safeName.MatchString(u.ID):
		return fmt.Errorf("export of job %s: unit %q cannot name a file", u.Job, u.ID)
	case u.Time.IsZero():
		return fmt.Errorf("export %s of job %s: no time", u.ID, u.Job)
	}
	return nil
}
