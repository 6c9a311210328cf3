package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/openprovisioning/provisioner/store"
)

// Fingerprint hashes values, for change detection and cache keys: the
// SHA-256 of each value's JSON encoding followed by a newline, as
// encoding/json's Encoder writes it, so fingerprints stored by earlier
// versions still match; store.AppendJSON writes it without reflection for
// the shapes a source record is made of.
func Fingerprint(parts ...any) string {
	buf := fingerprintBuffers.Get().(*[]byte)
	b := (*buf)[:0]
	for _, p := range parts {
		// A value the encoder cannot encode, it writes nothing of.
		if enc, err := store.AppendJSON(b, p); err == nil {
			b = append(enc, '\n')
		}
	}
	sum := sha256.Sum256(b)
	*buf = b
	fingerprintBuffers.Put(buf)
	return hex.EncodeToString(sum[:12])
}

var fingerprintBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
