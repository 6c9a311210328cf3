package expression

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	known := func(name string) bool { return name == "mail" || name == "givenName" }
	cases := []struct {
		expr string
		// want lists "position: message fragment" for every expected error.
		want []string
	}{
		{`Jion(",", [mail])`, []string{`1: unknown function "Jion"`}},
		{`join(",", [mail])`, []string{`1: unknown function "join" (did you mean "Join"?`}},
		{`Append([mail], Jion("x"))`, []string{`16: unknown function "Jion"`}},
		{`Left("a")`, []string{`1: Left needs 2 arguments, got 1`}},
		{`Left("a", 1, 2)`, []string{`1: Left takes 2 arguments, got 3`}},
		{`Mid("a", 1)`, []string{`1: Mid needs 3 arguments, got 2`}},
		{`Guid(1)`, []string{`1: Guid takes 0 arguments, got 1`}},
		{`Join(",")`, []string{`1: Join needs at least 2 arguments, got 1`}},
		{`SelectUniqueValue("a")`, []string{`1: SelectUniqueValue needs at least 2 arguments, got 1`}},
		{`InStr("a", "b", 1, 2, 3)`, []string{`1: InStr takes 2 to 4 arguments, got 5`}},
		{`Append(, "x")`, []string{`8: Append: argument 1 (source) is required`}},
		{`Append([nope], [mail])`, []string{`8: unknown source attribute [nope]`}},
		{`Join(",", [a], [b])`, []string{`11: unknown source attribute [a]`, `16: unknown source attribute [b]`}},
		{`Jion([x], Lefft("a", 1))`, []string{`1: unknown function "Jion"`, `6: unknown source attribute [x]`, `11: unknown function "Lefft"`}},
		{`Left([mail], abc)`, []string{`14: unknown name "abc"`}},
		{`Append(Now, "x")`, []string{`8: function Now must be called with parentheses`}},
		{`Switch([mail], "d", "k")`, []string{`1: Switch needs at least 4 arguments, got 3`}},
		{`Switch([mail], "d", "k", "v", "k2")`, []string{`1: Switch: needs an even number of arguments`}},
		{`Replace([mail], , "(", , "x", , )`, []string{`19: Replace: invalid regular expression: missing closing )`}},
		{`Replace([mail], , "(?=x)", , "x", , )`, []string{`19: Replace: invalid regular expression`}},
		{`Replace([mail], , "(?<a>x)", "b", "x", , )`, []string{`30: Replace: regexPattern has no group named "b"`}},
		{`Replace([mail], "x", , , , , )`, []string{`17: Replace: with oldValue, give replacementValue or template`}},
		{`Replace([mail], , "x", , , , )`, []string{`19: Replace: with regexPattern, give replacementValue`}},
		{`Replace([mail], , "x", "g", , , )`, []string{`24: Replace: with regexGroupName, give replacementValue or replacementAttributeName`, `24: Replace: regexPattern has no group named "g"`}},
		{`Replace([mail], , , , "x", , )`, []string{`1: Replace: give oldValue or regexPattern`}},
		{`DateAdd("q", 1, Now())`, []string{`9: DateAdd: interval must be one of yyyy, m, d, ww, h, n, s; got "q"`}},
		{`DateAdd("d", "x", Now())`, []string{`14: DateAdd: value must be an integer`}},
		{`DateDiff("D", Now(), Now())`, []string{`10: DateDiff: interval must be one of`}},
		{`FormatDateTime([mail], "Sometimes", "yyyy", "q")`, []string{`24: FormatDateTime: unknown DateTimeStyles value "sometimes"`, `45: FormatDateTime: "q" is not a standard date format`}},
		{`FormatDateTime([mail], , "'yyyy", )`, []string{`26: FormatDateTime: quoted text`, `35: FormatDateTime: argument 4 (outputFormat) is required`}},
		{`FormatDateTime([mail], , "yyyy", "ffffffff")`, []string{`34: FormatDateTime: "ffffffff" has more than seven f`}},
		{`InStr("a", "b", 0)`, []string{`17: InStr: start must be at least 1, got 0`}},
		{`InStr("a", "b", 1, "vbFuzzyCompare")`, []string{`20: InStr: compareType must be vbTextCompare or vbBinaryCompare`}},
		{`Item([mail], 0)`, []string{`14: Item: index must be at least 1, got 0`}},
		{`Mid([mail], 0, 1)`, []string{`13: Mid: start must be at least 1, got 0`}},
		{`Mid([mail], 1, -1)`, []string{`16: Mid: length must be at least 0, got -1`}},
		{`Left([mail], "x")`, []string{`14: Left: NumChars must be an integer`}},
		{`RandomString(300,0,0,0,0)`, []string{`1: RandomString: length must be 1 to 256, got 300`}},
		{`RandomString(4,2,2,2,0)`, []string{`1: RandomString: length 4 is less than the sum of the minimum counts (6)`}},
		{`RandomString(4,1,0,0,0,"0123456789")`, []string{`1: RandomString: CharactersToAvoid excludes every character of numbers`}},
		{`RandomString(4,-1,0,0,0)`, []string{`1: RandomString: minimum counts cannot be negative`}},
		{`RandomString("x",0,0,0,0)`, []string{`14: RandomString: Length must be an integer`}},
		{`Append([mail], SelectUniqueValue("a", "b"))`, []string{`16: SelectUniqueValue: must be the outermost function`}},
		{`SingleAppRoleAssignment("Admin")`, []string{`25: SingleAppRoleAssignment: argument must be an attribute`}},
		{`IIF([mail] = , "a", "b")`, []string{`14: unexpected "," where a value was expected`}},
	}
	for _, tc := range cases {
		_, err := Compile(tc.expr, Options{KnownAttribute: known})
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%s: got %v, want Errors", tc.expr, err)
			continue
		}
		if len(errs) != len(tc.want) {
			t.Errorf("%s: got %d errors, want %d:\n%v", tc.expr, len(errs), len(tc.want), err)
			continue
		}
		for i, w := range tc.want {
			pos, msg, _ := strings.Cut(w, ": ")
			got := errs[i]
			if strconv.Itoa(got.Position) != pos || !strings.Contains(got.Message, msg) {
				t.Errorf("%s: error %d is %v, want column %s containing %q", tc.expr, i, got, pos, msg)
			}
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string
	}{
		{``, 1, "expression ends where a value was expected"},
		{`Append([mail], "x"`, 19, `Append( opened at column 7 is not closed`},
		{`Append([mail] "x")`, 15, `unexpected string constant in the arguments of Append`},
		{`Append([mail], "x")]`, 20, `unexpected character ']'`},
		{`Append([mail], "x") Append`, 21, `unexpected name "Append" after the end`},
		{`Append([mail, "x")`, 8, `attribute name is not closed`},
		{`Append([], "x")`, 8, `attribute name is empty`},
		{`Append([mail], "x)`, 16, `string is not closed`},
		{`Append([mail], "x\")`, 16, `string is not closed`},
		{`IIF([a] = "b" = "c", "x", "y")`, 15, `comparisons cannot be chained`},
		{`BitAnd(&F, 1)`, 8, `must start a hexadecimal number`},
		{`BitAnd(&H, 1)`, 8, `hexadecimal number has no digits`},
		{`Left("a", -)`, 11, `"-" must be followed by digits`},
		{`Left("a", 99999999999999999999)`, 11, `out of range`},
		{`Append("é", ")`, 13, `string is not closed`},
		{`Append("é", #)`, 13, `unexpected character '#'`},
		{strings.Repeat("Not(", MaxDepth+1) + "[a]" + strings.Repeat(")", MaxDepth+1), 401, "nested more than"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Position != tc.pos || !strings.Contains(se.Message, tc.msg) {
			t.Errorf("Parse(%q) = %v, want column %d: %s", tc.expr, err, tc.pos, tc.msg)
		}
		if _, err := Compile(tc.expr, Options{}); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Compile(%q) = %v", tc.expr, err)
		}
	}
}

