// Package debian installs Debian's packages for the test setup, so tests
// find their real components on a fresh machine that has only Go.
package debian

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// Install installs packages with apt-get. It needs root; a first failure
// is usually stale package lists on a fresh machine, so the lists are
// updated and the install tried again.
func Install(packages ...string) error {
	if os.Geteuid() != 0 {
		return errors.New("not root, cannot run apt-get")
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return errors.New("apt-get not available")
	}
	run := func(args ...string) error {
		// The lock timeout lets test binaries of several packages, started
		// at once by go test, wait for each other's installs.
		cmd := exec.Command(apt, append([]string{"-o", "DPkg::Lock::Timeout=600"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %v: %v\n%s", args, err, Tail(out, 2000))
		}
		return nil
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, packages...)
	if run(install...) == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}

// Tail returns the last n bytes of a program's output, for error messages.
func Tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Locate calls find, and when it fails installs packages and calls it
// again, as a fresh CI machine needs; callers run it once per process.
func Locate[T any](find func() (T, error), packages ...string) (T, error) {
	found, err := find()
	if err == nil {
		return found, nil
	}
	if ierr := Install(packages...); ierr != nil {
		return found, fmt.Errorf("%w; installing %v failed: %v", err, packages, ierr)
	}
	return find()
}
