//go:build !unix

package file

import (
	"context"
	"os"
)

// Without flock only the writes of one process are serialized: a file
// written back to must then have a single worker process.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }

func keepOwner(*os.File, os.FileInfo) {}

// A directory cannot be synced here; the rename is as durable as the
// system makes it.
func syncDir(string) error { return nil }
