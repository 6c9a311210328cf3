package expression

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are documented expressions and malformed variants of them.
var fuzzSeeds = []string{
	`Append([userPrincipalName], ".test")`,
	`BitAnd(&HF, &HF7)`,
	`CBool([attribute1] = [attribute2])`,
	`DateAdd("d", -10, CDate([StatusHireDate]))`,
	`DateDiff("ww", Now(), CDate([StatusHireDate]))`,
	`FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`,
	`IIF([country]="USA",IIF([state]="CA","True","False"),"False")`,
	`InStr("repEated","e",3,vbBinaryCompare)`,
	`Join(", ", "", [surname], [givenName])`,
	`NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))`,
	`PCase([lastName]," '-")`,
	`RandomString(10,2,2,2,1,"?,")`,
	`Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
	`Replace([mail], "@contoso.com", , ,"", ,)`,
	`SelectUniqueValue(Join("@", [a], "x.com"), Join("@", Mid([a], 1, 1), "x.com"))`,
	`Switch([IsSoftDeleted], , "False", "True", "True", "False")`,
	`Word("This,string!has&many separators",3,",!&#")`,
	`"Company name: \"Contoso\""`,
	`Append([mail`, `Append("x)`, `IIF([a]=,"x")`, `&H`, `Left("a", -)`, `((((`, `[]`, `Guid( )`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	sample := map[string]any{
		"userPrincipalName": "john.doe@contoso.com", "mail": "jd@contoso.com", "a": "Zoë",
		"StatusHireDate": "2012-03-16-07:00", "country": "USA", "state": "CA",
		"proxyAddresses": []string{"SMTP:a@x", "smtp:b@x"}, "IsSoftDeleted": true, "n": int64(3),
	}
	f.Fuzz(func(t *testing.T, src string) {
		maxPos := utf8.RuneCountInString(src) + 1
		tree, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Position < 1 || se.Position > maxPos {
				t.Fatalf("Parse(%q): bad error %v", src, err)
			}
		} else {
			text := Format(tree)
			again, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse(Format(Parse(%q))) = %q: %v", src, text, err)
			}
			if Format(again) != text {
				t.Fatalf("formatting %q is not stable: %q then %q", src, text, Format(again))
			}
		}
		x, err := Compile(src, Options{})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Compile(%q): bad error %v", src, err)
			}
			for _, e := range errs {
				if e.Position < 1 || e.Position > maxPos {
					t.Fatalf("Compile(%q): position %d out of range", src, e.Position)
				}
			}
			return
		}
		env := &Env{Attributes: sample, Exists: func(string) (bool, error) { return false, nil }}
		if _, err := x.Eval(env); err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Eval(%q): untyped error %v", src, err)
			}
		}
	})
}
