package connectors

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// AttributeChecker is implemented by sources that can tell which attributes
// their objects have (a file's header, a directory's schema, a SCIM
// service's /Schemas). A job whose mappings read an attribute the source
// does not have — a misspelt name — is refused before it runs, instead of
// clearing that target attribute for every object.
type AttributeChecker interface {
	// CheckAttributes compares the attribute names a job reads from objects
	// of type t with what the source has. When the source cannot tell (it
	// publishes no schema), the error matches ErrAttributesUnknown and says
	// why; a source it cannot reach is another error.
	CheckAttributes(ctx context.Context, t ObjectType, names []string) (AttributeCheck, error)
}

// ErrAttributesUnknown is matched (with errors.Is) by a CheckAttributes
// error that says the source's attributes cannot be discovered: the names
// are not checked, which does not stop the job.
var ErrAttributesUnknown = errors.New("the source's attributes cannot be discovered")

// AttributeCheck is a source's answer to CheckAttributes.
type AttributeCheck struct {
	// Against says what the names were compared with, for messages:
	// "the header of hr.csv", "the schema of ldap://dc1:389".
	Against string
	// Unknown are the names objects of the type do not have.
	Unknown []UnknownAttribute
	// Unchecked are names that could not be told present or absent, as
	// when only a sample of objects could be read; they are not refused.
	Unchecked []string
}

// UnknownAttribute is a name a source does not have.
type UnknownAttribute struct {
	Name string
	// Reason says why, when more than "not in Against" is to be said.
	Reason string
	// Suggestion is the closest name the source has, "" when none is close.
	Suggestion string
}

// Closest returns the name in names nearest to name: one that differs only
// in case, else the one fewest edits away (a transposition is one edit)
// when that is few for the name's length; "" when none is close.
func Closest(name string, names []string) string {
	lower := strings.ToLower(name)
	limit := 1 + utf8.RuneCountInString(name)/4
	best, bestDist := "", limit+1
	for _, n := range names {
		if n == name {
			continue
		}
		d := editDistance(lower, strings.ToLower(n))
		if d < bestDist || d == bestDist && n < best {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent runes.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}
