package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
)

// Summary stands, in a log entry, for a value too large to keep whole
// (a photo, a huge multi-valued attribute): its length in bytes and its
// SHA-256, e.g. "[12,345 bytes, sha256:ab12…]", so an auditor can tell
// what it was without the log carrying it.
func Summary(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "[" + thousands(len(v)) + " bytes, sha256:" + hex.EncodeToString(sum[:]) + "]"
}

var summaryPattern = regexp.MustCompile(`^\[[0-9,]+ bytes, sha256:[0-9a-f]{64}\]$`)

// IsSummary reports whether a logged value is a Summary, not the value.
func IsSummary(v string) bool { return summaryPattern.MatchString(v) }

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
