package expression

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fixedNow is the instant Now() returns in tests: Azure's documented
// example value 7/2/2021 3:33:38 PM.
var fixedNow = time.Date(2021, 7, 2, 15, 33, 38, 0, time.UTC)

type attrs = map[string]any

// fileTime computes an AD FILETIME independently of the code under test.
func fileTime(t time.Time) int64 {
	return (t.Unix() + 11644473600) * 10_000_000
}

type evalCase struct {
	name  string
	expr  string
	attrs attrs
	want  any
	// err, when set, is a substring of the expected evaluation error.
	err string
}

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := Compile(tc.expr, Options{})
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.expr, err)
			}
			v, err := x.Eval(&Env{Attributes: tc.attrs, Now: func() time.Time { return fixedNow }})
			if tc.err != "" {
				var ee *EvalError
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s: got (%v, %v), want error containing %q", tc.expr, v, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			if got := v.Native(); !equalNative(got, tc.want) {
				t.Fatalf("%s = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func equalNative(a, b any) bool {
	la, aok := a.([]string)
	lb, bok := b.([]string)
	if aok || bok {
		if !aok || !bok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if la[i] != lb[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestStringFunctions(t *testing.T) {
	runEval(t, []evalCase{
		// Append.
		{"Append/doc", `Append([userPrincipalName], ".test")`, attrs{"userPrincipalName": "John.Doe@contoso.com"}, "John.Doe@contoso.com.test", ""},
		{"Append/null source", `Append([userPrincipalName], ".test")`, nil, nil, ""},
		{"Append/null suffix", `Append("a", [x])`, nil, "a", ""},
		{"Append/alias doc", `Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))`, attrs{"givenName": "John", "surname": "Doe"}, "JohDoe", ""},
		{"Append/list", `Append([l], "x")`, attrs{"l": []string{"a", "b"}}, nil, "multi-valued"},

		// Join.
		{"Join/doc comma", `Join(", ", "", [surname], [givenName])`, attrs{"givenName": "John", "surname": "Doe"}, "Doe, John", ""},
		{"Join/multi-valued", `Join(";", [proxy], "x")`, attrs{"proxy": []string{"a", "b"}}, "a;b;x", ""},
		{"Join/null skipped", `Join(".", [a], [b])`, attrs{"b": "y"}, "y", ""},
		{"Join/empty separator", `Join("", 1000, "x")`, nil, "1000x", ""},

		// Left.
		{"Left/doc", `Left("John Doe", 3)`, nil, "Joh", ""},
		{"Left/zero", `Left("John Doe", 0)`, nil, "", ""},
		{"Left/negative", `Left("John Doe", -1)`, nil, "John Doe", ""},
		{"Left/null", `Left([x], 3)`, nil, "", ""},
		{"Left/short", `Left("Jo", 30)`, nil, "Jo", ""},
		{"Left/characters", `Left("Zoë Ådne", 3)`, nil, "Zoë", ""},
		{"Left/count from attribute", `Left("abc", [n])`, attrs{"n": "2"}, "ab", ""},
		{"Left/bad count", `Left("abc", [n])`, attrs{"n": "two"}, nil, "must be an integer"},

		// Mid.
		{"Mid/start", `Mid("John Doe", 1, 4)`, nil, "John", ""},
		{"Mid/middle", `Mid("John Doe", 6, 3)`, nil, "Doe", ""},
		{"Mid/past end", `Mid("John Doe", 6, 30)`, nil, "Doe", ""},
		{"Mid/start past end", `Mid("John", 9, 2)`, nil, "", ""},
		{"Mid/huge length", `Mid("John", 2, 9223372036854775807)`, nil, "ohn", ""},
		{"Mid/null", `Mid([x], 1, 2)`, nil, nil, ""},
		{"Mid/bad start", `Mid("John", [s], 2)`, attrs{"s": "0"}, nil, "start must be 1 or more"},
		{"Mid/bad length", `Mid("John", 1, [n])`, attrs{"n": int64(-1)}, nil, "length must be 0 or more"},

		// PCase.
		{"PCase/doc default", `PCase([firstName])`, attrs{"firstName": "PABLO GONSALVES (SECOND)"}, "Pablo Gonsalves (Second)", ""},
		{"PCase/doc separators", `PCase([lastName]," '-")`, attrs{"lastName": "PINTO-DE'SILVA"}, "Pinto-De'Silva", ""},
		{"PCase/doc join", `PCase(Join(" ",[firstName],[lastName]))`, attrs{"firstName": "GREGORY", "lastName": "JAMES"}, "Gregory James", ""},
		{"PCase/apostrophe", `PCase("o'neil mc-donald")`, nil, "O'neil Mc-Donald", ""},
		{"PCase/null", `PCase([x])`, nil, nil, ""},

		// StripSpaces.
		{"StripSpaces", `StripSpaces(" a b  c ")`, nil, "abc", ""},
		{"StripSpaces/tabs kept", "StripSpaces(\"a\tb\")", nil, "a\tb", ""},
		{"StripSpaces/null", `StripSpaces([x])`, nil, nil, ""},

		// ToLower / ToUpper.
		{"ToLower/doc", `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))`, attrs{"PreferredFirstName": "John", "PreferredLastName": "Smith"}, "john.smith@contoso.com", ""},
		{"ToLower/invariant", `ToLower("ISTANBUL")`, nil, "istanbul", ""},
		{"ToLower/turkish", `ToLower("ISTANBUL", "tr-TR")`, nil, "ıstanbul", ""},
		{"ToUpper/invariant keeps sharp s", `ToUpper("straße")`, nil, "STRAßE", ""},
		{"ToUpper/turkish", `ToUpper("istanbul", "tr-TR")`, nil, "İSTANBUL", ""},
		{"ToUpper/culture en", `ToUpper("abc", "en-US")`, nil, "ABC", ""},
		{"ToUpper/null", `ToUpper([x])`, nil, nil, ""},

		// Word.
		{"Word/doc space", `Word("The quick brown fox",3," ")`, nil, "brown", ""},
		{"Word/doc many", `Word("This,string!has&many separators",3,",!&#")`, nil, "has", ""},
		{"Word/below 1", `Word("a b", 0, " ")`, nil, "", ""},
		{"Word/too few", `Word("a b", 3, " ")`, nil, "", ""},
		{"Word/null", `Word([x], 1, " ")`, nil, "", ""},
		{"Word/no delimiters found", `Word("abc", 1, ",")`, nil, "abc", ""},
		{"Word/repeated delimiters", `Word("a,,b", 2, ",")`, nil, "b", ""},

		// NormalizeDiacritics.
		{"NormalizeDiacritics/doc", `NormalizeDiacritics([givenName])`, attrs{"givenName": "Zoë"}, "Zoe", ""},
		{"NormalizeDiacritics/ligatures", `NormalizeDiacritics("Ærøskøbing Straße")`, nil, "AEroeskoebing Strasse", ""},
		{"NormalizeDiacritics/stroke", `NormalizeDiacritics("Łódź")`, nil, "Lodz", ""},
		{"NormalizeDiacritics/table", `NormalizeDiacritics("äàâãåáąăā ǣ çčć ďḏ ëèéêęěėē ğ ïîìíīı ľł ñńň öòőõôóō ø řṟ šśșş ťț üùûúůűū ÿýȳ źžż")`, nil, "aaaaaaaaa ae ccc dd eeeeeeee g iiiiii ll nnn ooooooo oe rr ssss tt uuuuuuu yyy zzz", ""},
		{"NormalizeDiacritics/upper", `NormalizeDiacritics("ÄÇĎËĞÏĽÑÖØŘŠŤÜŸŹ")`, nil, "ACDEGILNOOERSTUYZ", ""},
		{"NormalizeDiacritics/null", `NormalizeDiacritics([x])`, nil, nil, ""},

		// InStr.
		{"InStr/doc", `InStr("The quick brown fox","quick")`, nil, int64(5), ""},
		{"InStr/doc binary", `InStr("repEated","e",3,vbBinaryCompare)`, nil, int64(7), ""},
		{"InStr/text", `InStr("repEated","e",3,vbTextCompare)`, nil, int64(4), ""},
		{"InStr/text as string", `InStr("repEated","e",3,"vbTextCompare")`, nil, int64(4), ""},
		{"InStr/not found", `InStr("abc","z")`, nil, int64(0), ""},
		{"InStr/empty needle", `InStr("abc","",2)`, nil, int64(2), ""},
		{"InStr/start past end", `InStr("abc","c",9)`, nil, int64(0), ""},
		{"InStr/characters", `InStr("Zoë Doe","Doe")`, nil, int64(5), ""},
		{"InStr/null", `InStr([x],"a")`, nil, nil, ""},
		{"InStr/bad mode", `InStr("a","a",1,[m])`, attrs{"m": "sideways"}, nil, "compareType"},

		// ConvertToBase64 / ConvertToUTF8Hex.
		{"ConvertToBase64/doc", `ConvertToBase64("Hello world!")`, nil, "SABlAGwAbABvACAAdwBvAHIAbABkACEA", ""},
		{"ConvertToBase64/surrogates", `ConvertToBase64("😀")`, nil, "PdgA3g==", ""},
		{"ConvertToBase64/null", `ConvertToBase64([x])`, nil, nil, ""},
		{"ConvertToUTF8Hex/doc", `ConvertToUTF8Hex("Hello world!")`, nil, "48656C6C6F20776F726C6421", ""},
		{"ConvertToUTF8Hex/accent", `ConvertToUTF8Hex("é")`, nil, "C3A9", ""},
		{"ConvertToUTF8Hex/doc id", `Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))`, attrs{"objectId": "00aa"}, "100030306161", ""},
	})
}

func TestReplace(t *testing.T) {
	runEval(t, []evalCase{
		{"doc 1 old and replacement", `Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )`, attrs{"BusinessTitle": "Product Developer"}, "Software Engineer", ""},
		{"doc 2 template", `Replace([UserID],"<username>", , , , , "<username>@contoso.com")`, attrs{"UserID": "jsmith"}, "jsmith@contoso.com", ""},
		{"doc 3 regex and group reference", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )`, attrs{"telephoneNumber": "+91 9998887777"}, "9998887777", ""},
		{"doc 3 collapse", `Replace([mobile], , "[()\\s-]+", , "", , )`, attrs{"mobile": "+1 (999) 888-7777"}, "+19998887777", ""},
		{"doc 4 group", `Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )`, attrs{"AddressLineData": "545 Tremont Street"}, "888 Tremont Street", ""},
		{"doc 4 suffix", `Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )`, attrs{"userPrincipalName": "jsmith@contoso.com"}, "jsmith", ""},
		{"doc 5 fallback used", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`, attrs{"telephoneNumber": "", "mobile": "+91 8887779999"}, "8887779999", ""},
		{"doc 5 source kept", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`, attrs{"telephoneNumber": "+1 5551234567", "mobile": "+91 8887779999"}, "+1 5551234567", ""},
		{"doc 5 no match", `Replace([t], , "(?<d>\\d{10})", "d", , [mobile], )`, attrs{"mobile": "none"}, nil, ""},
		{"doc 6 remove letters", `Replace([mailNickname], , "[a-zA-Z_]*", , "", , )`, attrs{"mailNickname": "john_doe72"}, "72", ""},
		{"doc strip domain", `Replace([mail], "@contoso.com", , ,"", ,)`, attrs{"mail": "john.doe@contoso.com"}, "john.doe", ""},
		{"case-sensitive", `Replace("A-a", "a", , , "x", , )`, nil, "A-x", ""},
		{"numbered group", `Replace("john.doe", , "(\\w+)\\.(\\w+)", , "$2, $1", , )`, nil, "doe, john", ""},
		{"dollar escapes", `Replace("ab", , "a", , "$$-$&-$'", , )`, nil, "$-a-bb", ""},
		{"unknown group literal", `Replace("ab", , "a", , "${nope}", , )`, nil, "${nope}b", ""},
		{"null source", `Replace([x], "a", , , "b", , )`, nil, nil, ""},
		{"dynamic pattern", `Replace("a1b2", , [p], , "#", , )`, attrs{"p": "\\d"}, "a#b#", ""},
		{"bad dynamic pattern", `Replace("a", , [p], , "#", , )`, attrs{"p": "("}, nil, "invalid regular expression"},
		{"five arguments", `Replace([mail], "@x", , , "")`, attrs{"mail": "a@x"}, "a", ""},
	})
}

func TestListFunctions(t *testing.T) {
	proxies := attrs{"proxyAddresses": []string{"SMTP:a@x", "smtp:b@x", "SMTP:a@x"}}
	runEval(t, []evalCase{
		{"Count/list", `Count([proxyAddresses])`, proxies, int64(3), ""},
		{"Count/single", `Count([mail])`, attrs{"mail": "a"}, int64(1), ""},
		{"Count/null", `Count([mail])`, nil, int64(0), ""},
		{"Item/doc", `Item([proxyAddresses], 1)`, proxies, "SMTP:a@x", ""},
		{"Item/second", `Item([proxyAddresses], 2)`, proxies, "smtp:b@x", ""},
		{"Item/past end", `Item([proxyAddresses], 9)`, proxies, nil, ""},
		{"Item/index 0 at run time", `Item([proxyAddresses], [i])`, attrs{"proxyAddresses": []string{"a"}, "i": "0"}, nil, "numbered from 1"},
		{"RemoveDuplicates/doc", `RemoveDuplicates([proxyAddresses])`, proxies, []string{"SMTP:a@x", "smtp:b@x"}, ""},
		{"RemoveDuplicates/single", `RemoveDuplicates([m])`, attrs{"m": "a"}, "a", ""},
		{"Split/doc", `Split([extensionAttribute5], ",")`, attrs{"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"}, []string{"PermissionSetOne", "PermissionSetTwo"}, ""},
		{"Split/null", `Split([x], ",")`, nil, nil, ""},
		{"Split/empty parts", `Split("a,,b,", ",")`, nil, []string{"a", "b"}, ""},
		{"Split/no delimiter", `Split("a,b", "")`, nil, []string{"a,b"}, ""},
		{"Split then Count", `Count(Split("a;b;c", ";"))`, nil, int64(3), ""},
	})
}

func TestLogicFunctions(t *testing.T) {
	runEval(t, []evalCase{
		// IIF.
		{"IIF/doc true", `IIF([country]="USA",[country],[department])`, attrs{"country": "USA", "department": "Sales"}, "USA", ""},
		{"IIF/doc false", `IIF([country]="USA",[country],[department])`, attrs{"country": "NZ", "department": "Sales"}, "Sales", ""},
		{"IIF/doc AND", `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`, attrs{"country": "USA", "state": "CA"}, "True", ""},
		{"IIF/doc OR", `IIF([country]="USA","True",IIF([state]="CA","True","False"))`, attrs{"country": "NZ", "state": "CA"}, "True", ""},
		{"IIF/null equals empty", `IIF([country]="","Other",[country])`, nil, "Other", ""},
		{"IIF/IsPresent condition", `IIF(IsPresent([country]),[country],"Other")`, nil, "Other", ""},
		{"IIF/not equal", `IIF([a]<>"x","yes","no")`, attrs{"a": "y"}, "yes", ""},
		{"IIF/numeric compare", `IIF([n] > 5, "big", "small")`, attrs{"n": int64(10)}, "big", ""},
		{"IIF/numeric string vs number", `IIF([n] >= 10, "big", "small")`, attrs{"n": "9"}, "small", ""},
		{"IIF/string order", `IIF([a] < "b", "before", "after")`, attrs{"a": "a"}, "before", ""},
		{"IIF/order with null", `IIF([a] < "b", "before", "after")`, nil, "after", ""},
		{"IIF/bool attribute", `IIF([enabled], "on", "off")`, attrs{"enabled": true}, "on", ""},
		{"IIF/bool compare", `IIF([enabled] = "True", "on", "off")`, attrs{"enabled": true}, "on", ""},
		{"IIF/dates", `IIF(CDate("2021-01-01") < Now(), "past", "future")`, nil, "past", ""},
		{"IIF/lazy branches", `IIF("True", "ok", Mid("a", [z], 1))`, nil, "ok", ""},
		{"IIF/not a condition", `IIF([a], "t", "f")`, attrs{"a": "maybe"}, nil, "neither true nor false"},

		// Switch.
		{"Switch/doc", `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`, attrs{"state": "QLD"}, "Australia/Brisbane", ""},
		{"Switch/default", `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")`, attrs{"state": "WA"}, "Australia/Sydney", ""},
		{"Switch/case-sensitive", `Switch([state], "none", "qld", "lower")`, attrs{"state": "QLD"}, "none", ""},
		{"Switch/doc ToLower", `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`, attrs{"statusFlag": "TRUE"}, "1", ""},
		{"Switch/doc empty key", `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, nil, "0", ""},
		{"Switch/doc empty key present", `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, attrs{"statusFlag": "true"}, "1", ""},
		{"Switch/active false", `Switch([IsSoftDeleted], , "False", "True", "True", "False")`, attrs{"IsSoftDeleted": false}, "True", ""},
		{"Switch/active true", `Switch([IsSoftDeleted], , "False", "True", "True", "False")`, attrs{"IsSoftDeleted": true}, "False", ""},
		{"Switch/omitted default", `Switch([x], , "a", "b")`, attrs{"x": "z"}, nil, ""},
		{"Switch/doc country", `Switch([country],[country],"","Other")`, attrs{"country": "NZ"}, "NZ", ""},
		{"Switch/doc country null", `Switch([country],[country],"","Other")`, nil, "Other", ""},
		{"Switch/doc DateDiff", "Switch([Active], , \n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"), \n  \"0\", \"False\")", attrs{"Active": "1", "StatusHireDate": "2021-07-05"}, "True", ""},
		{"Switch/doc DateDiff later", "Switch([Active], , \n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"), \n  \"0\", \"False\")", attrs{"Active": "1", "StatusHireDate": "2021-08-05"}, "False", ""},
		{"Switch/multi-valued source", `Switch([l], "d", "a", "b")`, attrs{"l": []string{"a", "b"}}, nil, "multi-valued"},

		// Coalesce.
		{"Coalesce/doc", `Coalesce([mail],[userPrincipalName])`, attrs{"userPrincipalName": "John.Doe@contoso.com"}, "John.Doe@contoso.com", ""},
		{"Coalesce/first", `Coalesce([mail],[userPrincipalName])`, attrs{"mail": "m@x", "userPrincipalName": "u@x"}, "m@x", ""},
		{"Coalesce/empty skipped", `Coalesce([mail],[userPrincipalName])`, attrs{"mail": "", "userPrincipalName": "u@x"}, "u@x", ""},
		{"Coalesce/default", `Coalesce([mail],[upn],"none")`, nil, "none", ""},
		{"Coalesce/empty default", `Coalesce([mail],"")`, nil, "", ""},
		{"Coalesce/all null", `Coalesce([mail],[upn])`, nil, nil, ""},

		// Not and CBool.
		{"Not/false", `Not([IsSoftDeleted])`, attrs{"IsSoftDeleted": false}, true, ""},
		{"Not/true", `Not([IsSoftDeleted])`, attrs{"IsSoftDeleted": true}, false, ""},
		{"Not/string True", `Not("True")`, nil, false, ""},
		{"Not/string false", `Not("false")`, nil, true, ""},
		{"Not/other", `Not([x])`, nil, true, ""},
		{"CBool/doc equal", `CBool([attribute1] = [attribute2])`, attrs{"attribute1": "a", "attribute2": "a"}, true, ""},
		{"CBool/doc different", `CBool([attribute1] = [attribute2])`, attrs{"attribute1": "a", "attribute2": "b"}, false, ""},
		{"CBool/non-zero", `CBool(5)`, nil, true, ""},
		{"CBool/zero string", `CBool("0")`, nil, false, ""},
		{"CBool/float string", `CBool("0.5")`, nil, true, ""},
		{"CBool/null", `CBool([x])`, nil, false, ""},
		{"CBool/text", `CBool("abc")`, nil, nil, "not a number or a boolean"},

		// Null tests.
		{"IsNull/absent", `IsNull([displayName])`, nil, true, ""},
		{"IsNull/empty", `IsNull([displayName])`, attrs{"displayName": ""}, false, ""},
		{"IsNull/empty list", `IsNull([l])`, attrs{"l": []string{}}, true, ""},
		{"IsNullOrEmpty/absent", `IsNullOrEmpty([displayName])`, nil, true, ""},
		{"IsNullOrEmpty/empty", `IsNullOrEmpty([displayName])`, attrs{"displayName": ""}, true, ""},
		{"IsNullOrEmpty/value", `IsNullOrEmpty([displayName])`, attrs{"displayName": "x"}, false, ""},
		{"IsPresent/value", `IsPresent([displayName])`, attrs{"displayName": "x"}, true, ""},
		{"IsPresent/empty", `IsPresent([displayName])`, attrs{"displayName": ""}, false, ""},
		{"IsString/string", `IsString([a])`, attrs{"a": "x"}, true, ""},
		{"IsString/empty string", `IsString([a])`, attrs{"a": ""}, true, ""},
		{"IsString/number", `IsString([a])`, attrs{"a": int64(3)}, false, ""},
		{"IsString/null", `IsString([a])`, nil, false, ""},
		{"IsString/function", `IsString(Count([a]))`, nil, false, ""},

		// Redact.
		{"Redact/doc attribute", `Redact([userPrincipalName])`, attrs{"userPrincipalName": "a@x"}, "a@x", ""},
		{"Redact/doc string", `Redact("StringToBeRedacted")`, nil, "StringToBeRedacted", ""},
	})
}

