package file

import (
	"errors"
	"math"
	"math/bits"
)

// firstRecords finds, by an ID's key (idKey), where the first record with
// that key starts, for a pass to tell duplicates. It is a table of entry
// numbers over the entries an indexer collects, so that a read which
// builds the row index holds each first record's position once: a map of
// keys to positions beside the index took three times the index's bytes
// at a million rows. A slot holds the key's low 32 bits, which the entry
// lacks (see rowEntry), so that probing compares within the table and
// reads an entry only on a likely match, and the whole key is compared.
type firstRecords struct {
	x     *indexer
	slots []uint64 // low 32 bits of the key, then the entry's number + 1; 0 is empty
	n     int
}

// maxLoad is how full the table gets before it doubles.
const maxLoad = 0.7

var errTooManyRecords = errors.New("more than 4,294,967,294 records: too many to tell duplicates apart")

func newFirstRecords(x *indexer) *firstRecords { return &firstRecords{x: x} }

// find returns where the first record whose ID has key k starts.
func (f *firstRecords) find(k uint64) (position, bool) {
	if len(f.slots) == 0 {
		return position{}, false
	}
	mask, lo := uint64(len(f.slots)-1), k&math.MaxUint32
	for i := k & mask; ; i = (i + 1) & mask {
		s := f.slots[i]
		if s == 0 {
			return position{}, false
		}
		if s>>32 == lo {
			if e := f.x.entries[uint32(s)-1]; e.key() == uint32(k>>32) {
				return e.at(), true
			}
		}
	}
}

// add appends the entry of the record at at, whose ID has key k; first
// is set when no earlier record's ID has that key, and find then returns it.
func (f *firstRecords) add(k uint64, at position, first bool) error {
	if len(f.x.entries) >= math.MaxUint32-1 {
		return errTooManyRecords
	}
	if err := f.x.addKey(k, at); err != nil {
		return err
	}
	if !first {
		return nil
	}
	if float64(f.n+1) > maxLoad*float64(len(f.slots)) {
		// Sized for the entries' capacity, which the indexer sets from
		// the bytes the first records took: one resize for a large file,
		// up to a bound past which a wrong guess would cost too much.
		f.resize(max(f.n+1, min(cap(f.x.entries), 1<<26)))
	}
	f.put(k, uint32(len(f.x.entries)))
	f.n++
	return nil
}

func (f *firstRecords) put(k uint64, num uint32) {
	mask := uint64(len(f.slots) - 1)
	i := k & mask
	for f.slots[i] != 0 {
		i = (i + 1) & mask
	}
	f.slots[i] = k<<32 | uint64(num)
}

// resize makes room for n keys and puts the ones held back.
func (f *firstRecords) resize(n int) {
	size := max(1024, 1<<bits.Len(uint(float64(n)/maxLoad)))
	old := f.slots
	f.slots = make([]uint64, size)
	for _, s := range old {
		if s != 0 {
			num := uint32(s)
			f.put(uint64(f.x.entries[num-1].key())<<32|s>>32, num)
		}
	}
}
