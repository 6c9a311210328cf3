// Package codec encodes the payloads of Temporal's history. By default
// payloads of 4 KB and more, the activities' batch results whose log
// entries make most of the history, are compressed with zstd; smaller ones
// stay plain JSON for the Web UI. With keys, every payload (workflow and
// activity inputs and results, signals, updates, queries, memos,
// summaries, failure messages) is also encrypted with AES-256-GCM under a
// key the worker's operator holds, after compression, keeping personal
// data out of history. The key's ID travels in the payload's metadata, so
// keys can be rotated: new payloads use the newest key, older ones still
// decrypt with theirs. Search attributes stay clear for visibility
// queries; they hold job, application, state and cycle kind names only. A
// codec server (Handler) decodes for the Web UI and the Temporal CLI: it
// decompresses, and decrypts when it has the keys.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/openprovisioning/provisioner/secrets"
)

// keyID is what a key ID may hold: it is stored in every payload's metadata.
var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keys are the encryption keys, in the order the operator listed them:
// payloads are encrypted with the last, the newest; any of them decrypts
// the payloads that name it.
type Keys struct {
	ids  []string
	aead map[string]cipher.AEAD
}

// ParseKeys reads keys written one per line (or separated by commas, for
// an environment variable) as ID=KEY, KEY being 32 random bytes in base64,
// oldest first. Blank lines and lines starting with # are skipped. Errors
// name source and the entry, never a key.
func ParseKeys(text, source string) (*Keys, error) {
	k := &Keys{aead: map[string]cipher.AEAD{}}
	for ln, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			if entry = strings.TrimSpace(entry); entry != "" {
				if err := k.add(entry, fmt.Sprintf("%s line %d", source, ln+1)); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(k.ids) == 0 {
		return nil, fmt.Errorf("%s holds no key", source)
	}
	return k, nil
}

// add adds one ID=KEY entry.
func (k *Keys) add(entry, where string) error {
	id, key, ok := strings.Cut(entry, "=")
	id, key = strings.TrimSpace(id), strings.TrimSpace(key)
	switch {
	case !ok:
		return fmt.Errorf("%s: write a key as ID=KEY", where)
	case !keyID.MatchString(id):
		// Not quoted: a line missing its '=' could show the key here.
		return fmt.Errorf("%s: the key ID (before '=') must be 1 to 64 letters, digits, '.', '_' or '-'", where)
	case k.aead[id] != nil:
		return fmt.Errorf("%s: key ID %q is listed twice", where, id)
	}
	raw, err := decodeKey(key)
	if err != nil {
		return fmt.Errorf("%s: key %q %w", where, id, err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", where, id, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", where, id, err)
	}
	k.ids = append(k.ids, id)
	k.aead[id] = aead
	return nil
}

// decodeKey decodes a base64 key, padded or not, standard or URL alphabet,
// and checks it is an AES-256 key.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("is %d bytes once base64-decoded; AES-256 needs 32 (openssl rand -base64 32)", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("is not base64 (openssl rand -base64 32 makes one)")
}

// LoadKeys reads the keys from where ref names them: an environment
// variable or a file the worker's or starter's operator chose.
func LoadKeys(ref secrets.Ref) (*Keys, error) {
	text, err := ref.Resolve()
	if err != nil {
		return nil, fmt.Errorf("codec keys: %w", err)
	}
	return ParseKeys(text, "codec keys in "+ref.String())
}

// Current is the ID of the key new payloads are encrypted with.
func (k *Keys) Current() string { return k.ids[len(k.ids)-1] }

// IDs lists the key IDs, oldest first.
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }
