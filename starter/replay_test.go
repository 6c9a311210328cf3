package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/secrets"
)

func recordedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "*.json*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func TestReplayReadsPlainAndGzippedHistories(t *testing.T) {
	path := recordedHistories(t)[0]
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	_, err = gz.Write(b)
	require.NoError(t, err)
	require.NoError(t, gz.Close())
	zipped := filepath.Join(t.TempDir(), "history.json.gz")
	require.NoError(t, os.WriteFile(zipped, z.Bytes(), 0o600))

	for _, p := range []string{path, zipped} {
		h, err := loadHistory(p)
		require.NoError(t, err)
		require.NoError(t, replay(h, nil), p)
	}
}

func TestReplayFailsOnChangedHistory(t *testing.T) {
	changed := filepath.Join(t.TempDir(), "changed.json")
	writeChangedHistory(t, recordedHistories(t)[0], changed)
	h, err := loadHistory(changed)
	require.NoError(t, err)
	require.ErrorContains(t, replay(h, nil), "nondeterministic")
}

// writeChangedHistory writes a copy of a history whose first activity has
// another type, as if the workflow code had changed under it.
func writeChangedHistory(t *testing.T, src, dst string) {
	t.Helper()
	h, err := loadHistory(src)
	require.NoError(t, err)
	changed := false
	for _, ev := range h.GetEvents() {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && !changed {
			a.ActivityType.Name += "Renamed"
			changed = true
		}
	}
	require.True(t, changed, "%s schedules no activity", src)
	b, err := protojson.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, b, 0o600))
}

// Histories the payload codec encrypted replay with its keys only.
func TestReplayReadsEncodedHistories(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "codec")
	keys, err := codec.LoadKeys(secrets.Ref{File: filepath.Join(dir, "test.keys")})
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(dir, "*.json*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	h, err := loadHistory(files[0])
	require.NoError(t, err)
	require.NoError(t, replay(h, keys))
	require.Error(t, replay(h, nil))
}