func TestIgnoreFlowIfNullOrEmpty(t *testing.T) {
	cases := []struct {
		expr    string
		attrs   attrs
		ignored bool
		want    any
	}{
		{`IgnoreFlowIfNullOrEmpty([department])`, nil, true, nil},
		{`IgnoreFlowIfNullOrEmpty([department])`, attrs{"department": ""}, true, nil},
		{`IgnoreFlowIfNullOrEmpty([department])`, attrs{"department": "Sales"}, false, "Sales"},
		{`IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))`, attrs{"prefix": "3443"}, false, "Dr."},
		{`IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))`, attrs{"prefix": "1"}, true, nil},
		{`Redact(IgnoreFlowIfNullOrEmpty([x]))`, nil, true, nil},
		{`Coalesce(IgnoreFlowIfNullOrEmpty([x]), "y")`, nil, false, "y"},
	}
	for _, tc := range cases {
		x, err := Compile(tc.expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := x.Eval(&Env{Attributes: tc.attrs})
		if err != nil {
			t.Fatal(err)
		}
		if v.Ignored() != tc.ignored || v.Native() != tc.want {
			t.Errorf("%s: ignored=%v value=%v, want ignored=%v value=%v", tc.expr, v.Ignored(), v.Native(), tc.ignored, tc.want)
		}
	}
}

func TestNumberFunctions(t *testing.T) {
	runEval(t, []evalCase{
		{"BitAnd/doc", `BitAnd(&HF, &HF7)`, nil, int64(7), ""},
		{"BitAnd/attribute", `BitAnd([userAccountControl], 2)`, attrs{"userAccountControl": "514"}, int64(2), ""},
		{"BitAnd/hex text", `BitAnd("&H10", 48)`, nil, int64(16), ""},
		{"BitAnd/int64", `BitAnd([uac], 512)`, attrs{"uac": int64(66048)}, int64(512), ""},
		{"BitAnd/null", `BitAnd([uac], 2)`, nil, nil, ""},
		{"BitAnd/not a number", `BitAnd([uac], 2)`, attrs{"uac": "abc"}, nil, "must be an integer"},
		{"CStr/doc", `CStr([dn])`, attrs{"dn": "cn=Joe,dc=contoso,dc=com"}, "cn=Joe,dc=contoso,dc=com", ""},
		{"CStr/number", `CStr(42)`, nil, "42", ""},
		{"CStr/bool", `CStr([b])`, attrs{"b": true}, "True", ""},
		{"CStr/float", `CStr([f])`, attrs{"f": 1.5}, "1.5", ""},
		{"CStr/date", `CStr(CDate("2021-06-30T10:00:00Z"))`, nil, "6/30/2021 10:00:00 AM", ""},
		{"CStr/null", `CStr([x])`, nil, nil, ""},
		{"CStr/list", `CStr([l])`, attrs{"l": []string{"a", "b"}}, nil, "multi-valued"},
	})
}

func TestDateFunctions(t *testing.T) {
	hire := attrs{"StatusHireDate": "2012-03-16-07:00"}
	runEval(t, []evalCase{
		// CDate.
		{"CDate/doc 1", `CDate([StatusHireDate])`, attrs{"StatusHireDate": "2020-03-16-07:00"}, "3/16/2020 7:00:00 AM", ""},
		{"CDate/doc 2", `CDate("2021-06-30+08:00")`, nil, "6/29/2021 4:00:00 PM", ""},
		{"CDate/doc 3", `CDate("2009-06-15T01:45:30-07:00")`, nil, "6/15/2009 8:45:30 AM", ""},
		{"CDate/US", `CDate("8/25/2021 5:41:18 PM")`, nil, "8/25/2021 5:41:18 PM", ""},
		{"CDate/fraction", `CDate("2021-08-25T17:41:18.1234567Z")`, nil, "8/25/2021 5:41:18 PM", ""},
		{"CDate/generalized time", `CDate("20150123105347.1Z")`, nil, "1/23/2015 10:53:47 AM", ""},
		{"CDate/RFC 1123", `CDate("Wed, 25 Aug 2021 17:41:18 GMT")`, nil, "8/25/2021 5:41:18 PM", ""},
		{"CDate/null", `CDate([x])`, nil, nil, ""},
		{"CDate/not a date", `CDate("soon")`, nil, nil, "not a date"},
		{"CDate/invalid day", `CDate("2021-02-30")`, nil, nil, "not a date"},

		// DateAdd, Azure's table.
		{"DateAdd/doc 7 days", `DateAdd("d", 7, CDate([StatusHireDate]))`, hire, "3/23/2012 7:00:00 AM", ""},
		{"DateAdd/doc -10 days", `DateAdd("d", -10, CDate([StatusHireDate]))`, hire, "3/6/2012 7:00:00 AM", ""},
		{"DateAdd/doc 2 weeks", `DateAdd("ww", 2, CDate([StatusHireDate]))`, hire, "3/30/2012 7:00:00 AM", ""},
		{"DateAdd/doc 10 months", `DateAdd("m", 10, CDate([StatusHireDate]))`, hire, "1/16/2013 7:00:00 AM", ""},
		{"DateAdd/doc 2 years", `DateAdd("yyyy", 2, CDate([StatusHireDate]))`, hire, "3/16/2014 7:00:00 AM", ""},
		{"DateAdd/hours", `DateAdd("h", 5, CDate([StatusHireDate]))`, hire, "3/16/2012 12:00:00 PM", ""},
		{"DateAdd/minutes", `DateAdd("n", 90, CDate([StatusHireDate]))`, hire, "3/16/2012 8:30:00 AM", ""},
		{"DateAdd/seconds", `DateAdd("s", -1, CDate([StatusHireDate]))`, hire, "3/16/2012 6:59:59 AM", ""},
		{"DateAdd/month end", `DateAdd("m", 1, CDate("2021-01-31"))`, nil, "2/28/2021 12:00:00 AM", ""},
		{"DateAdd/leap year", `DateAdd("yyyy", 1, CDate("2020-02-29"))`, nil, "2/28/2021 12:00:00 AM", ""},
		{"DateAdd/string date", `DateAdd("d", 1, "2021-06-30")`, nil, "7/1/2021 12:00:00 AM", ""},
		{"DateAdd/null date", `DateAdd("d", 1, [x])`, nil, nil, ""},
		{"DateAdd/bad interval", `DateAdd([i], 1, Now())`, attrs{"i": "q"}, nil, "interval must be one of"},

		// DateDiff, Azure's table.
		{"DateDiff/doc positive days", `DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))`, nil, int64(13), ""},
		{"DateDiff/doc negative days", `DateDiff("d", "8/25/2021 5:41:18 PM", CDate([StatusHireDate]))`, hire, int64(-3449), ""},
		{"DateDiff/doc weeks", `DateDiff("ww", "8/25/2021 5:41:18 PM", CDate([StatusHireDate]))`, hire, int64(-493), ""},
		{"DateDiff/doc months", `DateDiff("m", "8/25/2021 5:41:18 PM", CDate([StatusHireDate]))`, hire, int64(-113), ""},
		{"DateDiff/doc years", `DateDiff("yyyy", "8/25/2021 5:41:18 PM", CDate([StatusHireDate]))`, hire, int64(-9), ""},
		{"DateDiff/doc same", `DateDiff("d", "2021-08-31+08:00", "2021-08-31+08:00")`, nil, int64(0), ""},
		{"DateDiff/doc hours", `DateDiff("h", "2021-08-24", "2021-08-25")`, nil, int64(24), ""},
		{"DateDiff/doc minutes", `DateDiff("n", "2021-08-24", "2021-08-25")`, nil, int64(1440), ""},
		{"DateDiff/doc seconds", `DateDiff("s", "2021-08-24", "2021-08-25")`, nil, int64(86400), ""},
		{"DateDiff/doc Now", `DateDiff("d", Now(), CDate([StatusHireDate]))`, attrs{"StatusHireDate": "2021-07-12T15:33:38Z"}, int64(10), ""},
		{"DateDiff/not a date", `DateDiff("d", "x", Now())`, nil, nil, "not a date"},

		// DateFromNum / NumFromDate.
		{"DateFromNum/doc", `DateFromNum(129699324000000000)`, nil, "1/1/2012 11:00:00 PM", ""},
		{"DateFromNum/attribute", `DateFromNum([lastLogonTimestamp])`, attrs{"lastLogonTimestamp": "129699324000000000"}, "1/1/2012 11:00:00 PM", ""},
		{"DateFromNum/zero", `DateFromNum(0)`, nil, "1/1/1601 12:00:00 AM", ""},
		{"DateFromNum/never", `DateFromNum(9223372036854775807)`, nil, nil, "is not a date"},
		{"NumFromDate/round trip", `NumFromDate(DateFromNum(129699324000000000))`, nil, int64(129699324000000000), ""},
		{"NumFromDate/doc Workday", `NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))`, attrs{"ContractEndDate": "2020-12-31-08:00"}, fileTime(time.Date(2021, 1, 1, 7, 59, 59, 0, time.UTC)), ""},
		{"NumFromDate/doc SuccessFactors", `NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))`, attrs{"endDate": "12/31/2020 09:00:00 AM"}, fileTime(time.Date(2021, 1, 1, 7, 59, 59, 0, time.UTC)), ""},
		{"NumFromDate/far future", `NumFromDate("9999-12-31T00:00:00Z")`, nil, fileTime(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), ""},
		{"NumFromDate/before 1601", `NumFromDate("1600-12-31")`, nil, nil, "before 1601"},

		// Now.
		{"Now/doc", `Now()`, nil, "7/2/2021 3:33:38 PM", ""},

		// FormatDateTime.
		{"FormatDateTime/doc", `FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`, attrs{"extensionAttribute1": "20150123105347.1Z"}, "2015-01-23", ""},
		{"FormatDateTime/names", `FormatDateTime("2021-08-05", , "yyyy-MM-dd", "dddd, MMMM d yyyy")`, nil, "Thursday, August 5 2021", ""},
		{"FormatDateTime/abbreviations", `FormatDateTime("Thu 05 Aug 21", , "ddd dd MMM yy", "yyyy-MM-dd")`, nil, "2021-08-05", ""},
		{"FormatDateTime/12 hour", `FormatDateTime("2021-08-05 13:04:05", , "yyyy-MM-dd HH:mm:ss", "h:mm tt")`, nil, "1:04 PM", ""},
		{"FormatDateTime/offset to UTC", `FormatDateTime("2021-08-05T23:00:00+02:00", , "yyyy-MM-ddTHH:mm:sszzz", "yyyy-MM-dd HH:mm zzz")`, nil, "2021-08-05 21:00 +00:00", ""},
		{"FormatDateTime/standard o", `FormatDateTime("20210805", , "yyyyMMdd", "o")`, nil, "2021-08-05T00:00:00.0000000Z", ""},
		{"FormatDateTime/standard s", `FormatDateTime("8/5/2021 1:02:03 PM", , "G", "s")`, nil, "", "does not match"},
		{"FormatDateTime/standard G in", `FormatDateTime("08/05/2021 13:02:03", , "G", "s")`, nil, "2021-08-05T13:02:03", ""},
		{"FormatDateTime/F drops point", `FormatDateTime("2021-08-05 10:00:00", , "yyyy-MM-dd HH:mm:ss", "HH:mm:ss.FFF")`, nil, "10:00:00", ""},
		{"FormatDateTime/quoted literal", `FormatDateTime("2021-08-05", , "yyyy-MM-dd", "'Day' d 'of' M")`, nil, "Day 5 of 8", ""},
		{"FormatDateTime/white space default", `FormatDateTime("  2021-08-05 ", , "yyyy-MM-dd", "d")`, nil, "08/05/2021", ""},
		{"FormatDateTime/white space None", `FormatDateTime(" 2021-08-05", "None", "yyyy-MM-dd", "d")`, nil, nil, "does not match"},
		{"FormatDateTime/inner white", `FormatDateTime("2021-08-05   10:00", "AllowWhiteSpaces", "yyyy-MM-dd HH:mm", "HH")`, nil, "10", ""},
		{"FormatDateTime/time only", `FormatDateTime("10:00", "NoCurrentDateDefault", "HH:mm", "yyyy-MM-dd")`, nil, "0001-01-01", ""},
		{"FormatDateTime/time only today", `FormatDateTime("10:00", , "HH:mm", "yyyy-MM-dd")`, nil, "2021-07-02", ""},
		{"FormatDateTime/null", `FormatDateTime([x], , "yyyy", "yy")`, nil, nil, ""},
		{"FormatDateTime/mismatch", `FormatDateTime("2021/08/05", , "yyyy-MM-dd", "d")`, nil, nil, "does not match"},
		{"FormatDateTime/dynamic formats", `FormatDateTime("2021-08-05", [s], [in], [out])`, attrs{"s": "AllowLeadingWhite", "in": "yyyy-MM-dd", "out": "MM/yyyy"}, "08/2021", ""},
		{"FormatDateTime/dynamic bad format", `FormatDateTime("2021-08-05", , [in], "d")`, attrs{"in": "q"}, nil, "not a standard date format"},
	})
}

func TestGeneratedValues(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	x, err := Compile(`Guid()`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := x.Eval(&Env{})
	b, _ := x.Eval(&Env{})
	as, _ := a.Text()
	bs, _ := b.Text()
	if !guid.MatchString(as) || as == bs {
		t.Errorf("Guid() gave %q and %q", as, bs)
	}

	count := func(s, set string) int {
		n := 0
		for _, r := range s {
			if strings.ContainsRune(set, r) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		expr                                  string
		length, numbers, specials, caps, lows int
		avoid                                 string
	}{
		{`RandomString(6,3,0,0,3)`, 6, 3, 0, 0, 3, ""},
		{`RandomString(10,2,2,2,1,"?,")`, 10, 2, 2, 2, 1, "?,"},
		{`RandomString(256,0,0,0,0)`, 256, 0, 0, 0, 0, ""},
		{`Redact(RandomString(6,3,0,0,3))`, 6, 3, 0, 0, 3, ""},
		{`RandomString([n],1,1,1,1,"01234abcdef")`, 12, 1, 1, 1, 1, "01234abcdef"},
	}
	for _, tc := range cases {
		x, err := Compile(tc.expr, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		for range 50 {
			v, err := x.Eval(&Env{Attributes: attrs{"n": "12"}})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := v.Text()
			if len(s) != tc.length || count(s, digits) < tc.numbers || count(s, special) < tc.specials ||
				count(s, upper) < tc.caps || count(s, lower) < tc.lows || count(s, tc.avoid) > 0 {
				t.Fatalf("%s gave %q", tc.expr, s)
			}
			if tc.specials == 0 && count(s, special) > 0 {
				t.Fatalf("%s gave special characters: %q", tc.expr, s)
			}
		}
	}
	runEval(t, []evalCase{
		{"RandomString/dynamic too long", `RandomString([n],0,0,0,0)`, attrs{"n": "300"}, nil, "length must be 1 to 256"},
		{"RandomString/dynamic null", `RandomString([n],0,0,0,0)`, nil, nil, "is null"},
	})
}

func TestSelectUniqueValue(t *testing.T) {
	const expr = `SelectUniqueValue( 
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"), 
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )`
	x, err := Compile(expr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	john := attrs{"PreferredFirstName": "John", "PreferredLastName": "Smith"}
	for _, tc := range []struct {
		taken []string
		want  string
		err   string
	}{
		{nil, "John.Smith@contoso.com", ""},
		{[]string{"John.Smith@contoso.com"}, "J.Smith@contoso.com", ""},
		{[]string{"John.Smith@contoso.com", "J.Smith@contoso.com"}, "Jo.Smith@contoso.com", ""},
		{[]string{"John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com"}, "", "already exists"},
	} {
		var asked []string
		v, err := x.Eval(&Env{Attributes: john, Exists: func(value string) (bool, error) {
			asked = append(asked, value)
			for _, s := range tc.taken {
				if s == value {
					return true, nil
				}
			}
			return false, nil
		}})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("taken %v: got %v, %v; want error %q", tc.taken, v, err, tc.err)
			}
			continue
		}
		if s, _ := v.Text(); err != nil || s != tc.want || len(asked) != len(tc.taken)+1 {
			t.Errorf("taken %v: got %v (%v) after asking %v; want %q", tc.taken, v, err, asked, tc.want)
		}
	}
	if _, err := x.Eval(&Env{Attributes: john}); err == nil || !strings.Contains(err.Error(), "no uniqueness check") {
		t.Errorf("without Exists: %v", err)
	}
	failing := errors.New("target unreachable")
	_, err = x.Eval(&Env{Attributes: john, Exists: func(string) (bool, error) { return false, failing }})
	if err == nil || !strings.Contains(err.Error(), "target unreachable") {
		t.Errorf("failing Exists: %v", err)
	}
}

func TestAppRoleFunctions(t *testing.T) {
	roles := attrs{"appRoleAssignments": []string{`{"id":"1","value":"Admin","displayName":"Administrator"}`, "Reader", "Admin"}}
	runEval(t, []evalCase{
		{"SingleAppRoleAssignment", `SingleAppRoleAssignment([appRoleAssignments])`, roles, "Admin", ""},
		{"SingleAppRoleAssignment/one", `SingleAppRoleAssignment([appRoleAssignments])`, attrs{"appRoleAssignments": "Reader"}, "Reader", ""},
		{"SingleAppRoleAssignment/none", `SingleAppRoleAssignment([appRoleAssignments])`, nil, nil, ""},
		{"SingleAppRoleAssignment/display name", `SingleAppRoleAssignment([appRoleAssignments])`, attrs{"appRoleAssignments": `{"displayName":"Owner"}`}, "Owner", ""},
		{"AppRoleAssignmentsComplex", `AppRoleAssignmentsComplex([appRoleAssignments])`, roles, []string{"Admin", "Reader"}, ""},
		{"AssertiveAppRoleAssignmentsComplex", `AssertiveAppRoleAssignmentsComplex([appRoleAssignments])`, roles, []string{"Admin", "Reader"}, ""},
		{"AssertiveAppRoleAssignmentsComplex/none", `AssertiveAppRoleAssignmentsComplex([appRoleAssignments])`, nil, nil, ""},
	})
}

func TestExprMetadata(t *testing.T) {
	x, err := Compile(`Redact(Join(" ", [givenName], [surname], [givenName]))`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Attributes(); len(got) != 2 || got[0] != "givenName" || got[1] != "surname" {
		t.Errorf("Attributes() = %v", got)
	}
	if !x.Calls("Redact") || !x.Calls("Join") || x.Calls("Left") || x.TopLevel() != "Redact" {
		t.Errorf("Calls/TopLevel wrong: %q", x.TopLevel())
	}
	if x.Source() == "" {
		t.Error("Source() is empty")
	}
	y, _ := Compile(`[mail]`, Options{})
	if y.TopLevel() != "" {
		t.Errorf("TopLevel of an attribute = %q", y.TopLevel())
	}
	if len(Functions()) != 44 {
		t.Errorf("Functions() has %d entries, want 44", len(Functions()))
	}
	if p, v, ok := Parameters("Join"); !ok || !v || p[0] != "separator" {
		t.Errorf("Parameters(Join) = %v %v %v", p, v, ok)
	}
	if _, _, ok := Parameters("Nope"); ok {
		t.Error("Parameters(Nope) found")
	}
}
