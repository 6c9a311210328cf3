package file

import (
	"math/rand/v2"
	"testing"
)

// firstRecords answers as a map from key to the first position would,
// through resizes, for keys that share their high or their low bits
// (which share a slot or a slot's stored half) and random ones.
func TestFirstRecordsFindsTheFirstOfEachKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var keys []uint64
	for i := range uint64(3000) {
		keys = append(keys, 5<<32|i<<20, i<<32|9, r.Uint64())
	}
	f := newFirstRecords(&indexer{})
	want := map[uint64]position{}
	for i, k := range append(keys, keys[:500]...) {
		at := position{n: int64(i), off: int64(i) * 10}
		_, taken := want[k]
		if got, ok := f.find(k); ok != taken || ok && got != want[k] {
			t.Fatalf("key %#x before record %d: got %v %v, want %v %v", k, i, got, ok, want[k], taken)
		}
		if !taken {
			want[k] = at
		}
		if err := f.add(k, at, !taken); err != nil {
			t.Fatal(err)
		}
	}
	for k, at := range want {
		if got, ok := f.find(k); !ok || got != at {
			t.Fatalf("key %#x: got %v %v, want %v", k, got, ok, at)
		}
	}
	if _, ok := f.find(5<<32 | 1); ok {
		t.Fatal("a key never added is found")
	}
	if len(f.x.entries) != len(keys)+500 || f.n != len(want) {
		t.Fatalf("%d entries, %d keys; want %d and %d", len(f.x.entries), f.n, len(keys)+500, len(want))
	}
}
