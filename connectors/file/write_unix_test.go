//go:build unix

package file

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// Another process holding the lock holds writes back; a write that gives
// up waiting, queued or first in line, leaves no trace.
func TestWriteWaitsForTheFileLock(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.csv", "id,name\n1,Ann\n2,Bob\n"), IDColumn: "id"}
	lock, err := os.OpenFile(cfg.Path+".lock", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	s := open(t, cfg)
	done := make(chan error, 1)
	go func() {
		done <- s.Write(context.Background(), connectors.User, "1", connectors.Attributes{"name": "Anna"})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, connectors.User, "2", connectors.Attributes{"name": "Bo"}); err != context.DeadlineExceeded {
		t.Fatalf("a write that stopped waiting: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("a write went ahead under another's lock: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, cfg.Path); got != "id,name\n1,Anna\n2,Bob\n" {
		t.Fatalf("got %q", got)
	}
}

func TestNewTime(t *testing.T) {
	path := writeFile(t, "f", "x")
	old := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := newTime(f, old); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.ModTime().Equal(old) {
		t.Fatalf("the time stayed %v (%v)", fi.ModTime(), err)
	}
}