func TestParseForms(t *testing.T) {
	cases := []struct{ in, out string }{
		{`Append([a],"b")`, `Append([a], "b")`},
		{"Join(\" \",\n\t[a] , [b])", `Join(" ", [a], [b])`},
		{`Replace([mail], "@contoso.com", , ,"", ,)`, `Replace([mail], "@contoso.com", , , "", , )`},
		{`Switch([IsSoftDeleted], , "False", "True")`, `Switch([IsSoftDeleted], , "False", "True")`},
		{`"Company name: \"Contoso\""`, `"Company name: \"Contoso\""`},
		{`"a\\b"`, `"a\\b"`},
		{`"\d+"`, `"\\d+"`},
		{`IIF([a]>=1,"x","y")`, `IIF([a] >= 1, "x", "y")`},
		{`IIF([a]<>[b],"x","y")`, `IIF([a] <> [b], "x", "y")`},
		{`BitAnd(&hff, -3)`, `BitAnd(&hff, -3)`},
		{`InStr("a","b",1,vbTextCompare)`, `InStr("a", "b", 1, vbTextCompare)`},
		{`Guid( )`, `Guid()`},
		{`[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]`, `[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]`},
		{`[Straße]`, `[Straße]`},
	}
	for _, tc := range cases {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := Format(n); got != tc.out {
			t.Errorf("Format(Parse(%q)) = %q, want %q", tc.in, got, tc.out)
		}
	}
	n, _ := Parse(`Left("é", [x])`)
	if call := n.(*Call); call.Args[1].Pos() != 11 {
		t.Errorf("position of [x] = %d, want 11 (characters, not bytes)", call.Args[1].Pos())
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", `a"b`, `c:\dir\`, "line\nbreak"} {
		n, err := Parse(Quote(s))
		if err != nil {
			t.Fatalf("Parse(Quote(%q)): %v", s, err)
		}
		if got := n.(*String).Value; got != s {
			t.Errorf("Quote round trip of %q gave %q", s, got)
		}
	}
}
