package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A digest read back finds each object by its ID's key, tells which of
// the prior read's objects the new read did not return, in ID order, and
// is not used when two of its IDs share a key.
func TestReadDigestRoundTrip(t *testing.T) {
	d := NewReadDigests(t.TempDir(), func(string, error) {})
	defer d.Close()
	w, err := d.create("c1")
	require.NoError(t, err)
	for i, id := range []string{"zed", "", "ada", "日本", "bob"} {
		w.add(d.idKey(id), uint64(i), false, id)
	}
	// A record of ada's that could not be read, and one of carl's alone.
	w.add(d.idKey("ada"), 0, true, "ada")
	w.add(d.idKey("carl"), 0, true, "carl")
	rd, err := w.finish()
	require.NoError(t, err)
	p, err := rd.load()
	require.NoError(t, err)
	require.True(t, p.same(d.idKey("ada"), 2), "its readable record")
	require.False(t, p.same(d.idKey("carl"), 0), "no record of carl's could be read")
	require.False(t, p.same(d.idKey("zed"), 7), "changed")
	require.False(t, p.same(d.idKey("new"), 0), "not in the prior read")
	require.True(t, p.returned(d.idKey("zed")))
	require.False(t, p.returned(d.idKey("bob")))
	absent, err := p.absent()
	require.NoError(t, err)
	require.Equal(t, []string{"", "bob", "日本"}, absent, "carl was returned; ada's unread record is ada's")
	p.unreturned()
	absent, err = p.absent()
	require.NoError(t, err)
	require.Equal(t, []string{"", "ada", "bob", "carl", "zed", "日本"}, absent)

	d.keep(digestKey{"job", "User"}, rd)
	require.Nil(t, d.take(digestKey{"job", "User"}, "c2"), "another cycle's read")
	require.Nil(t, d.take(digestKey{"job", "User"}, ""), "no settled cycle")
	require.Same(t, rd, d.take(digestKey{"job", "User"}, "c1"))
	rd.drop()

	// Keys that share their low bits, and an ID whose unread record comes
	// before its readable one.
	w, err = d.create("c1")
	require.NoError(t, err)
	w.add(16, 1, false, "a")
	w.add(64, 0, true, "e")
	w.add(32, 2, false, "b")
	w.add(64, 4, false, "e")
	w.add(48, 3, false, "c")
	w.add(96, 5, false, strings.Repeat("long", 20_000)) // longer than the reader's buffer
	w.add(112, 6, false, "f")
	rd, err = w.finish()
	require.NoError(t, err)
	p, err = rd.load()
	require.NoError(t, err)
	for k, h := range map[uint64]uint64{16: 1, 32: 2, 48: 3, 64: 4, 96: 5, 112: 6} {
		require.True(t, p.same(k, h), "key %d", k)
	}
	require.False(t, p.same(80, 0))
	absent, err = p.absent()
	require.NoError(t, err)
	require.Empty(t, absent)
	rd.drop()

	w, err = d.create("c1")
	require.NoError(t, err)
	w.add(1, 1, false, "a")
	w.add(1, 2, false, "b")
	rd, err = w.finish()
	require.NoError(t, err)
	defer rd.drop()
	_, err = rd.load()
	require.ErrorIs(t, err, errDigestCollision)
}
