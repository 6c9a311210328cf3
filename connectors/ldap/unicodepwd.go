package ldap

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// unicodePwd encodes a password as Active Directory's unicodePwd takes it:
// the password in double quotes, in UTF-16 little-endian. AD accepts it
// only over an encrypted connection.
func unicodePwd(password string) (string, error) {
	if !utf8.ValidString(password) {
		return "", fmt.Errorf("the password is not valid UTF-8")
	}
	units := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b), nil
}
