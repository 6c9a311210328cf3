package ldap

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

var errBadCursor = errors.New("malformed cursor")

// cursor is where a read stands. It travels through workflow history, so it
// holds positions, not the paging cookie: a cookie is only valid on the
// connection that received it, which lives in this process (see liveRead).
type cursor struct {
	// Session names the read; a process that still holds the read's
	// connection continues it with the cookie it kept.
	Session string `json:"s"`
	// Base indexes Config.BaseDNs.
	Base int `json:"b,omitempty"`
	// Count is the number of entries of this base already returned and
	// Anchor the DN of the last of them: a read resumed elsewhere searches
	// again and skips up to the anchor.
	Count  int    `json:"n,omitempty"`
	Anchor string `json:"a,omitempty"`
	// Max is the highest delta value seen so far; Limit caps the watermark
	// (see delta.go).
	Max   string `json:"m,omitempty"`
	Limit string `json:"l,omitempty"`
	// DC is the invocationId of the domain controller the read started on
	// (uSNChanged); Full is set when the watermark did not count on it, so
	// everything is read (see dc.go).
	DC   string `json:"dc,omitempty"`
	Full bool   `json:"f,omitempty"`
	// Deleted is the Deleted Objects container, read after the base DNs
	// when deletions are read from tombstones; Base then indexes it as
	// one past the last base DN.
	Deleted string `json:"x,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && (c.Session == "" || c.Base < 0 || c.Count < 0) {
		err = errBadCursor
	}
	return c, err
}
